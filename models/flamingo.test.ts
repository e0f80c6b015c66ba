import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../harness/core/decode.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { colourTask, tinyModelConfig } from '../harness/core/testing.js';
import { perSampleLoss, train } from '../harness/core/training.js';
import { GATE_INIT } from './flamingo.js';
import { createModel } from './registry.js';
import type { ModelConfig } from './types.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const cfg = (over: Partial<ModelConfig> = {}) => tinyModelConfig({ family: 'flamingo', ...over });
const images = () => tf.tensor4d(new Float32Array(2 * 16 * 16 * 3).map((_, i) => (i % 7) / 7), [2, 16, 16, 3]);
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
const gateNames = (m: { params: { vars: Map<string, unknown> } }) => [...m.params.vars.keys()].filter((n) => n.endsWith('Gate'));

describe('flamingo model', () => {
  it('puts a gated cross-attention block before every crossEvery-th LM block; the LM sees text only', () => {
    const every2 = createModel(cfg({ decoderLayers: 3, crossEvery: 2 }));
    expect(gateNames(every2)).toEqual(['lm/xattn0/attnGate', 'lm/xattn0/mlpGate', 'lm/xattn2/attnGate', 'lm/xattn2/mlpGate']);
    expect(every2.params.get('lm/pos').shape).toEqual([1, 8, 16]);
    const img = images();
    const vis = every2.encodeImage(img);
    expect(vis.shape).toEqual([2, (16 / 4 / 2) ** 2, 16]);
    tf.dispose([vis, img]);
    every2.params.dispose();
    const every1 = createModel(cfg({ decoderLayers: 3 }));
    expect(gateNames(every1)).toHaveLength(6);
    for (const n of gateNames(every1)) expect(every1.params.get(n).dataSync()[0]).toBe(GATE_INIT);
    every1.params.dispose();
    expect(() => createModel(cfg({ crossEvery: 0 }))).toThrow(/flamingo: model\.crossEvery must be a whole number ≥ 1, got 0/);
    expect(() => createModel(cfg({ merge: 3 }))).toThrow(/flamingo: merge 3 does not divide the 4x4 patch grid/);
  });

  it('the same seed gives the same logits, another seed others; closed gates (init) ignore the image', () => {
    const [m1, m2, m3] = [cfg(), cfg(), cfg({ seed: 2 })].map(createModel);
    const tok = tf.tensor2d([[4, 5, 6], [4, 5, 6]], [2, 3], 'int32');
    const img = images();
    const other = tf.zerosLike(img) as tf.Tensor4D;
    const [y1, y2, y3, y4] = [m1.forward(img, tok), m2.forward(img, tok), m3.forward(img, tok), m1.forward(other, tok)];
    expect(Array.from(y1.dataSync())).toEqual(Array.from(y2.dataSync()));
    expect(maxAbsDiff(y1, y3)).toBeGreaterThan(0);
    // Flamingo's zero-initialised tanh gates: the untrained model is exactly its text-only LM.
    expect(GATE_INIT).toBe(0);
    expect(maxAbsDiff(y1, y4)).toBe(0);
    tf.dispose([tok, img, other, y1, y2, y3, y4]);
    for (const m of [m1, m2, m3]) m.params.dispose();
  });

  it('the gates open in training: loss falls and greedy decoding reads the colour from the image', () => {
    const { tok, ex } = colourTask();
    const m = createModel(cfg({ vocabSize: tok.size, maxText: 8 }));
    const loss = () => Array.from(perSampleLoss(m, tok, ex, 8, 2)).reduce((a, b) => a + b) / ex.length;
    const before = loss();
    train(m, tok, ex, { epochs: 60, batchSize: 2, lr: 1e-2, schedule: 'constant', seed: 1, maxText: 8 });
    expect(loss()).toBeLessThan(before / 4);
    for (const n of gateNames(m)) expect(Math.abs(m.params.get(n).dataSync()[0])).toBeGreaterThan(1e-3);
    const inputs = ex.map((e) => ({ image: e.image, prompt: e.prompt }));
    expect(generate(m, tok, inputs, { maxText: 8, maxNewTokens: 4, batchSize: 2 })).toEqual(['red square', 'blue square']);
    m.params.dispose();
  });

});
