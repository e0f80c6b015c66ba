/**
 * The defense plugin boundary. A defense acts at one stage (`Defense`, a union keyed by it):
 * - training: hooks into the SFT loop on the (possibly poisoned) data (`trainingHook`), or runs
 *   the SFT stage itself (`sft`);
 * - post: repairs a trained model with a small clean set;
 * - inference: changes test inputs before generation (`transformTestImage`), or guards the
 *   model's generation (`guardModel`: e.g. CleanSight reads its attention and prunes visual tokens).
 */
import type { z } from 'zod';
import type { TrainExample } from '../harness/core/batch.js';
import type { RgbImage, Task } from '../harness/core/types.js';
import type { EpochLog } from '../harness/core/record.js';
import type { Rng } from '../harness/core/rng.js';
import type { Tokenizer } from '../harness/core/tokenizer.js';
import type { BatchScore, TrainingHook } from '../harness/core/training.js';
import type { ModelConfig, MultimodalModel } from '../models/types.js';

/**
 * Where a defense reports per-example suspicion scores (higher = more likely poisoned), e.g.
 * PCR's invariance or ABL's loss. The harness scores them (AUROC) against the ground truth
 * that the defense never sees.
 */
export type ScoreSink = (name: string, epoch: number, ids: string[], scores: ArrayLike<number>) => void;

export interface DefenseContext {
  task: Task;
  model: ModelConfig;
  reportScores?: ScoreSink;
}

/** What a post-training defense gets: the trained (possibly backdoored) model and clean data. */
export interface PostContext {
  task: Task;
  /** The model to repair; repair may change it in place and return it, or return a new one. */
  model: MultimodalModel;
  tok: Tokenizer;
  /** Clean training examples the defender holds (a seeded subset of the clean training split). */
  cleanPool: TrainExample[];
  /** Fine-tune a model with the SFT loop (SFT batch size; epochs, lr and hook as given). */
  train(model: MultimodalModel, examples: TrainExample[], opts: { epochs: number; lr: number; hook?: TrainingHook }): EpochLog[];
  /** The clean task metric (CIDEr-D or VQA accuracy) on the validation split: for stopping rules. */
  validate(model: MultimodalModel): number;
  /** A fresh model of the same config (e.g. for a teacher or a copy). */
  createModel(): MultimodalModel;
  /** The SFT learning rate of the experiment, the default for repair fine-tuning. */
  sftLr: number;
  rng: Rng;
  progress(detail: string): void;
}

/** What a training-stage defense that needs more than a loss hook (e.g. ABL's phases) gets. */
export interface SftContext {
  /** The model to train, holding the pre-trained weights when the stage starts; its weights are the stage's result. */
  model: MultimodalModel;
  tok: Tokenizer;
  /** The (possibly poisoned) training split, without its ground truth (which examples are poisoned). */
  examples: TrainExample[];
  /** The experiment's SFT epochs and learning rate. */
  epochs: number;
  lr: number;
  train(model: MultimodalModel, examples: TrainExample[], opts: { epochs: number; lr: number; hook?: TrainingHook }): EpochLog[];
  /** Mean token cross-entropy of each example (its first response), no gradient. */
  perSampleLoss(model: MultimodalModel, examples: TrainExample[]): Float32Array;
  /** Any per-example score of a batch (e.g. a cross-view divergence), batched as perSampleLoss, no gradient. */
  perSampleScore(model: MultimodalModel, examples: TrainExample[], score: BatchScore): Float32Array;
  rng: Rng;
  progress(detail: string): void;
  /** Per-example suspicion scores, e.g. ABL's isolation losses (negated: low loss = suspect). */
  reportScores?: ScoreSink;
  /** The ids of the training examples the defense dropped; the record scores them against the ground truth. */
  reportRemoved?(ids: string[]): void;
  /**
   * A new model of the run's config (e.g. a probe or a teacher): the run's pre-trained vision tower
   * (frozen where the run freezes it), everything else freshly initialised, so that training it is
   * SFT from scratch on the visual features every stage sees. The defense disposes it.
   */
  freshModel(): MultimodalModel;
  /** Set a model's weights back to the pre-trained ones this stage started from (e.g. to retrain after a probe). */
  restorePretrained(model: MultimodalModel): void;
  /** The plain SFT of this split (the backdoored model), where the defense's `probesBackdoored` asks for it: read it, do not change or dispose it. */
  backdoored?: MultimodalModel;
}

