/** Helpers for tests: a tiny model config, solid-colour images, a two-caption colour task. */
import type { TrainExample } from './batch.js';
import type { RgbImage } from './types.js';
import { Tokenizer } from './tokenizer.js';
import type { ModelConfig } from '../../models/types.js';

export function tinyModelConfig(over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    family: 'llava',
    imageSize: 16,
    patch: 4,
    merge: 2,
    width: 16,
    heads: 2,
    encoderLayers: 1,
    decoderLayers: 1,
    mlpRatio: 2,
    vocabSize: 20,
    maxText: 8,
    seed: 1,
    ...over,
  };
}

export function solidImage(size: number, rgb: [number, number, number]): RgbImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set(rgb, i * 3);
  return { height: size, width: size, data };
}

/** Two images whose captions differ only by colour: only a model that sees the image gets both. */
export function colourTask(): { tok: Tokenizer; ex: TrainExample[] } {
  const tok = Tokenizer.fromTexts(['describe the image', 'red blue square']);
  const ex: TrainExample[] = [
    { id: 'r', image: solidImage(16, [200, 0, 0]), prompt: 'describe the image', responses: ['red square'] },
    { id: 'b', image: solidImage(16, [0, 0, 200]), prompt: 'describe the image', responses: ['blue square'] },
  ];
  return { tok, ex };
}
