/**
 * The dataset of a run, by `data.kind`: ShapesWorld (generated) or a real dataset read from
 * local files (COCO captions, Flickr30k, VQA v2). Every kind yields the same DatasetSplits, so
 * attacks, defenses, metrics and reports do not know which one they got.
 */
import { checkDataTask, type DataConfig } from './config.js';
import { UserError } from '../core/errors.js';
import { stableStringify } from '../core/hash.js';
import { planCocoCaptions, planKarpathyCaptions } from './coco.js';
import { decodePlan, requireImages, type DatasetPlan } from './datasetFiles.js';
import { imageDecoder } from './decoder.js';
import { skippedSummary } from './imageLoader.js';
import { generateShapesWorld } from './shapesWorld.js';
import type { DatasetSplits, Task } from '../core/types.js';
import { planVqaV2 } from './vqav2.js';

type RealDataConfig = Exclude<DataConfig, { kind: 'shapes' }>;

/** One planner per real kind (the config has checked that the kind serves the task). */
const PLANNERS: { [K in RealDataConfig['kind']]: (d: Extract<RealDataConfig, { kind: K }>, seed: number) => DatasetPlan } = {
  coco: (d, seed) => (d.format === 'official' ? planCocoCaptions(d, seed) : planKarpathyCaptions({ ...d, name: 'coco' }, seed)),
  flickr30k: (d, seed) => planKarpathyCaptions({ ...d, name: 'flickr30k' }, seed),
  vqav2: (d, seed) => planVqaV2(d, seed),
};

function planOf(data: RealDataConfig, seed: number): DatasetPlan {
  const plan = (PLANNERS[data.kind] as (d: RealDataConfig, seed: number) => DatasetPlan)(data, seed);
  requireImages(plan);
  return plan;
}

/**
 * Check a dataset without decoding it: its root, its JSON files and every image the seed's
 * splits name (all missing images counted in one error). The runner calls it for each task and
 * seed before any run starts; ShapesWorld needs no check.
 */
export function checkDataset(data: DataConfig, task: Task, seed: number): void {
  checkDataTask(data, task);
  if (data.kind !== 'shapes') planOf(data, seed);
}

export interface LoadOptions {
  /** Where the one-line skipped-images summary goes (default: stderr). */
  warn?: (line: string) => void;
}

/**
 * The last real dataset this process loaded. A worker runs all attacks × defenses of one
 * task × seed in a row, and decoding thousands of JPEGs per run would dominate a small grid.
 */
let memo: { key: string; splits: DatasetSplits } | undefined;

/** Fresh split arrays (callers reassign or slice them); samples and images are shared, never mutated. */
function copySplits(ds: DatasetSplits): DatasetSplits {
  return { ...ds, train: ds.train.slice(), val: ds.val.slice(), test: ds.test.slice() };
}

export async function loadSplits(data: DataConfig, task: Task, seed: number, opts: LoadOptions = {}): Promise<DatasetSplits> {
  checkDataTask(data, task);
  if (data.kind === 'shapes') {
    return generateShapesWorld({ seed, ...data }, task); // the schema's ShapesWorld fields are the generator's
  }
  const key = stableStringify({ data, task, seed });
  if (memo?.key === key) return copySplits(memo.splits);
  const { splits, skipped } = await decodePlan(planOf(data, seed), data.imageSize, data.onBadImage, imageDecoder());
  const summary = skippedSummary(splits.name, skipped);
  if (summary) (opts.warn ?? ((l: string) => process.stderr.write(`${l}\n`)))(summary);
  for (const split of ['train', 'val', 'test'] as const) {
    if (splits[split].length === 0) {
      throw new UserError(
        `data (${data.kind} at ${data.root}): the ${split} split is empty${skipped.length ? ` after skipping ${skipped.length} undecodable image(s)` : ''}; check the files of that split${data.kind === 'vqav2' ? ' and data.topAnswers' : ''}`,
      );
    }
  }
  memo = { key, splits };
  return copySplits(splits);
}

/** The minimum count of a training word to get its own token (ShapesWorld: every word). */
export function vocabMinCount(data: DataConfig): number {
  return data.kind === 'shapes' ? 1 : data.minCount;
}
