import { beforeAll, describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { generate } from '../harness/core/decode.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { calibrate, cleansight, detectionLayers, guard, percentile, pruneMask, stealingFeatures, whitenedDistance } from './cleansight.js';
import { examples, MAX_TEXT, tinyModel, tok } from './context.testutil.js';
import type { PromptAttention } from './promptAttention.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const f32 = (...v: number[]) => Float32Array.from(v);

describe('CleanSight: detection on hand-built attention maps', () => {
  it('takes the image-reading layers at relative depth [10/32, 25/32), the last one when none fall inside', () => {
    expect(detectionLayers(32, 10 / 32, 25 / 32)).toEqual(Array.from({ length: 15 }, (_, i) => 10 + i));
    expect(detectionLayers(3, 10 / 32, 25 / 32)).toEqual([1, 2]);
    expect(detectionLayers(2, 10 / 32, 25 / 32)).toEqual([1]);
    expect(detectionLayers(1, 10 / 32, 25 / 32)).toEqual([0]);
  });

  it('computes each head’s visual / text attention ratio (prefix models) or N · max (flamingo)', () => {
    // One sample, two layers, two heads, three visual tokens.
    const prefix: PromptAttention = {
      visual: [[[f32(0.1, 0.1, 0.2), f32(0.3, 0.3, 0)], [f32(0.05, 0.05, 0.1), f32(0, 0, 0.9)]]],
      text: [[[0.6, 0.4], [0.8, 0.1]]],
    };
    const ratios = stealingFeatures(prefix, 0, [1]);
    expect(ratios[0]).toBeCloseTo(0.2 / 0.8, 6);
    expect(ratios[1]).toBeCloseTo(0.9 / 0.1, 5);
    expect(stealingFeatures(prefix, 0, [0, 1])).toHaveLength(4);
    const flamingo: PromptAttention = { visual: [[[f32(0.2, 0.3, 0.5), f32(1 / 3, 1 / 3, 1 / 3)]]] };
    expect(stealingFeatures(flamingo, 0, [0]).map((v) => +v.toFixed(5))).toEqual([1.5, 1]);
  });

  it('flags by the whitened distance beyond the clean percentile', () => {
    expect(percentile([1, 2, 3, 4, 5], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5], 99)).toBeCloseTo(4.96, 12); // numpy: 4.96
    const clean = Array.from({ length: 50 }, (_, i) => [1 + 0.1 * Math.sin(i), 2 + 0.1 * Math.cos(i)]);
    const cal = calibrate(clean, 99);
    expect(cal.mean[0]).toBeCloseTo(1, 1);
    expect(whitenedDistance(cal.mean, cal)).toBe(0);
    expect(whitenedDistance([cal.mean[0] + cal.sd[0], cal.mean[1]], cal)).toBeCloseTo(1, 6);
    // Attention stolen by the image: the ratio jumps far beyond every clean input.
    expect(whitenedDistance([3, 2], cal)).toBeGreaterThan(cal.threshold);
    expect(whitenedDistance(clean[7], cal)).toBeLessThanOrEqual(cal.threshold);
    expect(() => calibrate([[1]], 99)).toThrow(/raise cleanFraction/);
  });

  it('prunes the visual tokens any head attends to above factor × its mean per visual token (the union over heads)', () => {
    // Head 1: mean 0.1825, ×1.5 = 0.274 → token 1; head 2: mean 0.0825, ×1.5 = 0.124 → token 0.
    expect(pruneMask([f32(0.01, 0.5, 0.02, 0.2), f32(0.3, 0.01, 0.01, 0.01)], 1.5)).toEqual([1, 1, 0, 0]);
    expect(pruneMask([f32(0.01, 0.5, 0.02, 0.2), f32(0.3, 0.01, 0.01, 0.01)], 1)).toEqual([1, 1, 0, 1]);
    // Spread evenly: nothing stands out, whatever the head's share of attention.
    expect(pruneMask([f32(0.05, 0.05), f32(0.4, 0.4)], 1.01)).toEqual([0, 0]);
    expect(parseWith(cleansight.schema, {}, 'cleansight')).toEqual({ layerFrom: 10 / 32, layerTo: 25 / 32, percentile: 99, pruneFactor: 3, cleanFraction: 0.05 });
    expect(() => parseWith(cleansight.schema, { layerFrom: 0.9, layerTo: 0.5 }, 'cleansight')).toThrow(/layerFrom/);
  });
});