/** What an inference-stage defense that reads the model gets (`guardModel`). */
export interface InferenceContext {
  /** The model under test (backdoored, or defended by nothing else). */
  model: MultimodalModel;
  tok: Tokenizer;
  /** Clean training examples the defender holds, drawn as the post stage's (`cleanFraction`): for calibration. */
  cleanPool: TrainExample[];
  /** The evaluation batch size. */
  batchSize: number;
  progress(detail: string): void;
}

/**
 * A guarded generation: the model to decode with (the same weights; its `startDecoding` may
 * inspect each input and change how it is read), and the count of inputs it flagged, which the
 * evaluation turns into detection rates on the clean and the triggered test inputs.
 */
export interface GuardedModel {
  model: MultimodalModel;
  /** Inputs flagged since the last call; resets the count. */
  takeFlagged(): number;
}

/** What every defense has: an id, a description, and the schema of its parameters. */
interface DefenseBase<P> {
  id: string;
  description: string;
  /** Validates and fills defaults; errors name the field. */
  schema: z.ZodType<P>;
}

/** stage 'none': no defense (plain SFT on the possibly poisoned data). */
export interface NoDefense<P = Record<string, unknown>> extends DefenseBase<P> {
  stage: 'none';
}

/** stage 'training', as a hook that changes the SFT loss or batches. */
export interface HookDefense<P = Record<string, unknown>> extends DefenseBase<P> {
  stage: 'training';
  trainingHook(params: P, ctx: DefenseContext): TrainingHook;
  sft?: never;
}

/** stage 'training', running the whole SFT stage itself (phases, or detect, drop and retrain); returns the epoch logs. */
export interface SftDefense<P = Record<string, unknown>> extends DefenseBase<P> {
  stage: 'training';
  sft(params: P, ctx: SftContext): EpochLog[];
  /**
   * Whether its probe is the model plain SFT trains on the split: the harness then hands it over
   * as `ctx.backdoored` from the stage cache, where the grid's no-defense run finds it too.
   */
  probesBackdoored?(params: P): boolean;
  trainingHook?: never;
}

export type TrainingDefense<P = Record<string, unknown>> = HookDefense<P> | SftDefense<P>;

/** stage 'post': repairs the trained (backdoored) model with clean data. */
export interface PostDefense<P = Record<string, unknown>> extends DefenseBase<P> {
  stage: 'post';
  repair(params: P, ctx: PostContext): MultimodalModel;
  /** Fraction of the clean training split the defender holds, from its params (default 5%). */
  cleanFraction?(params: P): number;
}

/** stage 'inference', transforming each test image before generation. */
export interface TransformDefense<P = Record<string, unknown>> extends DefenseBase<P> {
  stage: 'inference';
  transformTestImage(image: RgbImage, params: P, rng: Rng): RgbImage;
  guardModel?: never;
  cleanFraction?: never;
}

/** stage 'inference', guarding the model's generation (calibrated once per run on `cleanPool`). */
export interface GuardDefense<P = Record<string, unknown>> extends DefenseBase<P> {
  stage: 'inference';
  guardModel(params: P, ctx: InferenceContext): GuardedModel;
  /** Fraction of the clean training split the defender holds for calibration, from its params (default 5%). */
  cleanFraction?(params: P): number;
  transformTestImage?: never;
}

export type InferenceDefense<P = Record<string, unknown>> = TransformDefense<P> | GuardDefense<P>;

/**
 * A defense, keyed by the stage where it acts: each stage's members are required where that
 * stage needs them, so the harness narrows on `stage` (and, where a stage has two forms, on
 * the member present) instead of asserting.
 */
export type Defense<P = Record<string, unknown>> = NoDefense<P> | TrainingDefense<P> | PostDefense<P> | InferenceDefense<P>;

export type DefenseStage = Defense['stage'];

export const DEFENSE_STAGES: readonly DefenseStage[] = ['none', 'training', 'post', 'inference'];

/** The clean fraction a post or guarding inference defense holds (default 5%). */
export function cleanFractionOf<P>(defense: Defense<P>, params: P): number {
  return (defense.stage === 'post' || defense.stage === 'inference' ? defense.cleanFraction?.(params) : undefined) ?? 0.05;
}
