/**
 * Small real-format datasets written to a directory, for tests, the loading benchmark and a
 * demo: COCO captions (Karpathy split or official annotations), Flickr30k (Karpathy split) and
 * VQA v2, with their official file names and JSON shapes, and real image files.
 *
 * The content is ShapesWorld's (scenes, grounded captions, balanced questions), so a model
 * trained on a fixture learns something and the end-to-end numbers mean what they do on
 * ShapesWorld. Each scene is stored as a 4:3 "photo": the square scene with flat grey bands
 * left and right, which the loader's centre crop removes again. Most files are JPEG (jpeg-js);
 * every `pngEvery`-th is PNG bytes under the same ".jpg" name, as format detection must go by
 * content.
 *
 * Runnable: `node --import tsx harness/data/fixtures.ts coco|coco-official|flickr30k|vqav2 DIR`
 * writes a fixture and DIR/demo-config.json, a config for `mbb run --profile smoke --config`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { AnswerBalancer, captionsFor, generateShapesWorldImages, questionsFor, type ShapesWorldImage, type SplitName } from './shapesWorld.js';
import type { RgbImage } from '../core/types.js';

export interface FixtureOptions {
  /** ShapesWorld seed of the content. */
  seed?: number;
  /** Images per split. */
  nTrain?: number;
  nVal?: number;
  nTest?: number;
  /** Scene side in pixels = photo height (the photo is 4:3). */
  size?: number;
  /** Every n-th image (1-based count) is written as PNG; 0 = JPEG only. */
  pngEvery?: number;
  /** JPEG quality 1–100. */
  quality?: number;
}

export interface Fixture {
  root: string;
  /** A `data` config for this fixture (every word kept: minCount 1). */
  data: Record<string, unknown>;
  /** Image files written, by split. */
  images: Record<SplitName, string[]>;
}

const DEFAULTS = { seed: 7, nTrain: 24, nVal: 6, nTest: 6, size: 48, pngEvery: 4, quality: 90 };

/** The scene padded with grey bands to a width:height of 4:3, as RGBA (what both encoders take). */
function photoRgba(img: RgbImage): { width: number; height: number; data: Buffer } {
  const band = Math.round((img.width * 4) / 3 - img.width) >> 1;
  const width = img.width + 2 * band;
  const data = Buffer.alloc(width * img.height * 4, 128);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 3;
      const d = (y * width + x + band) * 4;
      data[d] = img.data[s];
      data[d + 1] = img.data[s + 1];
      data[d + 2] = img.data[s + 2];
    }
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height: img.height, data };
}

/** Encoded photo bytes of an image: PNG or JPEG. */
export function encodePhoto(img: RgbImage, format: 'jpeg' | 'png', quality = DEFAULTS.quality): Buffer {
  const rgba = photoRgba(img);
  if (format === 'jpeg') return jpeg.encode(rgba, quality).data;
  const png = new PNG({ width: rgba.width, height: rgba.height });
  rgba.data.copy(png.data);
  return PNG.sync.write(png);
}

/** Writes the images of the fixture, counting across calls so pngEvery spans splits. */
class PhotoWriter {
  private count = 0;
  constructor(private readonly o: Required<FixtureOptions>) {}

  write(path: string, img: RgbImage): string {
    this.count++;
    const png = this.o.pngEvery > 0 && this.count % this.o.pngEvery === 0;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, encodePhoto(img, png ? 'png' : 'jpeg', this.o.quality));
    return path;
  }
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

function scenes(o: Required<FixtureOptions>): Record<SplitName, ShapesWorldImage[]> {
  return generateShapesWorldImages({ seed: o.seed, nTrain: o.nTrain, nVal: o.nVal, nTest: o.nTest, imageSize: o.size });
}

const SPLITS: SplitName[] = ['train', 'val', 'test'];
const cocoName = (subset: string, id: number) => `COCO_${subset}_${String(id).padStart(12, '0')}.jpg`;
/** val2014 holds what the loaders split into val and test. */
const subsetOf = (split: SplitName) => (split === 'train' ? 'train2014' : 'val2014');

function resolveOptions(opts: FixtureOptions): Required<FixtureOptions> {
  return { ...DEFAULTS, ...opts };
}

/**
 * COCO with the Karpathy split file `dataset_coco.json`: images under train2014/ and
 * val2014/, named by filepath + filename; a quarter of the training images are "restval".
 */
export function writeCocoKarpathyFixture(root: string, opts: FixtureOptions = {}): Fixture {
  const o = resolveOptions(opts);
  const writer = new PhotoWriter(o);
  const images: Fixture['images'] = { train: [], val: [], test: [] };
  const entries: unknown[] = [];
  let id = 0;
  const all = scenes(o);
  for (const split of SPLITS)
    all[split].forEach((im, i) => {
      id++;
      const filepath = subsetOf(split);
      const filename = cocoName(filepath, id);
      images[split].push(writer.write(join(root, filepath, filename), im.image));
      const sentences = captionsFor(im.scene, im.rng.fork('caption')).map((raw, j) => ({ raw: `${raw[0].toUpperCase()}${raw.slice(1)}.`, tokens: raw.split(' '), imgid: id - 1, sentid: (id - 1) * 5 + j }));
      const karpathySplit = split === 'train' && i % 4 === 3 ? 'restval' : split;
      entries.push({ filepath, sentids: sentences.map((s) => s.sentid), filename, imgid: id - 1, split: karpathySplit, sentences, cocoid: id });
    });
  writeJson(join(root, 'dataset_coco.json'), { images: entries, dataset: 'coco' });
  return { root, data: { kind: 'coco', root, minCount: 1 }, images };
}

/**
 * COCO with the official annotations/captions_{train,val}2014.json; the val and test images
 * both go to val2014 (the loader splits them by the seed).
 */
