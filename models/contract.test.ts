/**
 * What every model family promises the harness and the defenses (models/types.ts), checked for
 * each registered family: causal next-token logits; forwardWithFeatures gives forward's logits plus every LM block's
 * output and the last block's MLP activation, leaks nothing, and `lastMlp` names that MLP's
 * parameters (fine-pruning zeroes a neuron through them). tf.memory() across training epochs
 * is checked per family in harness/run/checkpointProcess.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../harness/core/decode.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { solidImage, tinyModelConfig } from '../harness/core/testing.js';
import { Tokenizer } from '../harness/core/tokenizer.js';
import { createModel, MODELS } from './registry.js';
import type { IncrementalDecoder } from './types.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const images = (n = 2) => tf.tensor4d(new Float32Array(n * 16 * 16 * 3).map((_, i) => (i % 7) / 7), [n, 16, 16, 3]);
const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);

describe.each(Object.keys(MODELS))('%s: the MultimodalModel contract', (family) => {
  it('gives next-token logits [B,L,V], causal over the text', () => {
    const m = createModel(tinyModelConfig({ family }));
    // Open any gate (flamingo's start closed) so that every branch takes part in the output.
    for (const [name, v] of m.params.vars) if (/Gate$/.test(name)) v.assign(tf.fill(v.shape, 0.5));
    const tokA = tf.tensor2d([[4, 5, 6, 7, 8, 9], [4, 5, 6, 7, 8, 9]], [2, 6], 'int32');
    const tokB = tf.tensor2d([[4, 5, 6, 7, 8, 10], [4, 5, 6, 7, 8, 10]], [2, 6], 'int32');
    const img = images();
    const a = m.forward(img, tokA);
    const b = m.forward(img, tokB);
    expect(a.shape).toEqual([2, 6, 20]);
    // Changing the last token leaves every earlier position's logits unchanged.
    expect(maxAbs(tf.sub(a.slice([0, 0, 0], [2, 5, 20]), b.slice([0, 0, 0], [2, 5, 20])))).toBe(0);
    expect(maxAbs(tf.sub(a.slice([0, 5, 0], [2, 1, 20]), b.slice([0, 5, 0], [2, 1, 20])))).toBeGreaterThan(0);
    tf.dispose([a, b, tokA, tokB, img]);
    m.params.dispose();
  });

  it('forwardWithFeatures: the same logits as forward, every LM block over its whole sequence (text last), the last MLP activation', () => {
    const m = createModel(tinyModelConfig({ family, decoderLayers: 2 }));
    const tok = tf.tensor2d([[4, 5, 6, 7], [4, 5, 9, 0]], [2, 4], 'int32');
    const img = images();
    const plain = m.forward(img, tok);
    m.forwardWithFeatures!(img, tok); // the first call builds the cached mask for this length
    const before = tf.memory().numTensors;
    const f = m.forwardWithFeatures!(img, tok);
    // Only the returned tensors survive: logits, 2 blocks, mlpHidden.
    expect(tf.memory().numTensors - before).toBe(4);
    expect(Array.from(f.logits.dataSync())).toEqual(Array.from(plain.dataSync()));
    const s = f.blocks[0].shape[1];
    expect(s).toBeGreaterThanOrEqual(4);
    expect(f.blocks.map((b) => b.shape)).toEqual([
      [2, s, 16],
      [2, s, 16],
    ]);
    expect(f.mlpHidden.shape).toEqual([2, s, 32]);

    const names = m.lastMlp!;
    expect(names).toEqual({ fcW: 'lm/block1/mlp/fc/w', fcB: 'lm/block1/mlp/fc/b', projW: 'lm/block1/mlp/proj/w', hidden: 32 });
    expect(m.params.get(names.fcW).shape).toEqual([16, 32]);
    expect(m.params.get(names.fcB).shape).toEqual([32]);
    expect(m.params.get(names.projW).shape).toEqual([32, 16]);
    // mlpHidden is that MLP's activation: zeroing neuron 5's fc column and bias zeroes it (GELU(0) = 0).
    const keep = tf.tensor1d(Array.from({ length: 32 }, (_, j) => (j === 5 ? 0 : 1)));
    m.params.get(names.fcW).assign(tf.mul(m.params.get(names.fcW), keep.reshape([1, -1])));
    m.params.get(names.fcB).assign(tf.mul(m.params.get(names.fcB), keep));
    const g = m.forwardWithFeatures!(img, tok);
    expect(maxAbs(g.mlpHidden.slice([0, 0, 5], [2, s, 1]))).toBe(0);
    expect(maxAbs(g.mlpHidden.slice([0, 0, 4], [2, s, 1]))).toBeGreaterThan(0);
    tf.dispose([plain, f.logits, ...f.blocks, f.mlpHidden, g.logits, ...g.blocks, g.mlpHidden, tok, img, keep]);
    m.params.dispose();
  });

  it("forward's gradients equal those through forwardWithFeatures' logits, to the bit (prefix models compute the last block's text rows only)", () => {
    const m = createModel(tinyModelConfig({ family, decoderLayers: 2 }));
    for (const [name, v] of m.params.vars) if (/Gate$/.test(name)) v.assign(tf.fill(v.shape, 0.5));
    const tok = tf.tensor2d([[4, 5, 6, 7], [4, 5, 9, 0]], [2, 4], 'int32');
    const img = images();
    const w = tf.tensor3d(Array.from({ length: 2 * 4 * 20 }, (_, i) => Math.sin(i)), [2, 4, 20]);
    const vars = [...m.params.vars.values()];
    const grads = (logits: () => tf.Tensor) => {
      const { grads: g } = tf.variableGrads(() => tf.sum(tf.mul(logits(), w)) as tf.Scalar, vars);
      const flat = vars.map((v) => Array.from(g[v.name].dataSync()));
      tf.dispose(Object.values(g));
      return flat;
    };
    const plain = grads(() => m.forward(img, tok));
    const full = grads(() => {
      const f = m.forwardWithFeatures!(img, tok);
      tf.dispose([...f.blocks, f.mlpHidden]);
      return f.logits;
    });
    expect(plain).toEqual(full);
    tf.dispose([tok, img, w]);
    m.params.dispose();
  });

  it('decodes incrementally: the image encoded once, a key/value cache per block, the logits of forward', () => {
    const m = createModel(tinyModelConfig({ family, decoderLayers: 2 }));
    for (const [name, v] of m.params.vars) if (/Gate$/.test(name)) v.assign(tf.fill(v.shape, 0.5));
    const rows = [
      [4, 5, 6, 7, 8, 9],
      [4, 9, 6, 11, 8, 2],
    ];
    const img = images();
    const full = m.forward(img, tf.tensor2d(rows, [2, 6], 'int32'));
    const dec = m.startDecoding!(img);
    // The prompt (3 tokens) in one step, then one token per step.
    const parts = [dec.step(tf.tensor2d(rows.map((r) => r.slice(0, 3)), [2, 3], 'int32'))];
    for (let t = 3; t < 6; t++) parts.push(dec.step(tf.tensor2d(rows.map((r) => [r[t]]), [2, 1], 'int32')));
    const inc = tf.concat(parts, 1);
    expect(inc.shape).toEqual(full.shape);
    expect(maxAbs(tf.sub(inc, full))).toBeLessThan(1e-5);
    expect(() => dec.step(tf.tensor2d([[1, 2], [1, 2]], [2, 2], 'int32'))).toThrow(/one token per step/);
    dec.dispose();
    tf.dispose([full, inc, ...parts, img]);
    m.params.dispose();
  });

  it('decodes prompts of different lengths in one left-padded batch: each row as if alone', () => {
    const m = createModel(tinyModelConfig({ family, decoderLayers: 2 }));
    for (const [name, v] of m.params.vars) if (/Gate$/.test(name)) v.assign(tf.fill(v.shape, 0.5));
    const prompts = [[4, 5, 6, 7], [9, 8], [10, 4, 6]];
    const pad = prompts.map((r) => 4 - r.length);
    const img = images(3);
    const feed = (dec: IncrementalDecoder, rows: number[][], pad?: number[]) => {
      const x = tf.tensor2d(rows, [rows.length, rows[0].length], 'int32');
      const out = dec.step(x, pad);
      x.dispose();
      return out;
    };
    // Alone: each row's prompt, then two tokens.
    const alone = prompts.map((r, i) => {
      const one = img.slice([i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      const dec = m.startDecoding!(one);
      const out = [feed(dec, [r]), feed(dec, [[11]]), feed(dec, [[12]])];
      const last = out.map((o) => o.slice([0, o.shape[1] - 1, 0], [1, 1, -1]));
      dec.dispose();
      tf.dispose([one, ...out]);
      return last;
    });
    const before = tf.memory().numTensors; // after the causal masks of every prompt length were built (they live with the model)
    const dec = m.startDecoding!(img);
    const padded = prompts.map((r, i) => [...Array(pad[i]).fill(0), ...r]);
    const steps = [feed(dec, padded, pad), feed(dec, [[11], [11], [11]]), feed(dec, [[12], [12], [12]])];
    steps.forEach((o, t) =>
      prompts.forEach((_, i) => expect(tf.tidy(() => maxAbs(tf.sub(o.slice([i, o.shape[1] - 1, 0], [1, 1, -1]), alone[i][t]))), `row ${i} step ${t}`).toBeLessThan(1e-5)),
    );
    const bad = m.startDecoding!(img);
    const prompt = tf.tensor2d(padded, [3, 4], 'int32');
    expect(() => bad.step(prompt, [0, 4, 1])).toThrow(/pad must give each of the 3 rows 0 to 3 padding columns/);
    bad.dispose();
    dec.dispose();
    tf.dispose([...steps, prompt]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...alone.flat(), img]);
    m.params.dispose();
  });

  it('greedy decoding with the cache gives the tokens of repeated forward passes, and leaks nothing', () => {
    const m = createModel(tinyModelConfig({ family, decoderLayers: 2, maxText: 10 }));
    for (const [name, v] of m.params.vars) if (/Gate$/.test(name)) v.assign(tf.fill(v.shape, 0.5));
    const tok = Tokenizer.fromTexts(['describe the image what colour is it red blue square']);
    // Prompts of three lengths in one batch: the cached decoder left-pads the shorter ones.
    const inputs = ['describe the image', 'what colour is it', 'describe it', 'red'].flatMap((prompt, i) => [
      { image: solidImage(16, [40 * i, 200 - 40 * i, 90]), prompt },
      { image: solidImage(16, [200, 30 * i, 10]), prompt },
    ]);
    const opts = { maxText: 10, maxNewTokens: 6, batchSize: 5 };
    generate(m, tok, inputs, opts); // the causal mask of each prompt length is built once, then kept
    const before = tf.memory().numTensors;
    const cached = generate(m, tok, inputs, opts);
    expect(tf.memory().numTensors).toBe(before);
    expect(cached).toEqual(generate(m, tok, inputs, { ...opts, uncached: true }));
    expect(cached.some((c) => c.length > 0)).toBe(true);
    m.params.dispose();
  });

  it('refuses text longer than maxText, naming both lengths', () => {
    const m = createModel(tinyModelConfig({ family, maxText: 4 }));
    const tok = tf.zeros([1, 5], 'int32') as tf.Tensor2D;
    const img = tf.zeros([1, 16, 16, 3]) as tf.Tensor4D;
    expect(() => m.forward(img, tok)).toThrow(/text length 5 exceeds model maxText 4/);
    tf.dispose([tok, img]);
    m.params.dispose();
  });
});
