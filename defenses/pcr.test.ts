import { beforeAll, describe, expect, it } from 'vitest';
import { encodeText, imagesToTensor, textBatch } from '../harness/core/batch.js';
import { parseWith } from '../harness/config/schema.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { solidImage, tinyModelConfig } from '../harness/core/testing.js';
import { Tokenizer } from '../harness/core/tokenizer.js';
import { createModel } from '../models/registry.js';
import { jsDivergence, PCR_DEFAULTS, pcr, pcrAug, pcrCv, pcrLoss, pcrSchema } from './pcr.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

describe('pcr', () => {
  it('JS divergence: 0 for equal distributions, ln 2 for disjoint ones, symmetric', () => {
    const lp = (rows: number[][]) => tf.log(tf.tensor3d([rows])) as tf.Tensor3D;
    const same = jsDivergence(lp([[0.5, 0.5]]), lp([[0.5, 0.5]])).dataSync()[0];
    const disjoint = jsDivergence(lp([[1 - 1e-9, 1e-9]]), lp([[1e-9, 1 - 1e-9]])).dataSync()[0];
    const ab = jsDivergence(lp([[0.9, 0.1]]), lp([[0.3, 0.7]])).dataSync()[0];
    const ba = jsDivergence(lp([[0.3, 0.7]]), lp([[0.9, 0.1]])).dataSync()[0];
    expect(same).toBeCloseTo(0, 6);
    expect(disjoint).toBeCloseTo(Math.log(2), 4);
    expect(ab).toBeCloseTo(ba, 6);
  });

  it('validates knobs by name', () => {
    expect(() => parseWith(pcrSchema, { q: 0 }, 'defense pcr params')).toThrow(/q/);
    expect(() => parseWith(pcrSchema, { hMin: 3, hMax: 1 }, 'defense pcr params')).toThrow(/hMin/);
    expect(() => parseWith(pcrSchema, { ceViews: 'all' }, 'defense pcr params')).toThrow(/ceViews/);
  });

  it('loss = CE + λ_cv·L_cv + λ_ent·L_ent, with L_cv = −mean min(D_i, m) over the q lowest D_i', () => {
    const tok = Tokenizer.fromTexts(['describe the image', 'red blue square']);
    const model = createModel(tinyModelConfig({ vocabSize: tok.size, maxText: 10 }));
    const images = [solidImage(16, [200, 10, 10]), solidImage(16, [10, 10, 200]), solidImage(16, [90, 90, 90]), solidImage(16, [10, 200, 10])];
    images.forEach((im, i) => (im.data[i * 3] = 255)); // make patch shuffles matter
    const text = textBatch(images.map(() => encodeText(tok, 'describe the image', 'red square', 10)));
    const imagesT = imagesToTensor(images);
    const ctx = (seed: number) => ({ model, ids: images.map((_, i) => `${i}`), images, imagesT, text, rng: new Rng(seed), epoch: 0, step: 0 });
    const p0 = parseWith(pcrSchema, { lambdaCv: 0, lambdaEnt: 0 }, 'pcr');
    const ce = pcrLoss(ctx(1), p0, 2);
    const withCv = pcrLoss(ctx(1), { ...p0, lambdaCv: 2, margin: 10 }, 2);
    const d = Array.from(withCv.invariance);
    // float32 round-off can leave a near-zero JS divergence a hair below 0.
    expect(d.every((x) => x >= -1e-6 && x <= Math.log(2) + 1e-6)).toBe(true);
    const meanD = d.reduce((a, b) => a + b, 0) / d.length;
    expect(withCv.total.dataSync()[0]).toBeCloseTo(ce.total.dataSync()[0] - 2 * meanD, 5);
    // q = 0.5: only the two lowest D_i count.
    const half = pcrLoss(ctx(1), { ...p0, lambdaCv: 1, margin: 10, q: 0.5 }, 2);
    const low2 = d.slice().sort((a, b) => a - b).slice(0, 2);
    expect(half.total.dataSync()[0]).toBeCloseTo(ce.total.dataSync()[0] - (low2[0] + low2[1]) / 2, 5);
    // The margin caps each D_i's contribution.
    const m = (Math.min(...d) + Math.max(...d)) / 2;
    const capped = pcrLoss(ctx(1), { ...p0, lambdaCv: 1, margin: m }, 2);
    const cappedMean = d.reduce((a, x) => a + Math.min(x, m), 0) / d.length;
    expect(cappedMean).toBeLessThan(meanD);
    expect(capped.total.dataSync()[0]).toBeCloseTo(ce.total.dataSync()[0] - cappedMean, 6);
    // viewFraction 0.5: only the first two samples get a view (the same views, same rng), and
    // L_cv averages over them.
    const sub = pcrLoss(ctx(1), { ...p0, lambdaCv: 1, margin: 10, viewFraction: 0.5 }, 2);
    expect(Array.from(sub.invariance)).toEqual([expect.closeTo(d[0], 6), expect.closeTo(d[1], 6)]);
    expect(sub.total.dataSync()[0]).toBeCloseTo(ce.total.dataSync()[0] - (d[0] + d[1]) / 2, 5);
    // The entropy term only adds a non-negative penalty.
    const withEnt = pcrLoss(ctx(1), { ...p0, lambdaEnt: 1, hMin: 5, hMax: 5 }, 2);
    expect(withEnt.total.dataSync()[0]).toBeGreaterThan(ce.total.dataSync()[0]);
    model.params.dispose();
  });

  it('plugs into training as a hook on the model grid by default', () => {
    const hook = pcr.trainingHook(parseWith(pcrSchema, {}, 'pcr'), { task: 'caption', model: tinyModelConfig() });
    expect(typeof hook.loss).toBe('function');
  });
});

