import { beforeAll, describe, expect, it } from 'vitest';
import { textBatch, encodeText } from '../harness/core/batch.js';
import { parseWith } from '../harness/config/schema.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { solidImage } from '../harness/core/testing.js';
import { UNK } from '../harness/core/tokenizer.js';
import { MODELS } from '../models/registry.js';
import { examples, MAX_TEXT, realTrain, tinyModel, tok } from './context.testutil.js';
import { aarPenalty, anomalousChannels, channelSharpness, diversify, dropPromptWords, robustit, robustItTrainable } from './robustit.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

describe('RobustIT: anomalous activation regularisation', () => {
  it('measures each channel’s sharpness max|a| / mean|a| over every token of the batch', () => {
    // [B=1, N=4, C=3]: channel 0 flat, channel 1 one spike, channel 2 signs only.
    const acts = tf.tensor3d([[[1, 0, -2], [1, 0, 2], [1, 0, -2], [1, 8, 2]]]);
    expect(Array.from(channelSharpness(acts))).toEqual([1, 4, 1]);
    acts.dispose();
  });

  it('flags the channels more than kappa standard deviations above the mean sharpness', () => {
    const s = [1, 1.1, 0.9, 1, 1, 1, 1, 1, 1, 6];
    // mean 1.4, sd ≈ 1.53: 6 > 1.4 + 2·1.53 but not > 1.4 + 3·1.53
    expect(anomalousChannels(s, 2)).toEqual([9]);
    expect(anomalousChannels(s, 3)).toEqual([]);
    expect(anomalousChannels([2, 2, 2], 1)).toEqual([]);
  });

  it('penalises the mean |w| of the flagged output columns, and only them', () => {
    const w = tf.variable(tf.tensor2d([[1, -2, 0.5], [3, 4, -0.5]]));
    expect(aarPenalty(w, [1]).dataSync()[0]).toBeCloseTo(3, 6); // (2 + 4) / 2
    expect(aarPenalty(w, [0, 2]).dataSync()[0]).toBeCloseTo(2 + 0.5, 6);
    expect(aarPenalty(w, []).dataSync()[0]).toBe(0);
    const g = tf.variableGrads(() => aarPenalty(w, [1]), [w]).grads;
    // d/dw mean|w| = sign(w)/2 on column 1, zero elsewhere
    expect(Array.from(g[w.name].dataSync())).toEqual([0, -0.5, 0, 0, 0.5, 0]);
    tf.dispose([w, ...Object.values(g)]);
  });
});

describe('RobustIT: input diversity', () => {
  it('shifts and recolours each image with its own draw; zero sizes are the identity', () => {
    const img = solidImage(8, [100, 100, 100]);
    img.data.set([250, 0, 0], 0); // a corner "trigger" pixel
    expect(diversify(img, { maxShift: 0, colorJitter: 0 }, new Rng(1)).data).toEqual(img.data);
    const a = diversify(img, { maxShift: 2, colorJitter: 0.2 }, new Rng(1));
    const b = diversify(img, { maxShift: 2, colorJitter: 0.2 }, new Rng(2));
    expect(a.data).not.toEqual(b.data);
    // Gains within [0.8, 1.2] on the flat grey.
    expect(Array.from(a.data).filter((_, i) => i > 40 * 3).every((v) => v >= 80 && v <= 120)).toBe(true);
    // A training-controlled attack's float image stays float and unrounded.
    const float = { height: 8, width: 8, data: new Float32Array(8 * 8 * 3).fill(100.25) };
    const f = diversify(float, { maxShift: 1, colorJitter: 0.2 }, new Rng(3));
    expect(f.data).toBeInstanceOf(Float32Array);
    expect(Array.from(f.data).some((v) => !Number.isInteger(v))).toBe(true);
  });

  it('replaces prompt words by the unknown token, never BOS, the response or padding', () => {
    const rows = [encodeText(tok, 'describe the image', 'a red square', MAX_TEXT), encodeText(tok, 'describe', 'a blue', MAX_TEXT)];
    const text = textBatch(rows);
    const all = dropPromptWords(text, 1, new Rng(1)).arraySync();
    expect(all[0].slice(0, 3)).toEqual([UNK, UNK, UNK]);
    expect(all[0].slice(3)).toEqual(Array.from(rows[0].tokens.slice(3)));
    expect(all[1]).toEqual([UNK, ...Array.from(rows[1].tokens.slice(1))]);
    const none = dropPromptWords(text, 0, new Rng(1));
    expect(none.arraySync()).toEqual(text.tokens.arraySync());
    tf.dispose([none, text.tokens, text.targets, text.weights]);
  });
});

describe.each(Object.keys(MODELS))('RobustIT on %s', (family) => {
  it('tunes only the adapter and the text embeddings; the loss trains with no leak', () => {
    const model = tinyModel({ family, decoderLayers: 2 });
    const allow = robustItTrainable(model);
    const tuned = [...model.params.vars.keys()].filter(allow);
    expect(tuned).toEqual(expect.arrayContaining(['lm/tok', 'lm/head/w', 'lm/head/b', model.adapter!.outW]));
    expect(tuned.some((n) => n.startsWith('vit/') || /^lm\/block/.test(n) || n.startsWith('lm/ln'))).toBe(false);
    const p = parseWith(robustit.schema, { lambdaAar: 1, kappa: 0.5 }, 'robustit');
    const frozen = Array.from(model.params.get('lm/block0/mlp/fc/w').dataSync());
    const out = Array.from(model.params.get(model.adapter!.outW).dataSync());
    const train = realTrain();
    train(model, examples(8), { epochs: 1, lr: 1e-2, hook: robustit.trainingHook(p, { task: 'caption', model: model.config }) });
    const before = tf.memory().numTensors;
    const logs = train(model, examples(8), { epochs: 1, lr: 1e-2, hook: robustit.trainingHook(p, { task: 'caption', model: model.config }) });
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(logs[0].loss)).toBe(true);
    expect(Array.from(model.params.get('lm/block0/mlp/fc/w').dataSync())).toEqual(frozen);
    expect(Array.from(model.params.get(model.adapter!.outW).dataSync())).not.toEqual(out);
    model.params.dispose();
  });
});
