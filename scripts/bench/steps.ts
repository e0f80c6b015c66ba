/**
 * The workloads `npm run bench` times, built the way the harness runs them: one SFT step (the
 * training loop's loss and Adam update, fused where the training loop's is), one PCR step (the defense's training hook) and greedy
 * decoding of an evaluation batch, for a model family at a task's default-profile size.
 */
import { getDefense } from '../../defenses/registry.js';
import { adam } from '../../harness/core/adam.js';
import { encodeText, imagesToTensor, textBatch } from '../../harness/core/batch.js';
import { configForTask, experimentSchema, layer, parseWith, type ExperimentConfig } from '../../harness/config/schema.js';
import type { Sample, Task } from '../../harness/core/types.js';
import { generateShapesWorld } from '../../harness/data/shapesWorld.js';
import { generate } from '../../harness/core/decode.js';
import { tf } from '../../harness/core/engine.js';
import { maxTextFor, modelConfigFor } from '../../harness/run/context.js';
import { PROFILES } from '../../harness/config/profiles.js';
import { Rng } from '../../harness/core/rng.js';
import { Tokenizer } from '../../harness/core/tokenizer.js';
import { defaultLoss, trainableVariables, type BatchContext, type TrainingHook } from '../../harness/core/training.js';
import { outsideVisionTower } from '../../models/layers.js';
import { createModel } from '../../models/registry.js';
import type { MultimodalModel } from '../../models/types.js';

export interface Workload {
  task: Task;
  exp: ExperimentConfig;
  model: MultimodalModel;
  tok: Tokenizer;
  maxText: number;
  train: Sample[];
  test: Sample[];
}

/** The default profile's config for a task, with the given layered on top (e.g. a model size). */
export function benchConfig(task: Task, over: Record<string, unknown> = {}): ExperimentConfig {
  const exp = parseWith(experimentSchema, layer(PROFILES.default, over), 'bench config');
  return configForTask(exp, task);
}

export function makeWorkload(family: string, task: Task, exp: ExperimentConfig, evalSamples = 100): Workload {
  const batch = exp.sft.batchSize;
  const ds = generateShapesWorld({ seed: 1, nTrain: batch, nVal: 1, nTest: evalSamples, imageSize: exp.data.imageSize, questionsPerImage: 1 }, task);
  const tok = Tokenizer.fromTexts([...ds.train, ...ds.test].flatMap((s) => [s.prompt, ...s.refs]));
  const spec = { exp, task, model: family, attack: { id: 'badnets', params: {} }, defense: { id: 'none', params: {} }, seed: 1 };
  const model = createModel(modelConfigFor(spec, tok.size));
  return { task, exp, model, tok, maxText: maxTextFor(spec), train: ds.train.slice(0, batch), test: ds.test };
}

/**
 * One optimizer step on a fixed batch, as harness/core/training.ts takes it (hook images, hook loss
 * or cross-entropy, Adam), every parameter trained unless `frozenTower`. Returns the step and a
 * dispose for its tensors and optimizer.
 */
export function makeTrainStep(w: Workload, hook?: TrainingHook, opts: { frozenTower?: boolean } = {}): { step: () => number; dispose: () => void } {
  const optimizer = adam(1e-3);
  // A frozen vision tower (docs/models.md) gets no gradient and no optimizer state, as in training.ts.
  const vars = trainableVariables(w.model, { hook, trainable: opts.frozenTower ? outsideVisionTower : undefined });
  const rng = new Rng(1);
  const text = textBatch(w.train.map((s) => encodeText(w.tok, s.prompt, s.refs[0], w.maxText)));
  const step = () => {
    const images = hook?.transformImages ? hook.transformImages(w.train.map((s) => s.image), rng) : w.train.map((s) => s.image);
    const imagesT = imagesToTensor(images);
    const ctx: BatchContext = { model: w.model, ids: w.train.map((s) => s.id), images, imagesT, text, rng, epoch: 0, step: 0 };
    const loss = optimizer.minimize(() => (hook?.loss ?? defaultLoss)(ctx), true, vars)!;
    const value = loss.dataSync()[0];
    tf.dispose([loss, imagesT]);
    hook?.afterStep?.(w.model);
    return value;
  };
  return { step, dispose: () => (tf.dispose([text.tokens, text.targets, text.weights]), optimizer.dispose()) };
}

/** PCR's training hook with its default knobs (or these overrides), for this workload's model. */
export function pcrHook(w: Workload, over: Record<string, unknown> = {}): TrainingHook {
  const pcr = getDefense('pcr');
  if (pcr.stage !== 'training' || !pcr.trainingHook) throw new Error('pcr: expected a training hook');
  const params = parseWith(pcr.schema, over, 'pcr params');
  return pcr.trainingHook(params, { task: w.task, model: w.model.config });
}

/** Greedy decoding of the workload's test split; `uncached` forces repeated full forward passes. */
export function decodeAll(w: Workload, uncached = false): string[] {
  const inputs = w.test.map((s) => ({ image: s.image, prompt: s.prompt }));
  return generate(w.model, w.tok, inputs, { maxText: w.maxText, batchSize: w.exp.eval.batchSize, uncached });
}
