import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import {
  ANSWER_SPACE,
  ANSWER_TYPE,
  BG_MAX,
  COLOR_RGB,
  COLORS,
  QUESTION_TYPES,
  SHAPES,
  captionsFor,
  generateScene,
  generateShapesWorld,
  generateShapesWorldImages,
  oracleCaptionScoreInputs,
  questionsFor,
  renderScene,
  vocabularyOf,
  type Color,
  type QuestionType,
  type Scene,
  type SceneObject,
} from './shapesWorld.js';
import { CAPTION_PROMPT, type RgbImage, type Sample } from '../core/types.js';

const hashImage = (im: RgbImage) => createHash('sha1').update(im.data).digest('hex');
const COLOR_SET = new Set<string>(COLORS);
const SHAPE_SET = new Set<string>(SHAPES);
const NUMBERS: Record<string, number> = { one: 1, two: 2, three: 3 };

/** Many independent scenes with their captions and questions. */
function scenes(n: number, seed = 7, size = 32): { scene: Scene; rng: Rng }[] {
  const root = new Rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const rng = root.fork(`s${i}`);
    return { scene: generateScene(rng, size), rng };
  });
}

function findObject(scene: Scene, color: string, shape: string): SceneObject {
  const hits = scene.objects.filter((o) => o.color === color && o.shape === shape);
  if (hits.length !== 1) throw new Error(`expected exactly one ${color} ${shape}, found ${hits.length}`);
  return hits[0];
}

/**
 * Independent checker of a caption against its scene: every noun phrase names one existing
 * object with the right size and article, every relation / position / count is true, and every
 * object is mentioned. Returns a list of violations.
 */
function captionViolations(caption: string, scene: Scene): string[] {
  const bad: string[] = [];
  const c = (scene.size - 1) / 2;
  const t = caption.split(' ');
  const mentioned = new Set<SceneObject>();
  // Noun phrases: (a|an) [size] colour shape
  const nps: { start: number; end: number; obj: SceneObject }[] = [];
  for (let i = 0; i < t.length; i++) {
    if (COLOR_SET.has(t[i])) {
      if (!SHAPE_SET.has(t[i + 1]) && !['shape', 'object'].includes(t[i + 1])) bad.push(`colour without shape at ${i}`);
      if (!SHAPE_SET.has(t[i + 1])) continue;
      let start = i;
      let size: string | null = null;
      if (t[i - 1] === 'small' || t[i - 1] === 'large') size = t[--start];
      const art = t[start - 1];
      const want = /^[aeiou]/.test(t[start]) ? 'an' : 'a';
      if (art !== want) bad.push(`article "${art}" before "${t[start]}"`);
      try {
        const o = findObject(scene, t[i], t[i + 1]);
        if (size && o.size !== size) bad.push(`${t[i]} ${t[i + 1]} is ${o.size}, caption says ${size}`);
        mentioned.add(o);
        nps.push({ start: start - 1, end: i + 2, obj: o });
      } catch (e) {
        bad.push(String(e));
      }
    } else if (SHAPE_SET.has(t[i]) && !COLOR_SET.has(t[i - 1])) bad.push(`shape without colour at ${i}`);
  }
  for (const [k, np] of nps.entries()) {
    const o = np.obj;
    const dx = o.cx - c;
    const dy = o.cy - c;
    const after = t.slice(np.end, np.end + 4).join(' ');
    const next = nps[k + 1];
    const rel = next && next.start > np.end ? t.slice(np.end, next.start).join(' ') : '';
    const rx = next ? o.cx - next.obj.cx : 0;
    const ry = next ? o.cy - next.obj.cy : 0;
    if (rel === 'to the left of' && !(rx <= -3 && Math.abs(ry) < Math.abs(rx))) bad.push(`not left of: ${caption}`);
    if (rel === 'to the right of' && !(rx >= 3 && Math.abs(ry) < Math.abs(rx))) bad.push(`not right of: ${caption}`);
    if (rel === 'above' && !(ry <= -3 && Math.abs(rx) < Math.abs(ry))) bad.push(`not above: ${caption}`);
    if (rel === 'below' && !(ry >= 3 && Math.abs(rx) < Math.abs(ry))) bad.push(`not below: ${caption}`);
    if (after.startsWith('on the left') && !(dx <= -3 && Math.abs(dy) < Math.abs(dx))) bad.push(`not on the left`);
    if (after.startsWith('on the right') && !(dx >= 3 && Math.abs(dy) < Math.abs(dx))) bad.push(`not on the right`);
    if (after.startsWith('at the top') && !(dy <= -3 && Math.abs(dx) < Math.abs(dy))) bad.push(`not at the top`);
    if (after.startsWith('at the bottom') && !(dy >= 3 && Math.abs(dx) < Math.abs(dy))) bad.push(`not at the bottom`);
    const corner = /^in the (top|bottom) (left|right)/.exec(after);
    if (corner) {
      const okV = corner[1] === 'top' ? dy <= -3 : dy >= 3;
      const okH = corner[2] === 'left' ? dx <= -3 : dx >= 3;
      if (!okV || !okH) bad.push(`not in the ${corner[1]} ${corner[2]}`);
    }
    if (after.startsWith('in the middle') && !(Math.abs(dx) < 4 && Math.abs(dy) < 4)) bad.push('not in the middle');
  }
  for (let i = 0; i < t.length; i++)
    if (t[i] in NUMBERS && NUMBERS[t[i]] !== scene.objects.length) bad.push(`count "${t[i]}" but ${scene.objects.length} objects`);
  if (t.includes('is') && scene.objects.length !== 1) bad.push('"there is" with several objects');
  if (t.includes('are') && scene.objects.length === 1) bad.push('"there are" with one object');
  if (mentioned.size !== scene.objects.length) bad.push(`mentions ${mentioned.size} of ${scene.objects.length} objects`);
  return bad;
}