export function writeCocoOfficialFixture(root: string, opts: FixtureOptions = {}): Fixture {
  const o = resolveOptions(opts);
  const writer = new PhotoWriter(o);
  const images: Fixture['images'] = { train: [], val: [], test: [] };
  const files: Record<string, { images: unknown[]; annotations: unknown[] }> = { train2014: { images: [], annotations: [] }, val2014: { images: [], annotations: [] } };
  let id = 0;
  let annId = 0;
  const all = scenes(o);
  for (const split of SPLITS)
    for (const im of all[split]) {
      id++;
      const subset = subsetOf(split);
      const fileName = cocoName(subset, id);
      images[split].push(writer.write(join(root, subset, fileName), im.image));
      files[subset].images.push({ license: 1, file_name: fileName, height: o.size, width: Math.round((o.size * 4) / 3), id });
      for (const caption of captionsFor(im.scene, im.rng.fork('caption'))) files[subset].annotations.push({ image_id: id, id: ++annId, caption });
    }
  for (const [subset, content] of Object.entries(files)) writeJson(join(root, 'annotations', `captions_${subset}.json`), { info: {}, licenses: [], ...content });
  return { root, data: { kind: 'coco', format: 'official', root, minCount: 1 }, images };
}

/** Flickr30k with `dataset_flickr30k.json` and flickr30k-images/<id>.jpg (no filepath). */
export function writeFlickr30kFixture(root: string, opts: FixtureOptions = {}): Fixture {
  const o = resolveOptions(opts);
  const writer = new PhotoWriter(o);
  const images: Fixture['images'] = { train: [], val: [], test: [] };
  const entries: unknown[] = [];
  let id = 1000092795;
  const all = scenes(o);
  for (const split of SPLITS)
    for (const im of all[split]) {
      const filename = `${id++}.jpg`;
      images[split].push(writer.write(join(root, 'flickr30k-images', filename), im.image));
      const sentences = captionsFor(im.scene, im.rng.fork('caption')).map((raw) => ({ raw, tokens: raw.split(' ') }));
      entries.push({ filename, split, sentences });
    }
  writeJson(join(root, 'dataset_flickr30k.json'), { images: entries, dataset: 'flickr30k' });
  return { root, data: { kind: 'flickr30k', root, minCount: 1 }, images };
}

/**
 * VQA v2: v2_OpenEnded_mscoco_{train,val}2014_questions.json and v2_mscoco_{train,val}2014_
 * annotations.json at the root, images in train2014/ and val2014/ by the COCO naming.
 * `questionsPerImage` ShapesWorld questions per image, each with 10 answers.
 */
export function writeVqaV2Fixture(root: string, opts: FixtureOptions & { questionsPerImage?: number } = {}): Fixture {
  const o = resolveOptions(opts);
  const k = opts.questionsPerImage ?? 2;
  const writer = new PhotoWriter(o);
  const images: Fixture['images'] = { train: [], val: [], test: [] };
  const questions: Record<string, unknown[]> = { train2014: [], val2014: [] };
  const annotations: Record<string, unknown[]> = { train2014: [], val2014: [] };
  let id = 0;
  const all = scenes(o);
  for (const split of SPLITS) {
    const balancer = new AnswerBalancer();
    for (const im of all[split]) {
      id++;
      const subset = subsetOf(split);
      images[split].push(writer.write(join(root, subset, cocoName(subset, id)), im.image));
      questionsFor(im.scene, im.rng.fork('vqa'), k, balancer).forEach((q, j) => {
        const questionId = id * 1000 + j;
        questions[subset].push({ image_id: id, question: q.question, question_id: questionId });
        annotations[subset].push({
          question_type: q.questionType,
          multiple_choice_answer: q.answer,
          answers: q.answers.map((answer, a) => ({ answer, answer_confidence: 'yes', answer_id: a + 1 })),
          image_id: id,
          answer_type: q.answerType,
          question_id: questionId,
        });
      });
    }
  }
  for (const subset of ['train2014', 'val2014']) {
    const common = { info: {}, task_type: 'Open-Ended', data_type: 'mscoco', license: {}, data_subtype: subset };
    writeJson(join(root, `v2_OpenEnded_mscoco_${subset}_questions.json`), { ...common, questions: questions[subset] });
    writeJson(join(root, `v2_mscoco_${subset}_annotations.json`), { ...common, annotations: annotations[subset] });
  }
  return { root, data: { kind: 'vqav2', root, minCount: 1 }, images };
}

export const FIXTURE_WRITERS = {
  coco: writeCocoKarpathyFixture,
  'coco-official': writeCocoOfficialFixture,
  flickr30k: writeFlickr30kFixture,
  vqav2: writeVqaV2Fixture,
} as const;

// Command line: write a fixture and a demo config next to it.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [which, dir] = process.argv.slice(2);
  const write = FIXTURE_WRITERS[which as keyof typeof FIXTURE_WRITERS];
  if (!write || !dir) {
    process.stderr.write(`usage: node --import tsx harness/data/fixtures.ts ${Object.keys(FIXTURE_WRITERS).join('|')} DIR\n`);
    process.exit(2);
  }
  const root = resolve(dir);
  const fx = write(root, { nTrain: 160, nVal: 20, nTest: 40 });
  const task = which === 'vqav2' ? 'vqa' : 'caption';
  const config = join(root, 'demo-config.json');
  writeJson(config, { name: `demo-${which}`, tasks: [task], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }, { id: 'pcr' }], data: fx.data });
  const n = fx.images.train.length + fx.images.val.length + fx.images.test.length;
  process.stdout.write(`wrote ${n} images and the ${which} files to ${root}; run: npx mbb run --profile smoke --config ${config} --out ${join(root, 'out')}\n`);
}
