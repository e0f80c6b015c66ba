import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../harness/run/checkpoint.js';
import { generate } from '../harness/core/decode.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { solidImage, tinyModelConfig } from '../harness/core/testing.js';
import { Tokenizer } from '../harness/core/tokenizer.js';
import { train } from '../harness/core/training.js';
import { createModel } from './registry.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const images = () => tf.tensor4d(new Float32Array(2 * 16 * 16 * 3).map((_, i) => (i % 7) / 7), [2, 16, 16, 3]);

describe('llava model', () => {
  it('the same seed gives the same weights; the image changes the output', () => {
    const m1 = createModel(tinyModelConfig());
    const m2 = createModel(tinyModelConfig());
    const tok = tf.tensor2d([[4, 5, 6], [4, 5, 6]], [2, 3], 'int32');
    const img = images();
    const y1 = m1.forward(img, tok).dataSync();
    const y2 = m2.forward(img, tok).dataSync();
    expect(Array.from(y1)).toEqual(Array.from(y2));
    const other = tf.zerosLike(img) as tf.Tensor4D;
    const y3 = m1.forward(other, tok).dataSync();
    expect(Array.from(y3)).not.toEqual(Array.from(y1));
    tf.dispose([tok, img, other]);
    m1.params.dispose();
    m2.params.dispose();
  });

  it('checkpoint save → load gives identical greedy outputs', async () => {
    const tok = Tokenizer.fromTexts(['describe the image', 'red blue green square']);
    const cfg = tinyModelConfig({ vocabSize: tok.size, maxText: 10 });
    const m = createModel(cfg);
    const ex = [
      { id: 'a', image: solidImage(16, [200, 0, 0]), prompt: 'describe the image', responses: ['red square'], poisoned: false },
      { id: 'b', image: solidImage(16, [0, 0, 200]), prompt: 'describe the image', responses: ['blue square'], poisoned: false },
    ];
    train(m, tok, ex, { epochs: 3, batchSize: 2, lr: 1e-2, seed: 1, maxText: 10 });
    const inputs = ex.map((e) => ({ image: e.image, prompt: e.prompt }));
    const opts = { maxText: 10, maxNewTokens: 6, batchSize: 2 };
    const before = generate(m, tok, inputs, opts);
    const dir = mkdtempSync(join(tmpdir(), 'mbb-ckpt-'));
    await saveCheckpoint(dir, m, tok);
    const loaded = loadCheckpoint(dir);
    expect(loaded.tok.words).toEqual(tok.words);
    expect(generate(loaded.model, loaded.tok, inputs, opts)).toEqual(before);
    m.params.dispose();
    loaded.model.params.dispose();
  });

});