describe('CleanSight: the guarded model', () => {
  it('flags and counts per input, prunes only flagged ones, and leaks nothing', () => {
    const model = tinyModel({ decoderLayers: 2, seed: 5 });
    const inputs = examples(6).map((e) => ({ image: e.image, prompt: e.prompt }));
    const opts = { maxText: MAX_TEXT, maxNewTokens: 4, batchSize: 4 };
    const plain = generate(model, tok, inputs, opts);
    // Detection layer 1 of 2, 2 heads: a feature vector of 2.
    const never = guard(model, { mean: [0, 0], sd: [1, 1], threshold: Infinity }, [1], 3);
    expect(generate(never.model, tok, inputs, opts)).toEqual(plain);
    expect(never.takeFlagged()).toBe(0);
    // Threshold −1: every input is flagged; factor 0 prunes every token with any attention, a huge factor none.
    const keepAll = guard(model, { mean: [0, 0], sd: [1, 1], threshold: -1 }, [1], 1e9);
    const before = tf.memory().numTensors;
    expect(generate(keepAll.model, tok, inputs, opts)).toEqual(plain);
    expect(tf.memory().numTensors).toBe(before);
    expect(keepAll.takeFlagged()).toBe(6);
    expect(keepAll.takeFlagged()).toBe(0);
    const pruneAll = guard(model, { mean: [0, 0], sd: [1, 1], threshold: -1 }, [1], 0);
    const pruned = generate(pruneAll.model, tok, inputs, opts);
    expect(pruneAll.takeFlagged()).toBe(6);
    expect(pruned).not.toEqual(plain);
    model.params.dispose();
  });

  it('reads each prompt of a ragged (left-padded) batch at its own last token, as it would alone', () => {
    const model = tinyModel({ decoderLayers: 2, seed: 6 });
    const prompts = ['a red', 'a red blue green square', 'photo of the banana', 'circle'];
    const inputs = examples(4).map((e, i) => ({ image: e.image, prompt: prompts[i] }));
    const opts = { maxText: MAX_TEXT, maxNewTokens: 4, batchSize: 4 };
    // Every input flagged, the tokens above their mean attention pruned: the prune mask depends on where the map is read.
    const g = guard(model, { mean: [0, 0], sd: [1, 1], threshold: -1 }, [1], 1);
    const alone = inputs.flatMap((x) => generate(g.model, tok, [x], opts));
    expect(generate(g.model, tok, inputs, opts)).toEqual(alone);
    expect(g.takeFlagged()).toBe(8);
    model.params.dispose();
  });

  it('calibrates on the clean pool and reports its layers and threshold', () => {
    const model = tinyModel({ decoderLayers: 3, seed: 2 });
    const log: string[] = [];
    const g = cleansight.guardModel(parseWith(cleansight.schema, {}, 'cleansight'), {
      model,
      tok,
      cleanPool: examples(10),
      batchSize: 4,
      progress: (m) => log.push(m),
    });
    expect(log[0]).toMatch(/calibrated on 10 clean inputs: layers 1, 2, threshold \d/);
    generate(g.model, tok, examples(10).map((e) => ({ image: e.image, prompt: e.prompt })), { maxText: MAX_TEXT, maxNewTokens: 3, batchSize: 5 });
    // The 99th percentile of 10 clean distances: at most one of the same inputs lies beyond it.
    expect(g.takeFlagged()).toBeLessThanOrEqual(1);
    model.params.dispose();
  });
});