/** Independent answer of a question from the scene, or an error string. */
function answerOf(question: string, scene: Scene): string {
  const objs = scene.objects;
  const c = (scene.size - 1) / 2;
  let m: RegExpExecArray | null;
  const one = (pred: (o: SceneObject) => boolean) => {
    const hits = objs.filter(pred);
    if (hits.length !== 1) throw new Error(`ambiguous or missing referent in "${question}"`);
    return hits[0];
  };
  if ((m = /^what (?:color is|is the color of) the (\w+) \?$/.exec(question))) return one((o) => o.shape === m![1]).color;
  if ((m = /^what (?:shape is|is the shape of) the (\w+) object \?$/.exec(question)))
    return one((o) => o.color === m![1]).shape;
  if (/^how many (shapes|objects) are /.test(question)) return String(objs.length);
  if ((m = /^is there an? (\w+) (\w+) (?:in the image )?\?$/.exec(question)))
    return objs.some((o) => o.color === m![1] && o.shape === m![2]) ? 'yes' : 'no';
  if ((m = /^where is the (.+?) (?:in the image )?\?$/.exec(question))) {
    const words = m[1].split(' ');
    const o = one(
      (p) =>
        words.every((w) => w === 'shape' || w === 'object' || w === p.color || w === p.shape) &&
        words.some((w) => COLOR_SET.has(w) || SHAPE_SET.has(w)),
    );
    const dx = o.cx - c;
    const dy = o.cy - c;
    if (Math.abs(dx) >= 2 * Math.abs(dy) && Math.abs(dx) >= 3) return dx < 0 ? 'left' : 'right';
    if (Math.abs(dy) >= 2 * Math.abs(dx) && Math.abs(dy) >= 3) return dy < 0 ? 'top' : 'bottom';
    throw new Error(`position of "${m[1]}" is ambiguous`);
  }
  throw new Error(`unknown question "${question}"`);
}

function answerCounts(samples: Sample[]): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const s of samples) {
    const m = out.get(s.questionType!) ?? new Map<string, number>();
    m.set(s.refs[0], (m.get(s.refs[0]) ?? 0) + 1);
    out.set(s.questionType!, m);
  }
  return out;
}

