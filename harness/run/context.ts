/**
 * What every stage of one run reads: the run and its resolved plugins, its dataset, its two
 * vocabularies, its model config, the stage store, stage keys and a progress sink; and the
 * helpers the stages share (fine-tuning with the run's SFT settings, the defender's clean pool).
 * The pipeline builds the context (pipeline.ts); the stages only read it, so that a stage's
 * code (codeHash.ts) is what computes it, not the store or the hashing around it.
 */
import { cleanFractionOf } from '../../defenses/types.js';
import type { ModelConfig } from '../../models/types.js';
import { outsideVisionTower } from '../../models/layers.js';
import type { TrainExample } from '../core/batch.js';
import type { EpochLog } from '../core/record.js';
import type { Rng } from '../core/rng.js';
import { Tokenizer } from '../core/tokenizer.js';
import { train, type TrainingHook } from '../core/training.js';
import type { DatasetSplits } from '../core/types.js';
import { loadSplits, vocabMinCount } from '../data/load.js';
import { cleanExamples, withoutGroundTruth } from './examples.js';
import { resolveTarget } from './poison.js';
import type { ResolvedRun, RunSpec } from './runSpec.js';
import type { StageName } from './codeHash.js';
import { stepLogger, type Progress } from './stepLog.js';
import type { Store } from './store.js';

export interface RunContext {
  r: RunSpec;
  rr: ResolvedRun;
  store: Store;
  progress: Progress;
  ds: DatasetSplits;
  /** The pre-training's vocabulary and the run's (buildTokenizers). */
  toks: { pretrain: Tokenizer; run: Tokenizer };
  mcfg: ModelConfig;
  maxText: number;
  /** The weights training may change: all, or all but a frozen vision tower. */
  trainable?: (name: string) => boolean;
  /**
   * A stage's key in the store: the hash of the code it reaches (codeHash.ts stageCode) and of
   * what it reads. `undefended`: the key a run of the same attack without defense gives the
   * stage (sft.ts: the backdoored model a training-time defense probes).
   */
  key(stage: StageName, reads: Record<string, unknown>, undefended?: boolean): string;
}

/** The weights a run trains: all, or with `vision.freeze` all outside the vision tower. */
export function trainableOf(r: RunSpec): ((name: string) => boolean) | undefined {
  return r.exp.vision?.freeze ? outsideVisionTower : undefined;
}

export async function loadDataset(r: RunSpec): Promise<DatasetSplits> {
  const ds = await loadSplits(r.exp.data, r.task, r.seed);
  if (r.exp.eval.limit > 0) ds.test = ds.test.slice(0, r.exp.eval.limit);
  return ds;
}

/**
 * Vocabularies: the pre-training's, from the clean training texts alone (and pre-training's own
 * corpus where it has one) plus free reserved slots (so it and every initial weight depend on
 * the data, not on the grid), and the run's, with its target and trigger words bound to those
 * slots (tokenizer.ts). On real datasets training words rarer than data.minCount map to the
 * unknown token.
 */
export function buildTokenizers(r: RunSpec, ds: DatasetSplits, rr: ResolvedRun): { pretrain: Tokenizer; run: Tokenizer } {
  const texts = [...(ds.pretrain ?? []), ...ds.train].flatMap((s) => [s.prompt, ...s.refs]);
  const pretrain = Tokenizer.fromTexts(texts, vocabMinCount(r.exp.data), r.exp.text.reservedWords);
  const own = [resolveTarget(rr.attackParams, r.task), ...(rr.attack.vocabulary?.(rr.attackParams) ?? [])];
  return { pretrain, run: pretrain.bind(own) };
}

export function modelConfigFor(r: RunSpec, vocabSize: number): ModelConfig {
  const m = r.exp.model;
  return {
    family: r.model,
    imageSize: r.exp.data.imageSize,
    ...m,
    vocabSize,
    maxText: maxTextFor(r),
    seed: r.seed,
  };
}

export function maxTextFor(r: RunSpec): number {
  return r.task === 'caption' ? r.exp.text.captionMaxText : r.exp.text.vqaMaxText;
}

/** Fine-tune a model on the run's vocabulary with the SFT settings (batch size, schedule), epochs, lr, hook and seed as given. */
export function fineTune(
  ctx: RunContext,
  model: Parameters<typeof train>[0],
  examples: TrainExample[],
  o: { epochs: number; lr: number; hook?: TrainingHook; seed: number; stage: string },
): EpochLog[] {
  return train(model, ctx.toks.run, examples, {
    ...ctx.r.exp.sft,
    epochs: o.epochs,
    lr: o.lr,
    seed: o.seed,
    maxText: ctx.maxText,
    trainable: ctx.trainable,
    hook: o.hook,
    onStep: stepLogger(ctx.progress, o.stage, o.epochs),
  });
}

/** The clean training examples a post or guarding inference defense holds: `cleanFraction` (default 5%) of the split, seeded. */
export function defenderPool(ctx: RunContext, rng: Rng): TrainExample[] {
  const clean = cleanExamples(ctx.ds.train, ctx.r.task);
  const fraction = cleanFractionOf(ctx.rr.defense, ctx.rr.defenseParams);
  return withoutGroundTruth(rng.fork('clean-pool').sample(clean.length, Math.max(1, Math.round(fraction * clean.length))).map((i) => clean[i]));
}