describe('pcr presets (ablations)', () => {
  it('pcr-aug: patch augmentation only — CE on both views, λ_cv = λ_ent = 0, the rest as pcr', () => {
    const p = parseWith(pcrAug.schema, {}, 'pcr-aug');
    expect(p).toEqual({ ...PCR_DEFAULTS, ceViews: 'both', lambdaCv: 0, lambdaEnt: 0 });
    expect(pcrAug.id).toBe('pcr-aug');
  });

  it('pcr-cv: the cross-view term without the entropy term', () => {
    const p = parseWith(pcrCv.schema, {}, 'pcr-cv');
    expect(p).toEqual({ ...PCR_DEFAULTS, lambdaEnt: 0 });
    expect(p.lambdaCv).toBeGreaterThan(0);
  });

  it('pcr keeps its own defaults; presets share the ranges and accept overrides', () => {
    expect(parseWith(pcrSchema, {}, 'pcr')).toEqual(PCR_DEFAULTS);
    expect(parseWith(pcr.schema, {}, 'pcr')).toEqual(PCR_DEFAULTS);
    for (const d of [pcrAug, pcrCv]) {
      expect(() => parseWith(d.schema, { q: 0 }, `defense ${d.id} params`)).toThrow(/q/);
      expect(() => parseWith(d.schema, { hMin: 3, hMax: 1 }, `defense ${d.id} params`)).toThrow(/hMin/);
      expect(() => parseWith(d.schema, { lambda: 1 }, `defense ${d.id} params`)).toThrow(/lambda/);
      expect(d.stage).toBe('training');
      expect(typeof d.trainingHook(parseWith(d.schema, {}, d.id), { task: 'caption', model: tinyModelConfig() }).loss).toBe('function');
    }
    expect(parseWith(pcrAug.schema, { lambdaCv: 1 }, 'pcr-aug').lambdaCv).toBe(1);
  });

  it('the pcr-aug loss is the mean CE over both views', () => {
    const tok = Tokenizer.fromTexts(['describe the image', 'red blue square']);
    const model = createModel(tinyModelConfig({ vocabSize: tok.size, maxText: 10 }));
    const images = [solidImage(16, [200, 10, 10]), solidImage(16, [10, 10, 200])];
    images.forEach((im, i) => (im.data[i * 3 + 40] = 255));
    const text = textBatch(images.map(() => encodeText(tok, 'describe the image', 'red square', 10)));
    const ctx = { model, ids: images.map((_, i) => `${i}`), images, imagesT: imagesToTensor(images), text, rng: new Rng(4), epoch: 0, step: 0 };
    const loss = pcrAug.trainingHook(parseWith(pcrAug.schema, {}, 'pcr-aug'), { task: 'caption', model: model.config }).loss!(ctx).dataSync()[0];
    const orig = pcrLoss({ ...ctx, rng: new Rng(4) }, parseWith(pcrCv.schema, { lambdaCv: 0 }, 'x'), 4).total.dataSync()[0];
    // The hook runs on the model's 4×4 patch grid. CE over both views ≠ CE(x) once the view differs.
    expect(loss).not.toBeCloseTo(orig, 6);
    const views = pcrLoss({ ...ctx, rng: new Rng(4) }, { ...PCR_DEFAULTS, ceViews: 'both', lambdaCv: 0, lambdaEnt: 0 }, 4).total.dataSync()[0];
    expect(loss).toBeCloseTo(views, 6);
    model.params.dispose();
  });
});
