/**
 * A model stage in the stage store: loaded with its training log, analysis data and poisoned
 * split when cached, else trained, saved and returned.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MultimodalModel } from '../../models/types.js';
import type { EpochLog } from '../core/record.js';
import type { Tokenizer } from '../core/tokenizer.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { PoisonedSplit } from './poison.js';
import type { Store } from './store.js';
import type { StageAnalysis } from './suspects.js';

/** What an SFT stage was trained on, saved with it: the poisoned indices and the trigger asset. */
export type SavedSplit = Pick<PoisonedSplit, 'indices' | 'negativeIndices' | 'trigger' | 'target'>;

export interface StageData {
  log: EpochLog[];
  analysis: StageAnalysis;
  split?: SavedSplit;
  /** Ids of the training examples a defense removed before training (SftContext.reportRemoved). */
  removed?: string[];
}

export type CachedModel = { model: MultimodalModel; cached: boolean } & StageData;

/** Load a cached model stage (with its training log, analysis data and poisoned split), or train and cache it. */
export async function cachedModel(
  store: Store,
  stage: string,
  key: string,
  make: () => { model: MultimodalModel } & Partial<StageData> & { log: EpochLog[] },
  tok: Tokenizer,
): Promise<CachedModel> {
  if (store.has(stage, key)) {
    const dir = store.dir(stage, key);
    const { model } = loadCheckpoint(dir);
    const data = JSON.parse(readFileSync(join(dir, 'stage.json'), 'utf8')) as StageData;
    return { model, ...data, cached: true };
  }
  const { model, log, analysis = {}, split, removed } = make();
  await store.put(stage, key, async (dir) => {
    await saveCheckpoint(dir, model, tok);
    writeFileSync(join(dir, 'stage.json'), JSON.stringify({ log, analysis, split, removed }));
  });
  return { model, log, analysis, split, removed, cached: false };
}

export function dispose(model: MultimodalModel): void {
  model.params.dispose();
}
