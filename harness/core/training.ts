/**
 * The SFT loop: teacher-forced cross-entropy on (image, prompt, response) examples, with a
 * hook through which training-time defenses (and training-controlled attacks) change the loss
 * or the batch. Pre-training uses the same loop with no hook.
 */
import { adam } from './adam.js';
import { tf } from './engine.js';
import type { PixelImage } from './types.js';
import { encodeText, imagesToTensor, textBatch, type TextBatch, type TrainExample } from './batch.js';
import { crossEntropy, perSampleCrossEntropy } from './losses.js';
import { describeBatch, type TowerFeatureStore } from './frozenTower.js';
import type { EpochLog } from './record.js';
import { Rng } from './rng.js';
import type { Tokenizer } from './tokenizer.js';
import type { MultimodalModel } from '../../models/types.js';

/** What a hook sees of one batch. Never the poison labels: a defense must not peek. */
export interface BatchContext {
  model: MultimodalModel;
  /** Example ids of the batch (for per-example scores). */
  ids: string[];
  /** The batch's images as fed: float for a training-controlled attack's examples, after any transformImages. */
  images: PixelImage[];
  imagesT: tf.Tensor4D;
  text: TextBatch;
  rng: Rng;
  epoch: number;
  step: number;
}

export interface TrainingHook {
  /**
   * Replace the batch images before the forward pass (e.g. ordinary augmentation). It sees the
   * images after the attack (the attacker acts on the data before the defender's pipeline) and
   * must keep each image's kind: a float image stays float and unrounded (generic in T). A changed
   * image must be a new object: an image returned as is counts as unchanged, and a frozen tower
   * reuses its features (frozenTower.ts).
   */
  transformImages?<T extends PixelImage>(images: T[], rng: Rng): T[];
  /** The scalar to minimise; default: cross-entropy on the batch. Called inside the gradient tape. */
  loss?(ctx: BatchContext): tf.Scalar;
  /** Called after every optimizer step (e.g. fine-pruning re-applies its mask to the weights). */
  afterStep?(model: MultimodalModel): void;
  /**
   * Which parameters the defense lets train (e.g. RobustIT: the adapter and text embeddings),
   * given the model; combined with TrainOptions.trainable (both must allow a parameter).
   */
  trainable?(model: MultimodalModel): (name: string) => boolean;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  schedule?: 'cosine' | 'constant';
  warmup?: number;
  seed: number;
  maxText: number;
  hook?: TrainingHook;
  /**
   * Which parameters train, by name; default all. The others get no gradient (their part of the
   * backward pass is skipped) and no optimizer state: a frozen vision tower (harness/run/vision.ts).
   */
  trainable?: (name: string) => boolean;
  onStep?: (info: { epoch: number; step: number; steps: number; loss: number }) => void;
}

export function defaultLoss(ctx: BatchContext): tf.Scalar {
  const logits = ctx.model.forward(ctx.imagesT, ctx.text.tokens);
  return crossEntropy(logits, ctx.text.targets, ctx.text.weights);
}

/** Learning rate at a step: linear warm-up, then cosine decay from lr to lr/10. */
export function learningRate(opts: Pick<TrainOptions, 'lr' | 'schedule' | 'warmup'>, step: number, total: number): number {
  if (opts.schedule === 'constant') return opts.lr;
  const warm = Math.round((opts.warmup ?? 0) * total);
  if (step < warm) return (opts.lr * (step + 1)) / warm;
  const t = total > warm ? (step - warm) / (total - warm) : 1;
  return opts.lr * (0.1 + 0.45 * (1 + Math.cos(Math.PI * Math.min(1, t))));
}

/** The variables a step updates: those both `trainable` and the hook allow (default: all). */
export function trainableVariables(model: MultimodalModel, opts: Pick<TrainOptions, 'trainable' | 'hook'>): tf.Variable[] {
  const hookAllows = opts.hook?.trainable?.(model);
  const vars = [...model.params.vars].filter(([name]) => (opts.trainable?.(name) ?? true) && (hookAllows?.(name) ?? true)).map(([, v]) => v);
  if (vars.length === 0) throw new Error('train: no trainable parameters');
  return vars;
}

