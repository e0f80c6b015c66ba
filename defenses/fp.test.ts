import { beforeAll, describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { initEngine, tf } from '../harness/core/engine.js';
import type { MultimodalModel } from '../models/types.js';
import { examples, fakePostContext, realTrain, tinyModel, tok, type TrainCall } from './context.testutil.js';
import { fp, fpSchema, meanMlpActivations, pruningOrder } from './fp.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

/** Neurons j whose fc column, fc bias and proj row are all exactly zero. */
function zeroNeurons(m: MultimodalModel): number[] {
  const n = m.lastMlp!;
  const w = m.params.get(n.fcW).arraySync() as number[][];
  const b = m.params.get(n.fcB).arraySync() as number[];
  const p = m.params.get(n.projW).arraySync() as number[][];
  return Array.from({ length: n.hidden }, (_, j) => j).filter((j) => w.every((row) => row[j] === 0) && b[j] === 0 && p[j].every((v) => v === 0));
}

describe('fp (fine-pruning)', () => {
  it('refuses out-of-range knobs by name; defaults follow BackdoorBench', () => {
    expect(() => parseWith(fpSchema, { stepFraction: 0 }, 'defense fp params')).toThrow(/stepFraction/);
    expect(() => parseWith(fpSchema, { maxDrop: 1.5 }, 'defense fp params')).toThrow(/maxDrop/);
    expect(() => parseWith(fpSchema, { epochs: -1 }, 'defense fp params')).toThrow(/epochs/);
    expect(() => parseWith(fpSchema, { cleanFraction: 0 }, 'defense fp params')).toThrow(/cleanFraction/);
    expect(() => parseWith(fpSchema, { ratio: 0.1 }, 'defense fp params')).toThrow(/ratio/);
    expect(parseWith(fpSchema, {}, 'fp')).toEqual({ cleanFraction: 0.05, stepFraction: 0.05, maxDrop: 0.1, epochs: 5, lr: 0 });
  });

  it('pruning order: increasing mean activation, ties by index', () => {
    expect(pruningOrder([0.3, -0.1, 0.3, 0, 2])).toEqual([1, 3, 0, 2, 4]);
  });

  it('mean activations are the masked mean of the last MLP hidden layer', () => {
    const m = tinyModel();
    const ex = examples(5);
    const act = meanMlpActivations(m, tok, ex);
    expect(act.length).toBe(32);
    // Batch-size independence: one example at a time, weighted by its input positions, gives the same.
    const per = ex.map((e) => meanMlpActivations(m, tok, [e]));
    const lens = ex.map((e) => 4 + tok.encode(e.prompt).length + 1 + tok.encode(e.responses[0]).length + 1); // visual + prompt + BOS + response + EOS
    const total = lens.reduce((a, b) => a + b, 0);
    for (let j = 0; j < 32; j++) {
      const want = per.reduce((s, a, i) => s + a[j] * lens[i], 0) / total;
      expect(act[j]).toBeCloseTo(want, 5);
    }
    m.params.dispose();
  });

  it('prunes the most dormant neurons until the clean metric drops > 10%, undoes that step, and keeps them at zero through fine-tuning', () => {
    const m = tinyModel();
    const pool = examples(8);
    const order = pruningOrder(meanMlpActivations(m, tok, pool));
    const before = m.params.get(m.lastMlp!.fcW).arraySync() as number[][];
    // Fake validation: the metric holds at 1 while ≤ 8 neurons are pruned, then falls to 0.85.
    const seen: number[] = [];
    const validate = (model: MultimodalModel) => {
      const k = zeroNeurons(model).length;
      seen.push(k);
      return k <= 8 ? (k === 8 ? 0.91 : 1) : 0.85;
    };
    const calls: TrainCall[] = [];
    const p = parseWith(fpSchema, { epochs: 3 }, 'fp');
    const ctx = fakePostContext(m, { cleanPool: pool, validate, train: realTrain(calls) });
    const out = fp.repair(p, ctx);
    expect(out).toBe(m);
    // 32 neurons, 5% → 2 per step: 0 (baseline), 2, 4, 6, 8 (−9%, kept), 10 (−15%, undone).
    expect(seen).toEqual([0, 2, 4, 6, 8, 10]);
    expect(ctx.log.at(-1)).toMatch(/8 of 32 neurons pruned/);
    // Fine-tuning happened on the clean pool at the SFT lr...
    expect(calls.length).toBe(1);
    expect(calls[0].examples).toBe(pool);
    expect(calls[0].epochs).toBe(3);
    expect(calls[0].lr).toBe(ctx.sftLr);
    const after = m.params.get(m.lastMlp!.fcW).arraySync() as number[][];
    const kept = order.slice(8);
    expect(kept.some((j) => after.some((row, i) => row[j] !== before[i][j]))).toBe(true);
    // ...and the 8 lowest-activation neurons are exactly zero after it.
    expect(zeroNeurons(m).sort((a, b) => a - b)).toEqual(order.slice(0, 8).sort((a, b) => a - b));
    m.params.dispose();
  });

  it('the fine-tuning hook re-applies the mask after every optimizer step', () => {
    // A fully pruned neuron is a stationary point of plain gradient training (zero activation,
    // zero gradients), so Adam alone leaves it at zero; the hook guards against anything else
    // (e.g. weight decay or a loss hook): here, weights revived by hand.
    const m = tinyModel();
    const calls: TrainCall[] = [];
    const ctx = fakePostContext(m, { validate: (model) => (zeroNeurons(model).length <= 4 ? 1 : 0), train: realTrain(calls) });
    fp.repair(parseWith(fpSchema, { epochs: 1 }, 'fp'), ctx);
    const pruned = zeroNeurons(m);
    expect(pruned.length).toBe(4);
    const hook = calls[0].hook!;
    expect(hook.loss).toBeUndefined(); // plain CE
    const n = m.lastMlp!;
    for (const name of [n.fcW, n.fcB, n.projW]) m.params.get(name).assign(tf.onesLike(m.params.get(name)));
    expect(zeroNeurons(m)).toEqual([]);
    hook.afterStep!(m);
    expect(zeroNeurons(m)).toEqual(pruned);
    // train() calls it once per step: 8 examples, batch 4, 2 epochs → 4 calls.
    let steps = 0;
    realTrain()(m, examples(8), { epochs: 2, lr: 1e-3, hook: { afterStep: () => steps++ } });
    expect(steps).toBe(4);
    m.params.dispose();
  });

  it('mean activations and masking leave no tensors behind', () => {
    const m = tinyModel();
    meanMlpActivations(m, tok, examples(1)); // the model caches its causal mask on first use
    const before = tf.memory().numTensors;
    const ctx = fakePostContext(m, { validate: (model) => (zeroNeurons(model).length <= 6 ? 1 : 0) });
    fp.repair(parseWith(fpSchema, { epochs: 0 }, 'fp'), ctx);
    expect(tf.memory().numTensors).toBe(before);
    m.params.dispose();
  });

  it('stops at no pruning when the first step already breaks the tolerance', () => {
    const m = tinyModel();
    const ctx = fakePostContext(m, { validate: (model) => (zeroNeurons(model).length ? 0.5 : 1) });
    fp.repair(parseWith(fpSchema, { epochs: 0 }, 'fp'), ctx);
    expect(zeroNeurons(m)).toEqual([]);
    expect(ctx.log.at(-1)).toMatch(/0 of 32 neurons pruned/);
    m.params.dispose();
  });
});