describe('ShapesWorld scenes and rendering', () => {
  it('lays out 1–3 non-overlapping objects with distinct (colour, shape) inside a 1-pixel margin', () => {
    const nObjects = [0, 0, 0, 0];
    for (const { scene } of scenes(2000)) {
      const objs = scene.objects;
      nObjects[objs.length]++;
      expect(objs.length).toBeGreaterThanOrEqual(1);
      expect(objs.length).toBeLessThanOrEqual(3);
      expect(new Set(objs.map((o) => `${o.color} ${o.shape}`)).size).toBe(objs.length);
      for (const o of objs) {
        expect(o.cx - o.r).toBeGreaterThanOrEqual(1);
        expect(o.cy - o.r).toBeGreaterThanOrEqual(1);
        expect(o.cx + o.r).toBeLessThanOrEqual(scene.size - 2);
        expect(o.cy + o.r).toBeLessThanOrEqual(scene.size - 2);
      }
      for (const a of objs)
        for (const b of objs)
          if (a !== b) {
            const apart = Math.abs(a.cx - b.cx) > a.r + b.r || Math.abs(a.cy - b.cy) > a.r + b.r;
            expect(apart).toBe(true);
          }
    }
    // roughly uniform object counts
    for (const k of [1, 2, 3]) expect(nObjects[k]).toBeGreaterThan(2000 / 3 - 100);
  });

  it('uses all shapes, colours and both sizes', () => {
    const seen = new Set<string>();
    for (const { scene } of scenes(500)) for (const o of scene.objects) seen.add(o.shape).add(o.color).add(o.size);
    for (const w of [...SHAPES, ...COLORS, 'small', 'large']) expect(seen.has(w)).toBe(true);
  });

  it('renders objects in their colour on a dark-to-mid background with no near-white pixel', () => {
    for (const { scene } of scenes(300)) {
      const img = renderScene(scene);
      expect(img.width).toBe(32);
      expect(img.height).toBe(32);
      expect(img.data.length).toBe(32 * 32 * 3);
      expect(img.data).toBeInstanceOf(Uint8Array);
      const covered = new Uint8Array(32 * 32);
      for (const o of scene.objects) {
        // the centre pixel shows the object's colour, nearer to it than to any other colour
        const p = (o.cy * 32 + o.cx) * 3;
        const px = [img.data[p], img.data[p + 1], img.data[p + 2]];
        const dist = (c: Color) => Math.hypot(...px.map((v, i) => v - COLOR_RGB[c][i]));
        for (const other of COLORS) if (other !== o.color) expect(dist(o.color)).toBeLessThan(dist(other));
        for (let y = o.cy - o.r; y <= o.cy + o.r; y++) for (let x = o.cx - o.r; x <= o.cx + o.r; x++) covered[y * 32 + x] = 1;
      }
      let white = 0;
      let brightBackground = 0;
      for (let i = 0; i < 32 * 32; i++) {
        const [r, g, b] = [img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2]];
        if (Math.min(r, g, b) >= 200) white++;
        if (!covered[i] && Math.max(r, g, b) > BG_MAX) brightBackground++;
      }
      expect(white).toBe(0);
      expect(brightBackground).toBe(0);
    }
  });

  it('draws shapes that differ in pixels at both sizes (small area < large area)', () => {
    const areas: Record<string, number> = {};
    for (const size of ['small', 'large'] as const)
      for (const shape of SHAPES) {
        const r = size === 'small' ? 3 : 6;
        const scene: Scene = {
          size: 32,
          background: { level: 40, tint: [0, 0, 0], gradAmp: 0, gradAngle: 0, textureSeed: 1 },
          objects: [{ shape, color: 'red', size, cx: 15, cy: 15, r, rgb: [220, 40, 40] }],
        };
        const img = renderScene(scene);
        let mask = '';
        let area = 0;
        for (let i = 0; i < 32 * 32; i++) {
          const on = img.data[i * 3] > 180 ? 1 : 0;
          area += on;
          mask += on;
        }
        areas[`${size} ${shape}`] = area;
        areas[`${size} ${shape} mask`] = Number.parseInt(createHash('sha1').update(mask).digest('hex').slice(0, 8), 16);
      }
    for (const shape of SHAPES) expect(areas[`small ${shape}`]).toBeLessThan(areas[`large ${shape}`] * 0.6);
    for (const size of ['small', 'large'])
      expect(new Set(SHAPES.map((s) => areas[`${size} ${s} mask`])).size).toBe(SHAPES.length);
  });

  it('scales a scene to another image size', () => {
    const [{ scene }] = scenes(1);
    const big = renderScene(scene, 64);
    expect(big.width).toBe(64);
    expect(big.data.length).toBe(64 * 64 * 3);
    const small = generateScene(new Rng(3), 64);
    expect(small.objects.every((o) => o.cx + o.r <= 62)).toBe(true);
  });
});