export function train(
  model: MultimodalModel,
  tok: Tokenizer,
  examples: TrainExample[],
  opts: TrainOptions,
): EpochLog[] {
  if (examples.length === 0) throw new Error('train: no examples');
  const rng = new Rng(opts.seed);
  const optimizer = adam(opts.lr);
  const vars = trainableVariables(model, opts);
  // A tower none of whose weights train computes each training image's features once.
  const training: ReadonlySet<tf.Variable> = new Set(vars);
  const towerStore: TowerFeatureStore = new Map();
  const steps = Math.ceil(examples.length / opts.batchSize);
  // Training-controlled attacks draw their per-step images from their own stream, never from
  // `rng`: runs without them draw exactly what they always drew.
  const attackRng = new Rng(opts.seed).fork('attack-steps');
  const logs: EpochLog[] = [];
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      const t0 = performance.now();
      const order = rng.shuffle(examples.map((_, i) => i));
      let lossSum = 0;
      for (let step = 0; step < steps; step++) {
        const batch = order.slice(step * opts.batchSize, (step + 1) * opts.batchSize).map((i) => examples[i]);
        const stepRng = attackRng.fork(`${epoch}:${step}`);
        let images: PixelImage[] = batch.map((e) => (e.stepImage ? e.stepImage(stepRng) : e.image));
        if (opts.hook?.transformImages) images = opts.hook.transformImages(images, rng);
        const rows = batch.map((e) => encodeText(tok, e.prompt, rng.choice(e.responses), opts.maxText));
        const text = textBatch(rows);
        const imagesT = imagesToTensor(images);
        if (images.every((im, i) => im === batch[i].image)) describeBatch(imagesT, images, towerStore, training);
        const ctx: BatchContext = { model, ids: batch.map((e) => e.id), images, imagesT, text, rng, epoch, step };
        const lossFn = opts.hook?.loss ?? defaultLoss;
        // Adam reads `learningRate` at every update; tfjs has no schedule API of its own.
        optimizer.learningRate = learningRate(opts, epoch * steps + step, opts.epochs * steps);
        const loss = optimizer.minimize(() => lossFn(ctx), true, vars);
        const value = loss!.dataSync()[0];
        tf.dispose([loss!, imagesT, text.tokens, text.targets, text.weights]);
        opts.hook?.afterStep?.(model);
        if (!Number.isFinite(value)) throw new Error(`training diverged: loss ${value} at epoch ${epoch} step ${step}`);
        lossSum += value;
        opts.onStep?.({ epoch, step, steps, loss: value });
      }
      logs.push({
        epoch,
        loss: lossSum / steps,
        seconds: (performance.now() - t0) / 1000,
        numTensors: tf.memory().numTensors,
      });
    }
  } finally {
    optimizer.dispose();
  }
  return logs;
}

/** One batch of examples with their first responses encoded, for a per-example score. */
export interface ScoredBatch {
  model: MultimodalModel;
  images: PixelImage[];
  imagesT: tf.Tensor4D;
  text: TextBatch;
}

/** A score per example of a batch ([B]), from whatever forward passes it needs. */
export type BatchScore = (b: ScoredBatch) => tf.Tensor1D;

/** A score for each example's first response, batched, without gradients. */
export function perSampleScore(model: MultimodalModel, tok: Tokenizer, examples: TrainExample[], maxText: number, batchSize: number, score: BatchScore): Float32Array {
  const out = new Float32Array(examples.length);
  for (let start = 0; start < examples.length; start += batchSize) {
    const batch = examples.slice(start, start + batchSize);
    const values = tf.tidy(() => {
      const images = batch.map((e) => e.image);
      const text = textBatch(batch.map((e) => encodeText(tok, e.prompt, e.responses[0], maxText)));
      return score({ model, images, imagesT: imagesToTensor(images), text });
    });
    out.set(values.dataSync(), start);
    values.dispose();
  }
  return out;
}

/** Mean token cross-entropy of each example's first response, batched, without gradients. */
export function perSampleLoss(model: MultimodalModel, tok: Tokenizer, examples: TrainExample[], maxText: number, batchSize: number): Float32Array {
  return perSampleScore(model, tok, examples, maxText, batchSize, (b) => perSampleCrossEntropy(b.model.forward(b.imagesT, b.text.tokens), b.text.targets, b.text.weights));
}
