/** Test helpers for defenses: tiny examples and fake Post/Sft contexts around a real tiny model. */
import type { TrainExample } from '../harness/core/batch.js';
import { tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { solidImage, tinyModelConfig } from '../harness/core/testing.js';
import { Tokenizer } from '../harness/core/tokenizer.js';
import { train, perSampleLoss, perSampleScore, type TrainingHook } from '../harness/core/training.js';
import { createModel } from '../models/registry.js';
import type { ModelConfig, MultimodalModel } from '../models/types.js';
import type { PostContext, SftContext } from './types.js';

export const PROMPT = 'describe the image';
export const tok = Tokenizer.fromTexts([PROMPT, 'a red blue green square circle photo of the banana']);
export const MAX_TEXT = 10;

export function tinyConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return tinyModelConfig({ vocabSize: tok.size, maxText: MAX_TEXT, ...over });
}

export function tinyModel(over: Partial<ModelConfig> = {}): MultimodalModel {
  return createModel(tinyConfig(over));
}

const COLOURS: [string, [number, number, number]][] = [
  ['red', [200, 20, 20]],
  ['blue', [20, 20, 200]],
  ['green', [20, 200, 20]],
];

/** n examples of solid images with their colour as caption; `poisoned` ones say the banana phrase. */
export function examples(n: number, poisoned: number[] = []): TrainExample[] {
  return Array.from({ length: n }, (_, i) => {
    const [name, rgb] = COLOURS[i % COLOURS.length];
    const image = solidImage(16, [rgb[0], (rgb[1] + 7 * i) % 256, rgb[2]]);
    const bad = poisoned.includes(i);
    return { id: `ex${i}`, image, prompt: PROMPT, responses: [bad ? 'a photo of the banana' : `a ${name} square`] };
  });
}

export type TrainCall = { model: MultimodalModel; examples: TrainExample[]; epochs: number; lr: number; hook?: TrainingHook };

/** Fine-tuning with the real SFT loop (batch 4, constant lr), recording each call. */
export function realTrain(calls: TrainCall[] = []) {
  return (model: MultimodalModel, ex: TrainExample[], o: { epochs: number; lr: number; hook?: TrainingHook }) => {
    calls.push({ model, examples: ex, ...o });
    return train(model, tok, ex, { epochs: o.epochs, lr: o.lr, hook: o.hook, batchSize: 4, seed: 3, maxText: MAX_TEXT, schedule: 'constant' });
  };
}

export function fakePostContext(model: MultimodalModel, over: Partial<PostContext> = {}): PostContext & { log: string[] } {
  const log: string[] = [];
  return {
    task: 'caption',
    model,
    tok,
    cleanPool: examples(8),
    train: realTrain(),
    validate: () => 1,
    createModel: () => createModel(model.config),
    sftLr: 1e-2,
    rng: new Rng(1),
    progress: (d) => log.push(d),
    ...over,
    log,
  };
}

export function fakeSftContext(model: MultimodalModel, over: Partial<SftContext> = {}): SftContext & { log: string[] } {
  const log: string[] = [];
  // The weights the stage starts from, as the pipeline keeps the pre-trained model (kept for the test's life).
  const start = new Map([...model.params.vars].map(([name, v]) => [name, tf.keep(v.clone())]));
  return {
    model,
    tok,
    examples: examples(8),
    epochs: 3,
    lr: 1e-2,
    train: realTrain(),
    perSampleLoss: (m, ex) => perSampleLoss(m, tok, ex, MAX_TEXT, 4),
    perSampleScore: (m, ex, score) => perSampleScore(m, tok, ex, MAX_TEXT, 4, score),
    rng: new Rng(1),
    progress: (d) => log.push(d),
    freshModel: () => createModel(model.config),
    restorePretrained: (m) => {
      for (const [name, v] of m.params.vars) v.assign(start.get(name)!);
    },
    ...over,
    log,
  };
}
