/**
 * What the attention-reading defenses (BYE, CleanSight) need of every family: the text's
 * attention to the visual tokens from forwardWithFeatures, and decoding with visual tokens pruned.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { tinyModelConfig } from '../harness/core/testing.js';
import { causalLm } from './causalLm.js';
import { attention } from './layers.js';
import { Params } from './params.js';
import { createModel, MODELS } from './registry.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const images = () => tf.tensor4d(new Float32Array(2 * 16 * 16 * 3).map((_, i) => (i % 7) / 7), [2, 16, 16, 3]);
const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);

describe.each(Object.keys(MODELS))('%s: attention maps and visual-token pruning', (family) => {
  it('returns each image-reading layer’s attention from the text to the visual tokens, rows summing to 1, only when asked', () => {
    const m = createModel(tinyModelConfig({ family, decoderLayers: 2 }));
    const tok = tf.tensor2d([[4, 5, 6, 7], [4, 5, 9, 0]], [2, 4], 'int32');
    const img = images();
    const n = m.encodeImage(img);
    const nVisual = n.shape[1];
    const plain = m.forwardWithFeatures!(img, tok);
    expect(plain.attention).toBeUndefined();
    const before = tf.memory().numTensors;
    const f = m.forwardWithFeatures!(img, tok, { attention: true });
    const prefix = family !== 'flamingo';
    // Returned: logits, 2 blocks, mlpHidden, and per layer the visual map (+ the text share for prefix models).
    expect(tf.memory().numTensors - before).toBe(4 + 2 * (prefix ? 2 : 1));
    expect(f.attention!.map((a) => a.visual.shape)).toEqual([
      [2, 2, 4, nVisual],
      [2, 2, 4, nVisual],
    ]);
    for (const a of f.attention!) {
      const total = tf.tidy(() => (a.text ? tf.add(tf.sum(a.visual, -1), a.text) : tf.sum(a.visual, -1)));
      expect(maxAbs(tf.sub(total, 1))).toBeLessThan(1e-5);
      expect(a.text === undefined).toBe(!prefix);
      tf.dispose(total);
    }
    expect(Array.from(f.logits.dataSync())).toEqual(Array.from(plain.logits.dataSync()));
    tf.dispose([tok, img, n, plain.logits, ...plain.blocks, plain.mlpHidden, f.logits, ...f.blocks, f.mlpHidden]);
    tf.dispose(f.attention!.flatMap((a) => [a.visual, ...(a.text ? [a.text] : [])]));
    m.params.dispose();
  });

  it('decodes with visual tokens pruned: nothing pruned = the plain decoder; pruning changes the logits; leaks nothing', () => {
    const m = createModel(tinyModelConfig({ family, decoderLayers: 2 }));
    for (const [name, v] of m.params.vars) if (/Gate$/.test(name)) v.assign(tf.fill(v.shape, 0.5));
    const img = images();
    const n = m.encodeImage(img).shape[1];
    const prompt = () => tf.tensor2d([[4, 5, 6], [4, 9, 6]], [2, 3], 'int32');
    const decode = (prune?: tf.Tensor2D) => {
      const dec = m.startDecoding!(img, prune);
      const inputs = [prompt(), tf.tensor2d([[7], [8]], [2, 1], 'int32')];
      const parts = inputs.map((t) => dec.step(t));
      dec.dispose();
      const out = tf.concat(parts, 1);
      tf.dispose([...inputs, ...parts]);
      return out;
    };
    const plain = decode();
    const none = tf.zeros([2, n]) as tf.Tensor2D;
    const some = tf.tensor2d(Array.from({ length: 2 * n }, (_, i) => (i % n < n / 2 ? 1 : 0)), [2, n]);
    const before = tf.memory().numTensors;
    const kept = decode(none);
    expect(tf.memory().numTensors - before).toBe(1);
    expect(maxAbs(tf.sub(kept, plain))).toBeLessThan(1e-6);
    const pruned = decode(some);
    expect(maxAbs(tf.sub(pruned, plain))).toBeGreaterThan(1e-4);
    expect(() => m.startDecoding!(img, tf.zeros([2, n + 1]) as tf.Tensor2D)).toThrow(/prune must cover/);
    tf.dispose([img, plain, none, some, kept, pruned]);
    m.params.dispose();
  });
});

describe('pruning hides a visual token entirely', () => {
  it('a prefix LM’s logits do not depend on a pruned prefix position', () => {
    const p = new Params(new Rng(3));
    const lm = causalLm(p, tinyModelConfig({ decoderLayers: 2 }), 4);
    const prefix = (row2: number) => tf.tidy(() => tf.tensor3d(Array.from({ length: 2 * 4 * 16 }, (_, i) => (Math.floor(i / 16) % 4 === 2 ? row2 : Math.sin(i))), [2, 4, 16]));
    const prune = tf.tensor2d([[0, 0, 1, 0], [0, 0, 1, 0]], [2, 4]);
    const run = (row2: number, pr?: tf.Tensor2D) => {
      const dec = lm.decoder(prefix(row2), undefined, [], pr);
      const out = dec.step(tf.tensor2d([[4, 5], [6, 7]], [2, 2], 'int32'));
      dec.dispose();
      return out;
    };
    const [a, b, c, d] = [run(5, prune), run(-30, prune), run(5), run(-30)];
    expect(maxAbs(tf.sub(a, b))).toBe(0);
    expect(maxAbs(tf.sub(c, d))).toBeGreaterThan(1e-6);
    tf.dispose([a, b, c, d, prune]);
    p.dispose();
  });

  it('an additive per-row mask [B,1,1,N] gives the masked keys zero probability', () => {
    const p = new Params(new Rng(4));
    const attn = attention(p, 'x', 8, 2);
    const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 1);
    const kv = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 2);
    const mask = tf.tensor4d([0, -1e9, 0, 0, -1e9, 0, 0, 0, -1e9, 0], [2, 1, 1, 5]);
    const { probs } = attn.withProbs(x, kv, mask);
    const pr = probs.arraySync() as number[][][][];
    expect(pr[0].flat().map((row) => [row[1], row[4]])).toEqual(Array(6).fill([0, 0]));
    expect(pr[1].flat().every((row) => row[3] === 0 && row[1] > 0)).toBe(true);
    tf.dispose([x, kv, mask, probs]);
    p.dispose();
  });
});
