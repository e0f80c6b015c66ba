import { beforeAll, describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { examples, fakeSftContext, tinyModel, type TrainCall } from './context.testutil.js';
import { crossViewDivergence } from './pcr.js';
import { invarianceScores, remove, toRemove } from './remove.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

describe('remove (detect, then remove)', () => {
  it('drops the ⌈f·n⌉ lowest-loss examples, lowest first, at least one', () => {
    expect(toRemove([0.5, 0.1, 0.9, 0.2, 0.7], 0.3)).toEqual([1, 3]); // ⌈1.5⌉ = 2
    expect(toRemove([0.5, 0.1, 0.9], 0.01)).toEqual([1]);
    expect(() => toRemove([0.5, NaN], 0.5)).toThrow(/score 1 is NaN/);
    expect(parseWith(remove.schema, {}, 'remove')).toEqual({ probeEpochs: 2, score: 'lga', gamma: 0.5, removeFraction: 0.1 });
    expect(() => parseWith(remove.schema, { score: 'entropy' }, 'remove')).toThrow(/score/);
    expect(() => parseWith(remove.schema, { removeFraction: 0.9 }, 'remove')).toThrow(/removeFraction/);
  });

  /** The ids `remove` drops for these probe losses under these knobs. */
  const dropped = (losses: number[], params: object) => {
    let removed: string[] = [];
    const ex = examples(losses.length, []);
    const ctx = fakeSftContext(tinyModel(), { examples: ex, train: () => [], perSampleLoss: () => Float32Array.from(losses), reportRemoved: (ids) => (removed = ids) });
    remove.sft(parseWith(remove.schema, params, 'remove'), ctx);
    ctx.model.params.dispose();
    return removed;
  };
  // 8 of 40 examples learned far faster than the rest (modes 0.1 and 1.0, 22 σ-sums apart).
  const two = Array.from({ length: 40 }, (_, i) => (i % 5 === 2 ? 0.1 + (i % 3) * 0.01 : 1 + (i % 7) * 0.01));
  // One mode (evenly spread losses): the fitted modes are less than 2 σ-sums apart.
  const one = Array.from({ length: 40 }, (_, i) => 1 + i / 40);

  it("cut 'gmm': drops the lower of two separated modes whatever its size, and nothing from one mode", () => {
    const run = (losses: number[]) => dropped(losses, { cut: 'gmm', removeFraction: 0.05 });
    // Two modes: all 8 of the lower, not the 5%.
    expect(run(two)).toEqual(two.flatMap((l, i) => (l < 0.5 ? [`ex${i}`] : [])));
    expect(run(two)).toHaveLength(8);
    // One mode: nothing is dropped.
    expect(run(one)).toEqual([]);
    expect(parseWith(remove.schema, { cut: 'gmm' }, 'remove')).toMatchObject({ cut: 'gmm', removeFraction: 0.1 });
    expect(() => parseWith(remove.schema, { cut: 'otsu' }, 'remove')).toThrow(/cut/);
  });

  it("cut 'union': the fraction's examples and the GMM's lower mode, each once", () => {
    const lowest = (losses: number[], k: number) =>
      losses
        .map((l, i) => [l, i] as const)
        .sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .slice(0, k)
        .map(([, i]) => `ex${i}`);
    // Two modes, 5% (2 examples, both in the lower mode): the lower mode's 8, once each.
    expect(new Set(dropped(two, { cut: 'union', removeFraction: 0.05 }))).toEqual(new Set(lowest(two, 8)));
    expect(dropped(two, { cut: 'union', removeFraction: 0.05 })).toHaveLength(8);
    // Two modes, 30% (12): the 12 lowest, a superset of the lower mode.
    expect(new Set(dropped(two, { cut: 'union', removeFraction: 0.3 }))).toEqual(new Set(lowest(two, 12)));
    // One mode: the GMM adds nothing, the fraction's 4 lowest remain.
    expect(dropped(one, { cut: 'union', removeFraction: 0.1 })).toEqual(lowest(one, 4));
  });

  it('probes, ranks, reports, restores the pre-trained weights, then trains the full SFT on the rest', () => {
    const model = tinyModel();
    const ex = examples(20, [4, 9]);
    const before = new Map([...model.params.vars].map(([n, v]) => [n, Array.from(v.dataSync())]));
    const calls: (TrainCall & { sameAsPretrained: boolean })[] = [];
    const losses = Float32Array.from(ex.map((_, i) => (i === 9 ? 0.01 : i === 4 ? 0.02 : i === 13 ? 0.03 : 1 + i / 10)));
    const scores: Record<string, unknown> = {};
    let removed: string[] = [];
    const ctx = fakeSftContext(model, {
      examples: ex,
      epochs: 5,
      lr: 1e-3,
      train: (m, e, o) => {
        const sameAsPretrained = [...m.params.vars].every(([n, v]) => Array.from(v.dataSync()).every((x, i) => x === before.get(n)![i]));
        calls.push({ model: m, examples: e, ...o, sameAsPretrained });
        // The probe moves the weights; the retrain must start from the pre-trained ones again.
        for (const v of m.params.vars.values()) v.assign(tf.zerosLike(v));
        return [{ epoch: 0, loss: calls.length, seconds: 0, numTensors: 0 }];
      },
      perSampleLoss: () => losses,
      reportScores: (name, epoch, ids, s) => (scores[name] = { epoch, ids, scores: Array.from(s) }),
      reportRemoved: (ids) => (removed = ids),
    });
    const logs = remove.sft(parseWith(remove.schema, { removeFraction: 0.15 }, 'remove'), ctx);
    expect(calls).toHaveLength(2);
    // The probe: 2 epochs of LGA on everything, from the pre-trained weights.
    expect([calls[0].examples, calls[0].epochs, calls[0].lr, calls[0].sameAsPretrained]).toEqual([ex, 2, 1e-3, true]);
    expect(calls[0].hook?.loss).toBeTypeOf('function');
    // ⌈0.15 · 20⌉ = 3 removed, the lowest losses; reported by id, and as a suspicion score.
    expect(removed).toEqual(['ex4', 'ex9', 'ex13']);
    expect(scores['remove.lga']).toEqual({ epoch: 2, ids: ex.map((e) => e.id), scores: Array.from(losses, (l) => -l) });
    // The retrain: the full 5 epochs on the 17 others, plain loss, from the pre-trained weights again.
    expect(calls[1].examples.map((e) => e.id)).toEqual(ex.filter((_, i) => ![4, 9, 13].includes(i)).map((e) => e.id));
    expect([calls[1].epochs, calls[1].hook, calls[1].sameAsPretrained]).toEqual([5, undefined, true]);
    expect(logs.map((l) => l.loss)).toEqual([2]); // the retrain's log: comparable with no defense's SFT
    model.params.dispose();
  });

  it("probeFrom 'fresh': the probe trains a fresh model (then disposed), the pre-trained one only retrains", () => {
    const model = tinyModel();
    const ex = examples(10, [3]);
    const fresh = tinyModel();
    let freshDisposed = false;
    const dispose = fresh.params.dispose.bind(fresh.params);
    fresh.params.dispose = () => ((freshDisposed = true), dispose());
    const trained: unknown[] = [];
    const scored: unknown[] = [];
    let removed: string[] = [];
    const ctx = fakeSftContext(model, {
      examples: ex,
      freshModel: () => fresh,
      train: (m) => (trained.push(m), []),
      perSampleLoss: (m, e) => (scored.push(m), Float32Array.from(e, (_, i) => (i === 3 ? 0 : 1))),
      reportRemoved: (ids) => (removed = ids),
    });
    remove.sft(parseWith(remove.schema, { probeFrom: 'fresh' }, 'remove'), ctx);
    // the probe, then the retrain of the pre-trained model (identity, not deep equality: both are tiny models)
    expect(trained).toHaveLength(2);
    expect(trained[0]).toBe(fresh);
    expect(trained[1]).toBe(model);
    expect(scored).toHaveLength(1);
    expect(scored[0]).toBe(fresh);
    expect(removed).toEqual(['ex3']);
    expect(freshDisposed).toBe(true);
    expect(() => parseWith(remove.schema, { probeFrom: 'scratch' }, 'remove')).toThrow(/probeFrom/);
    model.params.dispose();
  });

  it("PCR's D_i: the JS divergence of the two views' outputs, averaged over the response tokens", () => {
    // One response token with p = (1/2, 1/2) against q = (3/4, 1/4): JS = 0.0338221 (by hand); a second token, weight 0, is ignored.
    const d = tf.tidy(() =>
      crossViewDivergence(tf.tensor3d([[[0, 0], [5, 0]]]), tf.tensor3d([[[Math.log(3), 0], [0, 5]]]), tf.tensor2d([[1, 0]])).arraySync(),
    );
    expect(d[0]).toBeCloseTo(0.033822075568605205, 6);
  });

  it('invariance scores: 0 where shuffling the patches leaves the image as it was, above 0 where it does not', () => {
    const model = tinyModel();
    const ex = examples(3);
    // A two-colour image: its shuffled patches make another image.
    const split = { ...ex[2], id: 'split', image: { ...ex[2].image, data: ex[2].image.data.map((v, i) => (i < ex[2].image.data.length / 2 ? v : 255 - v)) } };
    const d = invarianceScores(fakeSftContext(model, { examples: [ex[0], ex[1], split] }));
    expect(Array.from(d.slice(0, 2))).toEqual([0, 0]); // solid colours: every view is the image itself
    expect(d[2]).toBeGreaterThan(0);
    expect(d[2]).toBeLessThanOrEqual(Math.log(2));
    model.params.dispose();
  });

  it('score "invariance": probes with plain SFT, drops the lowest D_i, reports it negated', () => {
    const model = tinyModel();
    const ex = examples(10, [3]);
    const calls: TrainCall[] = [];
    const scores: Record<string, unknown> = {};
    let removed: string[] = [];
    const d = Float32Array.from(ex.map((_, i) => (i === 3 ? 0.001 : 0.2 + i / 100)));
    const ctx = fakeSftContext(model, {
      examples: ex,
      train: (m, e, o) => (calls.push({ model: m, examples: e, ...o }), [{ epoch: 0, loss: calls.length, seconds: 0, numTensors: 0 }]),
      perSampleScore: () => d,
      reportScores: (name, epoch, ids, s) => (scores[name] = { epoch, ids, scores: Array.from(s) }),
      reportRemoved: (ids) => (removed = ids),
    });
    remove.sft(parseWith(remove.schema, { score: 'invariance', probeEpochs: 1 }, 'remove'), ctx);
    expect([calls[0].epochs, calls[0].hook]).toEqual([1, undefined]);
    expect(removed).toEqual(['ex3']); // ⌈0.1 · 10⌉ = 1
    expect(scores['remove.invariance']).toEqual({ epoch: 1, ids: ex.map((e) => e.id), scores: Array.from(d, (x) => -x) });
    model.params.dispose();
  });
});
