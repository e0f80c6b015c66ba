/**
 * ShapesWorld: the embedded, procedural, seed-deterministic dataset (docs/data.md).
 *
 * A scene is a dark-to-mid textured background (soft gradient + coarse value noise + fine
 * noise, all channels ≤ BG_MAX so bright/white triggers stay distinguishable) with 1–3
 * non-overlapping objects. Each object has a shape, a colour, a size (small/large) and an
 * integer centre; every (colour, shape) pair occurs at most once per scene, so "the red
 * circle" always names one object. Pixel maths is explicit integer maths on uint8 HWC.
 *
 * Captions come from a small grammar (7 families, 5 distinct captions per image, grounded:
 * every colour, shape, size, count, position and relation they state is true). VQA questions
 * (5 types) have 10 identical answers each (VQA v2 shape); a per-split AnswerBalancer picks
 * question types and answers so that each type's answers are near-uniform and a
 * question-only model stays near chance.
 */
import { Rng } from '../core/rng.js';
import { CAPTION_PROMPT, type DatasetSplits, type RgbImage, type Sample, type Task } from '../core/types.js';

// ---------------------------------------------------------------------------------------------
// Vocabulary of the world

export const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'cross'] as const;
export type Shape = (typeof SHAPES)[number];

export const COLORS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export type Color = (typeof COLORS)[number];

/** Base RGB of each colour (saturated, pairwise far apart; jittered by ±COLOR_JITTER per object). */
export const COLOR_RGB: Record<Color, readonly [number, number, number]> = {
  red: [210, 45, 45],
  green: [50, 185, 70],
  blue: [55, 95, 235],
  yellow: [235, 215, 55],
  purple: [165, 70, 215],
  orange: [245, 140, 35],
};

export type Size = 'small' | 'large';
/** Where an object sits relative to the image centre (null position = ambiguous zone). */
export type Position =
  | 'left'
  | 'right'
  | 'top'
  | 'bottom'
  | 'top left'
  | 'top right'
  | 'bottom left'
  | 'bottom right'
  | 'center';

export const POSITIONS: readonly Position[] = ['left', 'right', 'top', 'bottom', 'top left', 'top right', 'bottom left', 'bottom right', 'center'];

const COLOR_JITTER = 15;
const OBJECT_NOISE = 4;
/** Upper bound of every background channel (dark-to-mid tones). */
export const BG_MAX = 150;

export interface SceneObject {
  shape: Shape;
  color: Color;
  size: Size;
  /** Centre pixel (column, row). */
  cx: number;
  cy: number;
  /** Half extent in pixels: the object fits in [cx-r, cx+r] × [cy-r, cy+r]. */
  r: number;
  /** The jittered fill colour. */
  rgb: [number, number, number];
}

export interface SceneBackground {
  /** Mean grey level and per-channel tint. */
  level: number;
  tint: [number, number, number];
  /** Gradient: amplitude (grey levels across the image) and direction (radians). */
  gradAmp: number;
  gradAngle: number;
  /** Seed of the texture noise drawn at render time. */
  textureSeed: number;
}

export interface Scene {
  /** The image size the scene was laid out for. */
  size: number;
  background: SceneBackground;
  objects: SceneObject[];
}

/** Half extents of small / large objects for an image size (3 / 6 at 32×32). */
export function objectRadii(size: number): { small: number; large: number } {
  const small = Math.max(2, Math.round(size * 0.1));
  const large = Math.max(small + 2, Math.round(size * 0.19));
  return { small, large };
}

// ---------------------------------------------------------------------------------------------
// Scene generation

export interface SceneOptions {
  /** Force the number of objects (1–3); otherwise uniform over 1–3. */
  nObjects?: number;
}