describe('ShapesWorld captions', () => {
  it('gives ≥5 distinct, lowercase, grounded captions that mention every object', () => {
    const families = new Set<string>();
    for (const { scene, rng } of scenes(2000)) {
      const caps = captionsFor(scene, rng.fork('caption'));
      expect(caps.length).toBeGreaterThanOrEqual(5);
      expect(new Set(caps).size).toBe(caps.length);
      for (const cap of caps) {
        expect(cap).toMatch(/^[a-z]+( ([a-z]+|,|:))*$/);
        const bad = captionViolations(cap, scene);
        if (bad.length) throw new Error(`${cap}\n${JSON.stringify(scene.objects)}\n${bad.join('\n')}`);
        families.add(cap.split(' ').slice(0, 2).join(' '));
        const colours = cap.split(' ').filter((w) => COLOR_SET.has(w));
        const shapes = cap.split(' ').filter((w) => SHAPE_SET.has(w));
        for (const w of colours) expect(scene.objects.some((o) => o.color === w)).toBe(true);
        for (const w of shapes) expect(scene.objects.some((o) => o.shape === w)).toBe(true);
      }
    }
    expect(families.size).toBeGreaterThan(10); // varied openings
  });

  it('the checker catches a false caption', () => {
    const scene: Scene = {
      size: 32,
      background: { level: 40, tint: [0, 0, 0], gradAmp: 0, gradAngle: 0, textureSeed: 1 },
      objects: [
        { shape: 'circle', color: 'red', size: 'small', cx: 5, cy: 15, r: 3, rgb: [210, 45, 45] },
        { shape: 'square', color: 'blue', size: 'large', cx: 24, cy: 15, r: 6, rgb: [55, 95, 235] },
      ],
    };
    expect(captionViolations('a red circle to the left of a blue square', scene)).toEqual([]);
    expect(captionViolations('a red circle to the right of a blue square', scene)).not.toEqual([]);
    expect(captionViolations('a green circle and a blue square', scene)).not.toEqual([]);
    expect(captionViolations('there are three shapes : a small red circle and a large blue square', scene)).not.toEqual([]);
    expect(captionViolations('a large red circle and a large blue square', scene)).not.toEqual([]);
    expect(captionViolations('an image with a red circle', scene)).not.toEqual([]);
  });

  it('keeps the vocabulary small and the oracle inputs consistent', () => {
    const cap = generateShapesWorld({ seed: 3, nTrain: 1000, nVal: 0, nTest: 100 }, 'caption');
    const vqa = generateShapesWorld({ seed: 3, nTrain: 1000, nVal: 0, nTest: 100 }, 'vqa');
    const vocab = vocabularyOf([...cap.train, ...vqa.train]);
    expect(vocab.length).toBeLessThan(80);
    expect(vocab.length).toBeGreaterThan(40);
    const { preds, refs } = oracleCaptionScoreInputs(cap.test);
    expect(Object.keys(preds)).toHaveLength(100);
    for (const s of cap.test) {
      expect(s.prompt).toBe(CAPTION_PROMPT);
      expect(preds[s.id]).toBe(s.refs[0]);
      expect(refs[s.id]).toEqual(s.refs.slice(1));
      expect(refs[s.id]).not.toContain(preds[s.id]);
    }
  });
});

