import { beforeAll, describe, expect, it } from 'vitest';
import { encodeText, imagesToTensor, textBatch } from '../harness/core/batch.js';
import { parseWith } from '../harness/config/schema.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { defaultLoss, type BatchContext } from '../harness/core/training.js';
import { abl, ablIsolate, ablRanking, ablSchema, lgaLoss, unlearnLoss } from './abl.js';
import { examples, fakeSftContext, MAX_TEXT, tinyModel, tok, type TrainCall } from './context.testutil.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

function batchContext(): BatchContext {
  const model = tinyModel();
  const ex = examples(4);
  const images = ex.map((e) => e.image);
  const text = textBatch(ex.map((e) => encodeText(tok, e.prompt, e.responses[0], MAX_TEXT)));
  return { model, ids: ex.map((e) => e.id), images, imagesT: imagesToTensor(images), text, rng: new Rng(1), epoch: 0, step: 0 };
}

const gradNorm = (f: () => tf.Scalar, ctx: BatchContext) => {
  const vars = [...ctx.model.params.vars.values()];
  const { grads } = tf.variableGrads(f, vars);
  const head = grads[vars.find((v) => v.name.endsWith('lm/head/w'))!.name];
  const out = head.arraySync() as number[][];
  tf.dispose(Object.values(grads));
  return out;
};