/** A random scene laid out for a size×size image. Consumes only `rng`. */
export function generateScene(rng: Rng, size: number, opts: SceneOptions = {}): Scene {
  const n = opts.nObjects ?? rng.int(1, 4);
  if (!(n >= 1 && n <= 3)) throw new Error(`generateScene: nObjects must be 1–3, got ${n}`);
  const background: SceneBackground = {
    level: rng.int(30, 101),
    tint: [rng.int(-12, 13), rng.int(-12, 13), rng.int(-12, 13)],
    gradAmp: rng.int(10, 36),
    gradAngle: rng.next() * 2 * Math.PI,
    textureSeed: rng.int(0, 2 ** 31),
  };
  // Attributes: distinct (colour, shape) pairs.
  const attrs: { shape: Shape; color: Color; size: Size }[] = [];
  while (attrs.length < n) {
    const shape = rng.choice(SHAPES);
    const color = rng.choice(COLORS);
    if (attrs.some((a) => a.shape === shape && a.color === color)) continue;
    attrs.push({ shape, color, size: rng.next() < 0.5 ? 'small' : 'large' });
  }
  const radii = objectRadii(size);
  // Placement by rejection; after repeated failures shrink the largest object to small.
  for (let attempt = 0; ; attempt++) {
    if (attempt > 0 && attempt % 20 === 0) {
      const big = attrs.findIndex((a) => a.size === 'large');
      if (big < 0 && attempt > 200) throw new Error(`generateScene: cannot place ${n} objects in ${size}×${size}`);
      if (big >= 0) attrs[big].size = 'small';
    }
    const placed: SceneObject[] = [];
    for (const a of attrs) {
      const r = radii[a.size];
      const lo = r + 1; // keep a 1-pixel margin
      const hi = size - 2 - r;
      if (hi < lo) break;
      let ok = false;
      for (let t = 0; t < 60 && !ok; t++) {
        const cx = rng.int(lo, hi + 1);
        const cy = rng.int(lo, hi + 1);
        // Bounding boxes separated by a gap of at least 2 pixels on one axis.
        if (placed.every((p) => Math.abs(p.cx - cx) >= p.r + r + 3 || Math.abs(p.cy - cy) >= p.r + r + 3)) {
          placed.push({ ...a, cx, cy, r, rgb: [0, 0, 0] });
          ok = true;
        }
      }
      if (!ok) break;
    }
    if (placed.length === n) {
      for (const o of placed) {
        const base = COLOR_RGB[o.color];
        o.rgb = [0, 1, 2].map((c) => clip(base[c] + rng.int(-COLOR_JITTER, COLOR_JITTER + 1))) as [number, number, number];
      }
      return { size, background, objects: placed };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rendering

function clip(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** Whether pixel offset (dx, dy) from the centre is inside a shape of half extent r. */
export function insideShape(shape: Shape, dx: number, dy: number, r: number): boolean {
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  if (ax > r || ay > r) return false;
  switch (shape) {
    case 'circle':
      return dx * dx + dy * dy <= r * r + r;
    case 'square':
      return ax <= r - 1 && ay <= r - 1;
    case 'triangle':
      // apex up at (0, -r), base row dy = r spanning [-r, r]
      return 2 * ax <= dy + r;
    case 'diamond':
      return ax + ay <= r;
    case 'cross': {
      const t = Math.max(1, Math.floor(r / 3));
      return ax <= t || ay <= t;
    }
  }
}

/**
 * Render a scene to a size×size uint8 HWC image (size defaults to the scene's; a different size
 * scales positions and extents). Deterministic: the texture noise comes from the scene's seed.
 */
export function renderScene(scene: Scene, size: number = scene.size): RgbImage {
  const W = size;
  const H = size;
  const data = new Uint8Array(W * H * 3);
  const bg = scene.background;
  const trng = new Rng(bg.textureSeed);
  // Coarse value noise (cells of ~8 px, bilinear) + fine per-pixel noise.
  const cell = Math.max(2, Math.round(size / 4));
  const gw = Math.ceil(W / cell) + 2;
  const coarse = new Float64Array(gw * gw);
  for (let i = 0; i < coarse.length; i++) coarse[i] = (trng.next() * 2 - 1) * 9;
  const gx = Math.cos(bg.gradAngle) * bg.gradAmp;
  const gy = Math.sin(bg.gradAngle) * bg.gradAmp;
  const c0 = (size - 1) / 2;
  for (let y = 0; y < H; y++) {
    const fy = y / cell;
    const iy = Math.floor(fy);
    const ty = fy - iy;
    for (let x = 0; x < W; x++) {
      const fx = x / cell;
      const ix = Math.floor(fx);
      const tx = fx - ix;
      const v00 = coarse[iy * gw + ix];
      const v01 = coarse[iy * gw + ix + 1];
      const v10 = coarse[(iy + 1) * gw + ix];
      const v11 = coarse[(iy + 1) * gw + ix + 1];
      const tex = (v00 * (1 - tx) + v01 * tx) * (1 - ty) + (v10 * (1 - tx) + v11 * tx) * ty;
      const grad = (gx * (x - c0) + gy * (y - c0)) / size;
      const base = bg.level + grad + tex;
      const o = (y * W + x) * 3;
      for (let c = 0; c < 3; c++) {
        const fine = trng.int(-5, 6);
        const v = Math.round(base + bg.tint[c] + fine);
        data[o + c] = v < 0 ? 0 : v > BG_MAX ? BG_MAX : v;
      }
    }
  }
  const f = size / scene.size;
  for (const ob of scene.objects) {
    const cx = f === 1 ? ob.cx : Math.round((ob.cx + 0.5) * f - 0.5);
    const cy = f === 1 ? ob.cy : Math.round((ob.cy + 0.5) * f - 0.5);
    const r = f === 1 ? ob.r : Math.max(1, Math.round(ob.r * f));
    for (let y = Math.max(0, cy - r); y <= Math.min(H - 1, cy + r); y++) {
      for (let x = Math.max(0, cx - r); x <= Math.min(W - 1, cx + r); x++) {
        if (!insideShape(ob.shape, x - cx, y - cy, r)) continue;
        const o = (y * W + x) * 3;
        for (let c = 0; c < 3; c++) data[o + c] = clip(ob.rgb[c] + trng.int(-OBJECT_NOISE, OBJECT_NOISE + 1));
      }
    }
  }
  return { height: H, width: W, data };
}

// ---------------------------------------------------------------------------------------------
// Spatial facts (shared by captions and questions, so both state only true facts)

/** Position of an object relative to the image centre; null when it is in an ambiguous zone. */
export function positionOf(o: SceneObject, size: number): Position | null {
  const c = (size - 1) / 2;
  const dx = o.cx - c;
  const dy = o.cy - c;
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  const far = size / 8; // 4 px at 32×32
  const h = dx < 0 ? 'left' : 'right';
  const v = dy < 0 ? 'top' : 'bottom';
  if (ax < far / 2 + 1 && ay < far / 2 + 1) return 'center';
  if (ax >= far && 2 * ay <= ax) return h;
  if (ay >= far && 2 * ax <= ay) return v;
  if (ax >= far && ay >= far && 3 * ax > 2 * ay && 3 * ay > 2 * ax) return `${v} ${h}` as Position;
  return null;
}

export type Relation = 'to the left of' | 'to the right of' | 'above' | 'below';

/** Spatial relation "a REL b", or null when it is not clear-cut. */
export function relationOf(a: SceneObject, b: SceneObject, size: number): Relation | null {
  const dx = a.cx - b.cx;
  const dy = a.cy - b.cy;
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  const far = size / 8;
  if (ax >= far && 2 * ay <= ax) return dx < 0 ? 'to the left of' : 'to the right of';
  if (ay >= far && 2 * ax <= ay) return dy < 0 ? 'above' : 'below';
  return null;
}

const POSITION_PHRASE: Record<Position, string> = {
  left: 'on the left',
  right: 'on the right',
  top: 'at the top',
  bottom: 'at the bottom',
  'top left': 'in the top left',
  'top right': 'in the top right',
  'bottom left': 'in the bottom left',
  'bottom right': 'in the bottom right',
  center: 'in the middle',
};

// ---------------------------------------------------------------------------------------------
// Captions

const NUMBER_WORDS = ['zero', 'one', 'two', 'three'];

function article(word: string): string {
  return /^[aeiou]/.test(word) ? 'an' : 'a';
}

function nounPhrase(o: SceneObject, withSize: boolean): string {
  const words = withSize ? [o.size, o.color, o.shape] : [o.color, o.shape];
  return `${article(words[0])} ${words.join(' ')}`;
}

function joinList(items: string[]): string {
  if (items.length === 1) return items[0];
  return `${items.slice(0, -1).join(' , ')} and ${items[items.length - 1]}`;
}

/**
 * Five distinct, grounded reference captions for a scene (lowercase words; ',' and ':' as
 * separate tokens), drawn from seven template families in a random order.
 */
export function captionsFor(scene: Scene, rng: Rng, count = 5): string[] {
  const objs = scene.objects;
  const n = objs.length;
  const size = scene.size;
  const list = (withSize: boolean) => joinList(rng.shuffle(objs).map((o) => nounPhrase(o, withSize)));
  const noun = (plural: boolean) => (rng.next() < 0.5 ? 'shape' : 'object') + (plural ? 's' : '');

  const families: (() => string | null)[] = [
    // "a red circle and a blue square"
    () => list(false),
    // "there are two shapes : a small red circle and a large blue square"
    () => `there ${n === 1 ? 'is' : 'are'} ${NUMBER_WORDS[n]} ${noun(n > 1)} : ${list(true)}`,
    // "two objects , a red circle and a blue square"
    () => `${NUMBER_WORDS[n]} ${noun(n > 1)} , ${list(rng.next() < 0.5)}`,
    // "an image with a red circle and a blue square"
    () => `an image with ${list(false)}`,
    // "a picture of a small red circle and a large blue square"
    () => `a picture of ${list(true)}`,
    // "a blue square to the right of a red circle , and a green triangle"
    () => {
      const pairs: [SceneObject, SceneObject, Relation][] = [];
      for (const a of objs)
        for (const b of objs) {
          if (a === b) continue;
          const rel = relationOf(a, b, size);
          if (rel) pairs.push([a, b, rel]);
        }
      if (pairs.length === 0) return null;
      const [a, b, rel] = rng.choice(pairs);
      const withSize = rng.next() < 0.3;
      let s = `${nounPhrase(a, withSize)} ${rel} ${nounPhrase(b, withSize)}`;
      const rest = objs.filter((o) => o !== a && o !== b);
      if (rest.length > 0) s += ` , and ${nounPhrase(rest[0], withSize)}`;
      return s;
    },
    // "a small red circle on the left and a large blue square at the bottom"
    () => {
      const pos = objs.map((o) => positionOf(o, size));
      if (pos.some((p) => p === null)) return null;
      const order = rng.shuffle(objs.map((_, i) => i));
      const withSize = rng.next() < 0.5;
      return joinList(order.map((i) => `${nounPhrase(objs[i], withSize)} ${POSITION_PHRASE[pos[i]!]}`));
    },
  ];
  const out: string[] = [];
  for (const fi of rng.shuffle(families.map((_, i) => i))) {
    if (out.length >= count) break;
    const s = families[fi]();
    if (s !== null && !out.includes(s)) out.push(s);
  }
  if (out.length < count) throw new Error(`captionsFor: only ${out.length} distinct captions`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// VQA questions

export type QuestionType = 'what color' | 'what shape' | 'how many' | 'is there' | 'where';
export const QUESTION_TYPES: readonly QuestionType[] = ['what color', 'what shape', 'how many', 'is there', 'where'];

export const ANSWER_TYPE: Record<QuestionType, 'yes/no' | 'number' | 'other'> = {
  'what color': 'other',
  'what shape': 'other',
  'how many': 'number',
  'is there': 'yes/no',
  where: 'other',
};

/** The answer space of each question type (the balancer aims at a uniform share of these). */
export const ANSWER_SPACE: Record<QuestionType, readonly string[]> = {
  'what color': COLORS,
  'what shape': SHAPES,
  'how many': ['1', '2', '3'],
  'is there': ['yes', 'no'],
  where: ['left', 'right', 'top', 'bottom'],
};

export interface Question {
  question: string;
  /** 10 answers (VQA v2 style). */
  answers: string[];
  answer: string;
  questionType: QuestionType;
  answerType: 'yes/no' | 'number' | 'other';
}

interface Candidate {
  type: QuestionType;
  answer: string;
  /** Builds the question text (picks a phrasing). */
  text: (rng: Rng) => string;
}

/** The shortest unambiguous name of an object: "circle", "red shape" or "red circle". */
function referent(o: SceneObject, objs: SceneObject[], rng: Rng): string {
  const shapeUnique = objs.filter((p) => p.shape === o.shape).length === 1;
  const colorUnique = objs.filter((p) => p.color === o.color).length === 1;
  const options = [`${o.color} ${o.shape}`];
  if (shapeUnique) options.push(o.shape);
  if (colorUnique) options.push(`${o.color} ${rng.next() < 0.5 ? 'shape' : 'object'}`);
  return rng.choice(options);
}

function candidatesFor(scene: Scene): Candidate[] {
  const objs = scene.objects;
  const out: Candidate[] = [];
  for (const o of objs) {
    if (objs.filter((p) => p.shape === o.shape).length === 1)
      out.push({
        type: 'what color',
        answer: o.color,
        text: (rng) => rng.choice([`what color is the ${o.shape} ?`, `what is the color of the ${o.shape} ?`]),
      });
    if (objs.filter((p) => p.color === o.color).length === 1)
      out.push({
        type: 'what shape',
        answer: o.shape,
        text: (rng) =>
          rng.choice([`what shape is the ${o.color} object ?`, `what is the shape of the ${o.color} object ?`]),
      });
    const pos = positionOf(o, scene.size);
    if (pos === 'left' || pos === 'right' || pos === 'top' || pos === 'bottom')
      out.push({
        type: 'where',
        answer: pos,
        text: (rng) => {
          const ref = referent(o, objs, rng);
          return rng.choice([`where is the ${ref} ?`, `where is the ${ref} in the image ?`]);
        },
      });
  }
  out.push({
    type: 'how many',
    answer: String(objs.length),
    text: (rng) =>
      rng.choice(['how many shapes are there ?', 'how many objects are in the image ?', 'how many shapes are in the picture ?']),
  });
  const isThere = (color: Color, shape: Shape, answer: string): Candidate => ({
    type: 'is there',
    answer,
    text: (rng) => {
      const np = `${article(color)} ${color} ${shape}`;
      return rng.choice([`is there ${np} ?`, `is there ${np} in the image ?`]);
    },
  });
  const present = (c: Color, s: Shape) => objs.some((o) => o.color === c && o.shape === s);
  const absent = new Set<string>();
  for (const o of objs) {
    out.push(isThere(o.color, o.shape, 'yes'));
    // Plausible absent combos: a present colour with another shape, or a present shape in another colour.
    for (const s of SHAPES) if (!present(o.color, s)) absent.add(`${o.color}|${s}`);
    for (const c of COLORS) if (!present(c, o.shape)) absent.add(`${c}|${o.shape}`);
  }
  for (const key of [...absent].sort()) {
    const [c, s] = key.split('|') as [Color, Shape];
    out.push(isThere(c, s, 'no'));
  }
  return out;
}

/**
 * Keeps running counts of question types and answers over a split, so that question choice
 * evens out the answer distribution within each type and the mix of types.
 */
export class AnswerBalancer {
  readonly typeCounts = new Map<QuestionType, number>();
  readonly answerCounts = new Map<QuestionType, Map<string, number>>();

  count(type: QuestionType, answer?: string): number {
    if (answer === undefined) return this.typeCounts.get(type) ?? 0;
    return this.answerCounts.get(type)?.get(answer) ?? 0;
  }

  record(type: QuestionType, answer: string): void {
    this.typeCounts.set(type, this.count(type) + 1);
    let m = this.answerCounts.get(type);
    if (!m) this.answerCounts.set(type, (m = new Map()));
    m.set(answer, (m.get(answer) ?? 0) + 1);
  }
}

/**
 * k questions about a scene (distinct types while possible), each with 10 answers. With a shared
 * `balancer` across a split, the answers within each type come out near-uniform; without one
 * the choice is still uniform over the available answers of a random type.
 */
export function questionsFor(scene: Scene, rng: Rng, k: number, balancer: AnswerBalancer = new AnswerBalancer()): Question[] {
  const cands = candidatesFor(scene);
  const asked = new Set<string>();
  const usedTypes = new Set<QuestionType>();
  const out: Question[] = [];
  for (let j = 0; j < k; j++) {
    // For each type: the least-used answer available in this scene, and how far above its
    // uniform share that answer already is.
    let best: { type: QuestionType; answer: string; score: number } | null = null;
    for (const type of QUESTION_TYPES) {
      const answers = [...new Set(cands.filter((c) => c.type === type).map((c) => c.answer))];
      if (answers.length === 0) continue;
      let minCount = Infinity;
      let pick: string[] = [];
      for (const a of answers) {
        const n = balancer.count(type, a);
        if (n < minCount) {
          minCount = n;
          pick = [a];
        } else if (n === minCount) pick.push(a);
      }
      const answer = rng.choice(pick);
      const share = balancer.count(type) / ANSWER_SPACE[type].length;
      const excess = Math.max(0, minCount - share);
      const score = balancer.count(type) + 3 * excess + (usedTypes.has(type) ? 1e6 : 0) + rng.next() * 0.5;
      if (!best || score < best.score) best = { type, answer, score };
    }
    if (!best) break;
    const options = cands.filter((c) => c.type === best!.type && c.answer === best!.answer);
    let question = '';
    for (let t = 0; t < 10; t++) {
      question = rng.choice(options).text(rng);
      if (!asked.has(question)) break;
    }
    if (asked.has(question)) {
      // every phrasing of this pick was asked already: drop the type for this image
      usedTypes.add(best.type);
      cands.splice(0, cands.length, ...cands.filter((c) => c.type !== best!.type));
      j--;
      continue;
    }
    asked.add(question);
    usedTypes.add(best.type);
    balancer.record(best.type, best.answer);
    out.push({
      question,
      answers: Array.from({ length: 10 }, () => best!.answer),
      answer: best.answer,
      questionType: best.type,
      answerType: ANSWER_TYPE[best.type],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Dataset

export interface ShapesWorldConfig {
  seed: number;
  nTrain: number;
  nVal: number;
  nTest: number;
  /** Image side in pixels (default 32). */
  imageSize?: number;
  /** VQA questions per image (default 2). */
  questionsPerImage?: number;
  /** Images of LM pre-training's own corpus (none when unset: pre-training reads train). */
  nPretrain?: number;
}

export type SplitName = 'train' | 'val' | 'test';

export interface ShapesWorldImage {
  imageId: string;
  scene: Scene;
  image: RgbImage;
  /** The random stream of this image (fork it for captions / questions). */
  rng: Rng;
}

/** `n` images drawn from `stream`, image i from its own fork, named `${name}-img${i}`. */
function drawImages(stream: Rng, name: string, n: number, size: number): ShapesWorldImage[] {
  return Array.from({ length: n }, (_, i) => {
    const rng = stream.fork(`img${i}`);
    const scene = generateScene(rng.fork('scene'), size);
    return { imageId: `${name}-img${i}`, scene, image: renderScene(scene), rng };
  });
}

/**
 * The images of the three splits. Each split draws from its own fork of the seed's stream and
 * each image from its own fork of the split's, so image i of a split depends only on (seed,
 * split, i, imageSize): changing nTrain leaves val and test unchanged, and caption and VQA
 * datasets of one seed share their images.
 */
export function generateShapesWorldImages(cfg: ShapesWorldConfig): Record<SplitName, ShapesWorldImage[]> {
  const size = cfg.imageSize ?? 32;
  const root = new Rng(cfg.seed);
  return {
    train: drawImages(root.fork('train'), 'train', cfg.nTrain, size),
    val: drawImages(root.fork('val'), 'val', cfg.nVal, size),
    test: drawImages(root.fork('test'), 'test', cfg.nTest, size),
  };
}

/** LM pre-training's own images: a fourth fork of the seed's stream, so no split shares one. */
function pretrainImages(cfg: ShapesWorldConfig): ShapesWorldImage[] {
  return drawImages(new Rng(cfg.seed).fork('pretrain'), 'pretrain', cfg.nPretrain ?? 0, cfg.imageSize ?? 32);
}

/** The ShapesWorld dataset for a task: one Sample per image (caption) or per question (VQA). */
export function generateShapesWorld(cfg: ShapesWorldConfig, task: Task): DatasetSplits {
  const k = cfg.questionsPerImage ?? 2;
  const imgs = generateShapesWorldImages(cfg);
  const build = (images: ShapesWorldImage[]): Sample[] => {
    const samples: Sample[] = [];
    const balancer = new AnswerBalancer();
    for (const im of images) {
      const captionRng = im.rng.fork('caption');
      const vqaRng = im.rng.fork('vqa');
      if (task === 'caption') {
        samples.push({
          id: im.imageId,
          imageId: im.imageId,
          image: im.image,
          prompt: CAPTION_PROMPT,
          refs: captionsFor(im.scene, captionRng),
        });
      } else {
        questionsFor(im.scene, vqaRng, k, balancer).forEach((q, j) =>
          samples.push({
            id: `${im.imageId}-q${j}`,
            imageId: im.imageId,
            image: im.image,
            prompt: q.question,
            refs: q.answers,
            answerType: q.answerType,
            questionType: q.questionType,
          }),
        );
      }
    }
    return samples;
  };
  const splits: DatasetSplits = { name: 'shapesworld', task, train: build(imgs.train), val: build(imgs.val), test: build(imgs.test) };
  return cfg.nPretrain ? { ...splits, pretrain: build(pretrainImages(cfg)) } : splits;
}

/**
 * Inputs for an oracle caption score: for each sample the first reference as the prediction and
 * the remaining references as the references (pycocoevalcap's res / gts maps, keyed by id).
 */
export function oracleCaptionScoreInputs(samples: Sample[]): { preds: Record<string, string>; refs: Record<string, string[]> } {
  const preds: Record<string, string> = {};
  const refs: Record<string, string[]> = {};
  for (const s of samples) {
    if (s.refs.length < 2) throw new Error(`oracleCaptionScoreInputs: sample ${s.id} has < 2 references`);
    preds[s.id] = s.refs[0];
    refs[s.id] = s.refs.slice(1);
  }
  return { preds, refs };
}

/** All distinct words (space-separated tokens, punctuation excluded) used by a set of samples. */
export function vocabularyOf(samples: Sample[]): string[] {
  const words = new Set<string>();
  for (const s of samples)
    for (const t of [s.prompt, ...s.refs])
      for (const w of t.split(/\s+/)) if (/^[a-z0-9]+$/.test(w)) words.add(w);
  return [...words].sort();
}
