/**
 * Reading a real dataset's files (shared by the COCO / Flickr30k / VQA v2 loaders): its root
 * and JSON files, values checked at a JSON path, its images under an onBadImage policy, and the
 * subset / split rules the loaders share (limit, val2014 → val + test).
 *
 * Every problem becomes a one-line UserError naming the file, the JSON path of the offending
 * value when there is one (e.g. `annotations[3].caption`), and the fix, so the CLI can print
 * it without a stack. Only the fields the loaders use are checked; others are ignored.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { ImageDecoder } from './decoder.js';
import { ImageLoader, type SkippedImage } from './imageLoader.js';
import type { DatasetSplits, RgbImage, Sample, Task } from '../core/types.js';

/** What every real-dataset loader takes, besides its file names. */
export interface DatasetOptions {
  root: string;
  /** Max samples per split (captions: images; VQA: questions), 0 = all. */
  limit: number;
  onBadImage: OnBadImage;
  /** Side of the square images the model takes. */
  imageSize: number;
}

export interface LoadedDataset {
  splits: DatasetSplits;
  /** Images that failed to decode and were dropped with their samples (onBadImage 'skip'). */
  skipped: SkippedImage[];
}

/** One sample a loader will make, before its image is decoded. */
export interface PlannedSample {
  /** The image file. */
  path: string;
  /** Where the dataset names it (file and JSON path), for messages. */
  namedBy: string;
  /** The config field that sets its directory. */
  dirField: string;
  sample: (image: RgbImage) => Sample;
}

/**
 * What a loader reads from a dataset's JSON files, before any image is decoded: enough to check
 * the whole dataset up front (`requireImages`), then decode it (`decodePlan`).
 */
export interface DatasetPlan {
  name: string;
  task: Task;
  splits: Record<'train' | 'val' | 'test', PlannedSample[]>;
}

/**
 * Every planned image file exists, or one UserError naming how many are missing, the first
 * few, and the fix: checked before any image is decoded or any run starts.
 */
export function requireImages(plan: DatasetPlan): void {
  const missing = new Map<string, PlannedSample>();
  for (const s of [...plan.splits.train, ...plan.splits.val, ...plan.splits.test]) if (!missing.has(s.path) && !existsSync(s.path)) missing.set(s.path, s);
  if (missing.size === 0) return;
  const SHOWN = 3;
  const shown = [...missing.values()].slice(0, SHOWN).map((s) => `${s.path} (named by ${s.namedBy})`);
  const fields = [...new Set([...missing.values()].map((s) => s.dirField))].join(' / ');
  throw new UserError(
    `${plan.name}: ${missing.size} image file(s) not found: ${shown.join(', ')}${missing.size > SHOWN ? ` and ${missing.size - SHOWN} more` : ''}; check data.root and ${fields}, or remove those entries`,
  );
}

/** Decode the planned images at the model's size into the dataset's splits (samples in plan order). */
export async function decodePlan(plan: DatasetPlan, imageSize: number, onBadImage: OnBadImage, decoder: ImageDecoder): Promise<LoadedDataset> {
  const loader = new ImageLoader(imageSize, onBadImage, decoder);
  const decode = async (items: PlannedSample[]) => {
    const images = await loader.loadAll(items);
    return items.flatMap((p, i) => (images[i] ? [p.sample(images[i])] : []));
  };
  const train = await decode(plan.splits.train);
  const val = await decode(plan.splits.val);
  const test = await decode(plan.splits.test);
  return { splits: { name: plan.name, task: plan.task, train, val, test }, skipped: loader.skipped() };
}

/** The dataset root must be an existing directory; returns its absolute path. */
export function checkRoot(root: string, kind: string): string {
  const abs = resolve(root);
  if (!existsSync(abs)) throw new UserError(`data.root ${abs}: not found; point data.root at the directory holding the ${kind} files (see README, "Real datasets")`);
  if (!statSync(abs).isDirectory()) throw new UserError(`data.root ${abs}: not a directory; point data.root at the directory holding the ${kind} files`);
  return abs;
}

/** A path from the config, relative to the root unless absolute. */
export function underRoot(root: string, rel: string): string {
  return isAbsolute(rel) ? rel : resolve(root, rel);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** One JSON file of a dataset, with checked accessors whose errors name the file and the JSON path. */
export class JsonFile {
  readonly root: unknown;

  /**
   * @param path absolute path of the file
   * @param field the config field naming it (e.g. "data.trainAnnotations"), for the fix
   * @param format what the file should be, e.g. 'the COCO captions annotations {"images": [...], "annotations": [...]}'
   */
  constructor(
    readonly path: string,
    readonly field: string,
    readonly format: string,
  ) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError(`${path}: not found; put ${format} there or set ${field} to its path (relative to data.root)`);
      if (code === 'EISDIR') throw new UserError(`${path}: is a directory; set ${field} to the JSON file (${format})`);
      throw new UserError(`${path}: cannot read (${code ?? (err as Error).message}); check ${field} and the file's permissions`);
    }
    try {
      this.root = JSON.parse(text);
    } catch (err) {
      throw new UserError(`${path}: not valid JSON (${(err as Error).message}); re-download or regenerate ${format}`);
    }
  }

  /** Fail on the value at `at` (a JSON path such as "annotations[3].caption"). */
  fail(at: string, problem: string): never {
    throw new UserError(`${this.path}: ${at || '(top level)'}: ${problem}; expected ${this.format}`);
  }

  object(v: unknown, at: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(at, `expected an object (got ${describe(v)})`);
    return v as Record<string, unknown>;
  }

  array(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) this.fail(at, `expected an array (got ${describe(v)})`);
    return v;
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string') this.fail(at, `expected a string (got ${describe(v)})`);
    return v;
  }

  /** COCO / VQA / Karpathy ids are integers. */
  int(v: unknown, at: string): number {
    if (typeof v !== 'number' || !Number.isInteger(v)) this.fail(at, `expected an integer id (got ${describe(v)})`);
    return v;
  }

  /** The array under `key` of the top-level object, e.g. "annotations". */
  topArray(key: string): unknown[] {
    return this.array(this.object(this.root, '')[key], key);
  }
}

export type OnBadImage = 'skip' | 'fail';

/**
 * At most `limit` of `items` (0 = all): a seeded random subset rather than the first ones,
 * since dataset files are often ordered (by id, date, source); kept in file order.
 */
export function limitItems<T>(items: T[], limit: number, rng: Rng): T[] {
  if (limit <= 0 || limit >= items.length) return items;
  return rng.sample(items.length, limit).map((i) => items[i]);
}

/**
 * Official COCO / VQA releases have no labelled test split: their val2014 half is split into
 * val and test, by a seeded shuffle of `items` (images, so that all questions of an image land
 * on one side). The first half (rounded up) is val; both halves keep file order.
 */
export function splitValTest<T>(items: T[], rng: Rng): { val: T[]; test: T[] } {
  const order = rng.shuffle(items.map((_, i) => i));
  const nVal = Math.ceil(items.length / 2);
  const inVal = new Set(order.slice(0, nVal));
  return { val: items.filter((_, i) => inVal.has(i)), test: items.filter((_, i) => !inVal.has(i)) };
}

/** Whitespace (incl. the newlines some COCO captions carry) collapsed, ends trimmed. */
export function cleanText(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
