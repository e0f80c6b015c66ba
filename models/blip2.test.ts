import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../harness/core/decode.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { colourTask, tinyModelConfig } from '../harness/core/testing.js';
import { perSampleLoss, train } from '../harness/core/training.js';
import { BLIP2_DEFAULTS } from './blip2.js';
import { createModel } from './registry.js';
import type { ModelConfig } from './types.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const cfg = (over: Partial<ModelConfig> = {}) => tinyModelConfig({ family: 'blip2', queries: 3, qformerLayers: 2, ...over });
const images = () => tf.tensor4d(new Float32Array(2 * 16 * 16 * 3).map((_, i) => (i % 7) / 7), [2, 16, 16, 3]);
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('blip2 model', () => {
  it('compresses the image to `queries` prefix tokens, whatever the patch grid', () => {
    const img = images();
    for (const patch of [2, 4]) {
      const m = createModel(cfg({ patch, queries: 5 }));
      const vis = m.encodeImage(img);
      expect(vis.shape).toEqual([2, 5, 16]);
      expect(m.params.get('qformer/queries').shape).toEqual([1, 5, 16]);
      expect(m.params.get('lm/pos').shape).toEqual([1, 5 + 8, 16]);
      vis.dispose();
      m.params.dispose();
    }
    const d = createModel(cfg({ queries: undefined, qformerLayers: undefined }));
    expect(d.params.get('qformer/queries').shape).toEqual([1, BLIP2_DEFAULTS.queries, 16]);
    expect(() => d.params.get(`qformer/layer${BLIP2_DEFAULTS.qformerLayers - 1}/cross/q/w`)).not.toThrow();
    expect(() => d.params.get(`qformer/layer${BLIP2_DEFAULTS.qformerLayers}/cross/q/w`)).toThrow(/unknown parameter/);
    d.params.dispose();
    img.dispose();
    expect(() => createModel(cfg({ queries: 0 }))).toThrow(/blip2: model\.queries must be a whole number ≥ 1, got 0/);
  });

  it('the same seed gives the same logits, another seed others; the image changes the output', () => {
    const [m1, m2, m3] = [cfg(), cfg(), cfg({ seed: 2 })].map(createModel);
    const tok = tf.tensor2d([[4, 5, 6], [4, 5, 6]], [2, 3], 'int32');
    const img = images();
    const other = tf.zerosLike(img) as tf.Tensor4D;
    const [y1, y2, y3, y4] = [m1.forward(img, tok), m2.forward(img, tok), m3.forward(img, tok), m1.forward(other, tok)];
    expect(Array.from(y1.dataSync())).toEqual(Array.from(y2.dataSync()));
    expect(maxAbsDiff(y1, y3)).toBeGreaterThan(0);
    expect(maxAbsDiff(y1, y4)).toBeGreaterThan(1e-4);
    tf.dispose([tok, img, other, y1, y2, y3, y4]);
    for (const m of [m1, m2, m3]) m.params.dispose();
  });

  it('learns an image-dependent caption in a few steps (loss falls, greedy decoding reads the colour)', () => {
    const { tok, ex } = colourTask();
    const m = createModel(cfg({ vocabSize: tok.size, maxText: 8 }));
    const loss = () => Array.from(perSampleLoss(m, tok, ex, 8, 2)).reduce((a, b) => a + b) / ex.length;
    const before = loss();
    train(m, tok, ex, { epochs: 60, batchSize: 2, lr: 1e-2, schedule: 'constant', seed: 1, maxText: 8 });
    expect(loss()).toBeLessThan(before / 4);
    const inputs = ex.map((e) => ({ image: e.image, prompt: e.prompt }));
    expect(generate(m, tok, inputs, { maxText: 8, maxNewTokens: 4, batchSize: 2 })).toEqual(['red square', 'blue square']);
    m.params.dispose();
  });

});