describe('abl (anti-backdoor learning)', () => {
  it('refuses out-of-range knobs by name; documented defaults', () => {
    expect(() => parseWith(ablSchema, { gamma: -0.1 }, 'defense abl params')).toThrow(/gamma/);
    expect(() => parseWith(ablSchema, { isolationFraction: 0 }, 'defense abl params')).toThrow(/isolationFraction/);
    expect(() => parseWith(ablSchema, { isolationFraction: 0.9 }, 'defense abl params')).toThrow(/isolationFraction/);
    expect(() => parseWith(ablSchema, { isolationEpochs: 0 }, 'defense abl params')).toThrow(/isolationEpochs/);
    expect(() => parseWith(ablSchema, { unlearnLrFactor: 2 }, 'defense abl params')).toThrow(/unlearnLrFactor/);
    expect(() => parseWith(ablSchema, { unlearnEpochs: -1 }, 'defense abl params')).toThrow(/unlearnEpochs/);
    expect(parseWith(ablSchema, {}, 'abl')).toEqual({ isolationEpochs: 2, gamma: 0.5, isolationFraction: 0.01, unlearnEpochs: 2, unlearnLrFactor: 0.2 });
  });

  it('LGA loss: +L above γ, −L below it (the gradient flips at γ); unlearning loss is −CE', () => {
    const ctx = batchContext();
    const ce = defaultLoss(ctx).dataSync()[0];
    expect(lgaLoss(ctx, ce - 0.1).dataSync()[0]).toBeCloseTo(ce, 6);
    expect(lgaLoss(ctx, ce + 0.1).dataSync()[0]).toBeCloseTo(-ce, 6);
    expect(lgaLoss(ctx, 0).dataSync()[0]).toBeCloseTo(ce, 6);
    expect(unlearnLoss(ctx).dataSync()[0]).toBeCloseTo(-ce, 6);
    const gCe = gradNorm(() => defaultLoss(ctx), ctx);
    const gAbove = gradNorm(() => lgaLoss(ctx, ce - 0.1), ctx);
    const gBelow = gradNorm(() => lgaLoss(ctx, ce + 0.1), ctx);
    expect(gAbove[0][0]).toBeCloseTo(gCe[0][0], 6);
    expect(gBelow[0][0]).toBeCloseTo(-gCe[0][0], 6);
    expect(Math.abs(gCe[0][0])).toBeGreaterThan(0);
    ctx.model.params.dispose();
  });

  it('ablIsolate picks the lowest-loss fraction (⌊f·n⌋, at least one), lowest first', () => {
    const losses = [0.9, 0.05, 1.2, 0.01, 0.7, 0.3, 0.02, 0.8, 1.0, 0.6];
    expect(ablRanking(losses)).toEqual([3, 6, 1, 5, 9, 4, 7, 0, 8, 2]);
    expect(ablIsolate(losses, 0.3)).toEqual([3, 6, 1]);
    expect(ablIsolate(losses, 0.25)).toEqual([3, 6]); // ⌊2.5⌋
    expect(ablIsolate(losses, 0.01)).toEqual([3]); // at least one
    expect(ablIsolate(Float32Array.from([1, 1, 0.5, 1]), 0.5)).toEqual([2, 0]); // ties by index
    expect(ablIsolate([], 0.1)).toEqual([]);
    expect(() => ablIsolate(losses, 0)).toThrow(/fraction/);
    expect(() => ablIsolate([0.1, NaN], 0.5)).toThrow(/NaN/);
  });

  it('runs the three phases with the right examples, epochs, learning rates and losses', () => {
    const model = tinyModel();
    const ex = examples(20, [3, 7]);
    const calls: TrainCall[] = [];
    const losses = Float32Array.from(ex.map((_, i) => (i === 7 ? 0.01 : i === 3 ? 0.02 : 1 + i / 10)));
    const recorded: Record<string, unknown> = {};
    const ctx = fakeSftContext(model, {
      examples: ex,
      epochs: 6,
      lr: 1e-3,
      train: (m, e, o) => {
        calls.push({ model: m, examples: e, ...o });
        return [{ epoch: 0, loss: calls.length, seconds: 0, numTensors: 0 }];
      },
      perSampleLoss: (m, e) => {
        expect(m).toBe(model);
        expect(e).toBe(ex);
        expect(calls.length).toBe(1); // scored after the isolation phase
        return losses;
      },
      reportScores: (name, epoch, ids, scores) => (recorded[name] = { epoch, ids, scores: Array.from(scores) }),
    });
    const p = parseWith(ablSchema, { isolationFraction: 0.1, gamma: 0.4 }, 'abl');
    const logs = abl.sft(p, ctx);
    expect(logs.map((l) => l.loss)).toEqual([1, 2, 3]);
    expect(calls.every((c) => c.model === model)).toBe(true);
    // Phase 1: LGA on everything, 2 epochs at the SFT lr.
    expect([calls[0].examples, calls[0].epochs, calls[0].lr]).toEqual([ex, 2, 1e-3]);
    // Phase 2: plain SFT on the 18 others for the remaining 4 epochs.
    expect(calls[1].examples.map((e) => e.id)).toEqual(ex.filter((_, i) => i !== 3 && i !== 7).map((e) => e.id));
    expect([calls[1].epochs, calls[1].lr, calls[1].hook]).toEqual([4, 1e-3, undefined]);
    // Phase 3: gradient ascent on the 2 isolated, lowest loss first, at lr/5.
    expect(calls[2].examples.map((e) => e.id)).toEqual(['ex7', 'ex3']);
    expect(calls[2].epochs).toBe(2);
    expect(calls[2].lr).toBeCloseTo(2e-4, 12);
    // The hooks are the LGA loss with γ and the unlearning loss.
    const b = batchContext();
    const ce = defaultLoss(b).dataSync()[0];
    expect(calls[0].hook!.loss!(b).dataSync()[0]).toBeCloseTo(ce > 0.4 ? ce : -ce, 6);
    expect(calls[2].hook!.loss!(b).dataSync()[0]).toBeCloseTo(-ce, 6);
    // The ranking is kept for the AUROC of the isolation.
    expect(recorded['abl.loss']).toEqual({ epoch: 2, ids: ex.map((e) => e.id), scores: Array.from(losses).map((l) => -l) });
    expect(ablIsolate(losses, 0.1)).toEqual([7, 3]);
    expect(ctx.log.some((l) => /isolated 2 of 20/.test(l))).toBe(true);
    b.model.params.dispose();
    model.params.dispose();
  });

  it('keeps the SFT budget: isolation is clipped to ctx.epochs and phase 2 then skipped', () => {
    const model = tinyModel();
    const calls: TrainCall[] = [];
    const ctx = fakeSftContext(model, {
      epochs: 1,
      train: (m, e, o) => (calls.push({ model: m, examples: e, ...o }), []),
      perSampleLoss: (_m, e) => Float32Array.from(e.map((_, i) => i)),
    });
    abl.sft(parseWith(ablSchema, { unlearnEpochs: 0 }, 'abl'), ctx);
    expect(calls.map((c) => [c.examples.length, c.epochs])).toEqual([[8, 1]]);
    model.params.dispose();
  });

  it('end to end with the real loop: unlearning raises the loss of the isolated example', () => {
    const ex = examples(12, [0]);
    const run = (unlearnEpochs: number) => {
      const model = tinyModel();
      let scores: number[] = [];
      const ctx = fakeSftContext(model, { examples: ex, epochs: 3, lr: 1e-2, reportScores: (_n, _e, _ids, s) => (scores = Array.from(s)) });
      abl.sft(parseWith(ablSchema, { isolationFraction: 0.05, unlearnEpochs, unlearnLrFactor: 0.5 }, 'abl'), ctx);
      const isolated = ablIsolate(scores.map((x) => -x), 0.05);
      const loss = ctx.perSampleLoss(model, ex);
      model.params.dispose();
      expect(ctx.log.some((l) => /isolated 1 of 12/.test(l))).toBe(true);
      return { isolated, loss };
    };
    const without = run(0);
    const withUnlearning = run(3);
    expect(withUnlearning.isolated).toEqual(without.isolated);
    const i = without.isolated[0];
    expect(withUnlearning.loss[i]).toBeGreaterThan(without.loss[i] + 0.1);
  });
});