describe('ShapesWorld VQA', () => {
  it('asks short questions with 10 answers that are true of the scene', () => {
    for (const { scene, rng } of scenes(2000)) {
      const qs = questionsFor(scene, rng.fork('vqa'), 3);
      expect(qs.length).toBe(3);
      expect(new Set(qs.map((q) => q.questionType)).size).toBe(3);
      for (const q of qs) {
        expect(q.answers).toHaveLength(10);
        expect(q.answers.every((a) => a === q.answer)).toBe(true);
        expect(q.question.split(' ').filter((w) => w !== '?').length).toBeLessThanOrEqual(8);
        expect(q.question.endsWith(' ?')).toBe(true);
        expect(ANSWER_TYPE[q.questionType]).toBe(q.answerType);
        expect(ANSWER_SPACE[q.questionType]).toContain(q.answer);
        expect(answerOf(q.question, scene)).toBe(q.answer);
      }
    }
  });

  it('balances answers within each question type', () => {
    const ds = generateShapesWorld({ seed: 11, nTrain: 1000, nVal: 0, nTest: 0, questionsPerImage: 2 }, 'vqa');
    expect(ds.train).toHaveLength(2000);
    const counts = answerCounts(ds.train);
    expect([...counts.keys()].sort()).toEqual([...QUESTION_TYPES].sort());
    for (const [type, m] of counts) {
      const total = [...m.values()].reduce((a, b) => a + b, 0);
      const space = ANSWER_SPACE[type as QuestionType];
      expect(total).toBeGreaterThan(2000 / QUESTION_TYPES.length / 2); // each type well represented
      expect([...m.keys()].sort()).toEqual([...space].sort());
      expect(Math.max(...m.values())).toBeLessThanOrEqual((1.5 * total) / space.length);
      // the split-wide balancer does much better than independent sampling (which reaches 1.2×)
      expect(Math.max(...m.values()), type).toBeLessThanOrEqual((1.05 * total) / space.length);
      expect(Math.abs(total - 2000 / QUESTION_TYPES.length), type).toBeLessThan(40);
      if (type === 'is there') {
        expect(m.get('yes')! / total).toBeGreaterThanOrEqual(0.45);
        expect(m.get('yes')! / total).toBeLessThanOrEqual(0.55);
      }
    }
    for (const s of ds.train) {
      expect(s.refs).toHaveLength(10);
      expect(s.answerType).toBe(ANSWER_TYPE[s.questionType as QuestionType]);
    }
  });

  it('keeps a question-only model near chance', () => {
    const ds = generateShapesWorld({ seed: 5, nTrain: 3000, nVal: 0, nTest: 1500 }, 'vqa');
    // "train" a question-only model: the majority answer of each question text (else of its type)
    const byText = new Map<string, Map<string, number>>();
    for (const s of ds.train) {
      const m = byText.get(s.prompt) ?? new Map<string, number>();
      m.set(s.refs[0], (m.get(s.refs[0]) ?? 0) + 1);
      byText.set(s.prompt, m);
    }
    const majority = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1])[0][0];
    const typeMajority = new Map([...answerCounts(ds.train)].map(([t, m]) => [t, majority(m)]));
    const hits = new Map<string, [number, number]>();
    for (const s of ds.test) {
      const guess = byText.has(s.prompt) ? majority(byText.get(s.prompt)!) : typeMajority.get(s.questionType!)!;
      const h = hits.get(s.questionType!) ?? [0, 0];
      hits.set(s.questionType!, [h[0] + (guess === s.refs[0] ? 1 : 0), h[1] + 1]);
    }
    for (const [type, [hit, n]] of hits) {
      const chance = 1 / ANSWER_SPACE[type as QuestionType].length;
      expect(hit / n, type).toBeLessThan(chance + 0.1);
    }
  });
});

