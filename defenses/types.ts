/**
 * The defense plugin boundary. A defense acts at one stage:
 * - training: hooks into the SFT loop on the (possibly poisoned) data;
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
import type { TrainingHook } from '../harness/core/training.js';
import type { ModelConfig, MultimodalModel } from '../models/types.js';

export type DefenseStage = 'none' | 'training' | 'post' | 'inference';

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
  model: MultimodalModel;
  tok: Tokenizer;
  /** The (possibly poisoned) training split; a defense must never read `poisoned`. */
  examples: TrainExample[];
  /** The experiment's SFT epochs and learning rate. */
  epochs: number;
  lr: number;
  train(model: MultimodalModel, examples: TrainExample[], opts: { epochs: number; lr: number; hook?: TrainingHook }): EpochLog[];
  /** Mean token cross-entropy of each example (its first response), no gradient. */
  perSampleLoss(model: MultimodalModel, examples: TrainExample[]): Float32Array;
  rng: Rng;
  progress(detail: string): void;
  /** Per-example suspicion scores, e.g. ABL's isolation losses (negated: low loss = suspect). */
  reportScores?: ScoreSink;
  /** The ids of the training examples the defense dropped; the record scores them against the ground truth. */
  reportRemoved?(ids: string[]): void;
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

export interface Defense<P = Record<string, unknown>> {
  id: string;
  stage: DefenseStage;
  description: string;
  schema: z.ZodType<P>;
  /** stage 'training': the hook that changes the SFT loss or batches. */
  trainingHook?(params: P, ctx: DefenseContext): TrainingHook;
  /** stage 'training', instead of a hook: run the whole SFT stage (returns the epoch logs). */
  sft?(params: P, ctx: SftContext): EpochLog[];
  /** stage 'post': repair a trained model with clean data. */
  repair?(params: P, ctx: PostContext): MultimodalModel;
  /** Fraction of the clean training split the defender holds (post stage, and `guardModel`), from its params. */
  cleanFraction?(params: P): number;
  /** stage 'inference': transform one test image before generation. */
  transformTestImage?(image: RgbImage, params: P, rng: Rng): RgbImage;
  /** stage 'inference', instead: guard the model's generation (calibrated once per run on `cleanPool`). */
  guardModel?(params: P, ctx: InferenceContext): GuardedModel;
}
