import { beforeAll, describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { attentionEntropy, bimodalLayers, bye, byeSelect, layerEntropies, layerSeparations } from './bye.js';
import { examples, fakeSftContext, realTrain, tinyModel, type TrainCall } from './context.testutil.js';
import { gmm2 } from './gmm1d.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

/** Entropies [example][layer]: layer 0 collapses on the poisoned examples, layer 1 is noise. */
function handBuilt(n: number, poisoned: Set<number>, rng = new Rng(7)): number[][] {
  return Array.from({ length: n }, (_, i) => [(poisoned.has(i) ? 0.5 : 2.5) + 0.05 * rng.normal(), 1.5 + 0.3 * rng.normal()]);
}

describe('BYE: attention entropy', () => {
  it('is the entropy of the map renormalised over the visual tokens', () => {
    expect(attentionEntropy([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(Math.log(4), 6);
    expect(attentionEntropy([0.1, 0.1])).toBeCloseTo(Math.log(2), 6); // a prefix model's share of 0.2
    expect(attentionEntropy([0, 0, 0.3, 0])).toBeCloseTo(0, 6); // collapsed onto one token
    expect(attentionEntropy([0.5, 0.25, 0.25])).toBeCloseTo(1.5 * Math.log(2), 6);
    expect(() => attentionEntropy([0, 0])).toThrow(/no mass/);
  });

  it('averages the heads before the entropy (BYE’s head mean), one value per layer', () => {
    // Two heads each collapsed onto a different token: their mean is spread over two.
    const [spread, collapsed] = layerEntropies([[[1, 0], [0, 1]], [[1, 0], [1, 0]]]);
    expect(spread).toBeCloseTo(Math.log(2), 6);
    expect(collapsed).toBeCloseTo(0, 6);
  });
});

describe('BYE: the two-component GMM, the bimodal layers and the dropped cluster', () => {
  it('fits two separated groups, the lower mean first, and one mode for constant data', () => {
    const g = gmm2([5, 0, 5.2, 0.1, 5.1, 0.2]);
    expect(g.means[0]).toBeCloseTo(0.1, 6);
    expect(g.means[1]).toBeCloseTo(5.1, 6);
    expect(g.labels).toEqual([1, 0, 1, 0, 1, 0]);
    expect(g.weights).toEqual([0.5, 0.5]);
    const flat = gmm2([1, 1, 1, 1]);
    expect(flat.means[1] - flat.means[0]).toBe(0);
    expect(() => gmm2([1])).toThrow(/at least 2/);
  });

  it('keeps the layers whose modes are further apart than separation·(σ₁ + σ₂)', () => {
    const e = handBuilt(60, new Set([3, 17, 41, 55]));
    expect(bimodalLayers(e, 2)).toEqual([0]);
    // Far modes, but not far enough for a demanding threshold: (2.5 − 0.5) / (0.05 + 0.05) ≈ 20.
    expect(bimodalLayers(e, 40)).toEqual([]);
    const [sep0, sep1] = layerSeparations(e);
    expect(sep0).toBeGreaterThan(10);
    expect(sep0).toBeLessThan(40);
    expect(sep1).toBeLessThan(2);
  });

  it('drops the low-entropy cluster of the sensitive layers’ mean, and nothing when no layer is bimodal', () => {
    const poisoned = new Set([3, 17, 41, 55]);
    const e = handBuilt(60, poisoned);
    const sel = byeSelect(e, 2);
    expect(sel.layers).toEqual([0]);
    expect(sel.drop).toEqual([...poisoned]);
    expect(sel.scores).toEqual(e.map((x) => x[0]));
    // Bimodality in layer 1 only, with the poisons high there: the high-entropy cluster stays.
    const flipped = e.map(([a, b]) => [b, a]);
    expect(byeSelect(flipped, 2).layers).toEqual([1]);
    expect(byeSelect(flipped, 2).drop).toEqual([...poisoned]);
    const none = byeSelect(e, 40);
    expect(none.drop).toEqual([]);
    expect(none.scores[0]).toBeCloseTo((e[0][0] + e[0][1]) / 2, 12);
  });
});

describe('BYE: the training stage', () => {
  it('fine-tunes, reads the attention of every example, reports the scores, retrains from the pre-trained weights', () => {
    const model = tinyModel({ decoderLayers: 2 });
    const ex = examples(12, [2, 7]);
    const calls: TrainCall[] = [];
    const train = realTrain(calls);
    const scores: Record<string, { epoch: number; ids: string[]; scores: number[] }> = {};
    let removed: string[] | undefined;
    const ctx = fakeSftContext(model, {
      examples: ex,
      epochs: 2,
      train,
      reportScores: (name, epoch, ids, s) => (scores[name] = { epoch, ids, scores: Array.from(s) }),
      reportRemoved: (ids) => (removed = ids),
    });
    ctx.perSampleLoss(model, ex); // builds the model's causal mask for this length, kept for its lifetime
    const before = tf.memory().numTensors;
    const p = parseWith(bye.schema, {}, 'bye');
    expect(p).toEqual({ probeEpochs: 0, separation: 2 });
    const logs = bye.sft(p, ctx);
    expect(calls.map((c) => [c.examples.length, c.epochs])).toEqual([
      [12, 2],
      [12 - removed!.length, 2],
    ]);
    expect(scores['bye.entropy'].ids).toEqual(ex.map((e) => e.id));
    expect(scores['bye.entropy'].epoch).toBe(2);
    // Entropies of a map over the 4 visual tokens of the tiny model: in [0, ln 4].
    expect(scores['bye.entropy'].scores.every((s) => s <= 1e-6 && s >= -Math.log(4) - 1e-6)).toBe(true);
    expect(logs).toHaveLength(2);
    expect(tf.memory().numTensors).toBe(before);
    model.params.dispose();
  });
});