describe('ShapesWorld dataset splits', () => {
  const cfg = { seed: 42, nTrain: 60, nVal: 20, nTest: 30 };

  it('is deterministic for a seed and differs across seeds', () => {
    for (const task of ['caption', 'vqa'] as const) {
      const a = generateShapesWorld(cfg, task);
      const b = generateShapesWorld(cfg, task);
      expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      for (const split of ['train', 'val', 'test'] as const)
        expect(a[split].map((s) => hashImage(s.image))).toEqual(b[split].map((s) => hashImage(s.image)));
      const c = generateShapesWorld({ ...cfg, seed: 43 }, task);
      expect(c.test.map((s) => hashImage(s.image))).not.toEqual(a.test.map((s) => hashImage(s.image)));
      expect(c.test.map((s) => s.refs.join('|'))).not.toEqual(a.test.map((s) => s.refs.join('|')));
    }
  });

  it('has the configured sizes, unique ids and disjoint splits', () => {
    const cap = generateShapesWorld(cfg, 'caption');
    expect(cap.name).toBe('shapesworld');
    expect(cap.task).toBe('caption');
    expect([cap.train.length, cap.val.length, cap.test.length]).toEqual([60, 20, 30]);
    const vqa = generateShapesWorld({ ...cfg, questionsPerImage: 3 }, 'vqa');
    expect([vqa.train.length, vqa.val.length, vqa.test.length]).toEqual([180, 60, 90]);
    for (const ds of [cap, vqa]) {
      const all = [...ds.train, ...ds.val, ...ds.test];
      expect(new Set(all.map((s) => s.id)).size).toBe(all.length);
      const imageSets = (['train', 'val', 'test'] as const).map((k) => new Set(ds[k].map((s) => hashImage(s.image))));
      const idSets = (['train', 'val', 'test'] as const).map((k) => new Set(ds[k].map((s) => s.imageId)));
      for (let i = 0; i < 3; i++)
        for (let j = i + 1; j < 3; j++) {
          for (const h of imageSets[i]) expect(imageSets[j].has(h)).toBe(false);
          for (const id of idSets[i]) expect(idSets[j].has(id)).toBe(false);
        }
    }
    // caption and VQA datasets of one seed share their images
    expect(vqa.test[0].image.data).toEqual(cap.test[0].image.data);
  });

  it('keeps val and test unchanged when nTrain changes, and splits prefix-stable', () => {
    for (const task of ['caption', 'vqa'] as const) {
      const a = generateShapesWorld(cfg, task);
      const b = generateShapesWorld({ ...cfg, nTrain: 7 }, task);
      expect(JSON.stringify(b.test)).toBe(JSON.stringify(a.test));
      expect(JSON.stringify(b.val)).toBe(JSON.stringify(a.val));
      expect(JSON.stringify(b.train)).toBe(JSON.stringify(a.train.slice(0, b.train.length)));
    }
  });

  it('draws pre-training\'s own corpus apart from every split, leaving the splits unchanged', () => {
    for (const task of ['caption', 'vqa'] as const) {
      const plain = generateShapesWorld(cfg, task);
      const withCorpus = generateShapesWorld({ ...cfg, nPretrain: 12 }, task);
      expect(plain.pretrain).toBeUndefined();
      expect(JSON.stringify({ ...withCorpus, pretrain: undefined })).toBe(JSON.stringify(plain));
      const perImage = task === 'vqa' ? 2 : 1; // questionsPerImage's default
      expect(withCorpus.pretrain).toHaveLength(12 * perImage);
      expect(withCorpus.pretrain!.every((s) => s.imageId.startsWith('pretrain-img'))).toBe(true);
      const pixels = (ss: { image: { data: Uint8Array } }[]) => new Set(ss.map((s) => Buffer.from(s.image.data).toString('base64')));
      const corpus = pixels(withCorpus.pretrain!);
      for (const split of [plain.train, plain.val, plain.test]) for (const p of pixels(split)) expect(corpus.has(p)).toBe(false);
    }
  });

  it('supports another image size', () => {
    const ds = generateShapesWorld({ seed: 1, nTrain: 5, nVal: 0, nTest: 0, imageSize: 48 }, 'caption');
    expect(ds.train[0].image.width).toBe(48);
    expect(ds.train[0].image.data.length).toBe(48 * 48 * 3);
  });

  it('generates 5000 images well within two seconds', () => {
    const t0 = performance.now();
    const imgs = generateShapesWorldImages({ seed: 9, nTrain: 5000, nVal: 0, nTest: 0 });
    const ms = performance.now() - t0;
    expect(imgs.train).toHaveLength(5000);
    expect(ms).toBeLessThan(2000);
  });
});

