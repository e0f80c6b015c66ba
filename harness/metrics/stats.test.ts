import { describe, expect, it } from 'vitest';
import { holm, normalQuantile, pairedComparison, seedsForPower, signFlipP, studentTQuantile, tInterval, wilson } from './stats.js';

// Reference values: scipy 1.17 (stats.t.ppf) and hand enumeration (itertools.product over the
// sign patterns), computed once in Python; see docs/statistics.md.
describe('Student t', () => {
  it('quantiles match scipy.stats.t.ppf', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706204736174694, 9);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(4.302652729749462, 10);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.7764451051977934, 10);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0422724563012378, 10);
    expect(studentTQuantile(0.975, 100)).toBeCloseTo(1.9839715185235518, 10);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764451051977934, 10);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 8);
  });

  it('intervals of the mean for n = 2, 3, 5; none for n = 1', () => {
    // [1, 3]: mean 2, sd √2, se 1, t(0.975, 1) = 12.7062.
    const two = tInterval([1, 3])!;
    expect([two.mean, two.sd, two.n]).toEqual([2, Math.SQRT2, 2]);
    expect(two.ci!.lo).toBeCloseTo(-10.706204736174694, 9);
    expect(two.ci!.hi).toBeCloseTo(14.706204736174694, 9);
    // [1, 2, 3]: mean 2, sd 1, se 1/√3.
    const three = tInterval([1, 2, 3])!;
    expect(three.ci!.lo).toBeCloseTo(-0.48413771175033027, 10);
    expect(three.ci!.hi).toBeCloseTo(4.48413771175033, 10);
    // [1..5]: mean 3, sd √2.5, se √0.5.
    const five = tInterval([1, 2, 3, 4, NaN, 5])!; // NaN ignored
    expect(five.n).toBe(5);
    expect(five.ci!.lo).toBeCloseTo(1.0367568385224428, 10);
    expect(five.ci!.hi).toBeCloseTo(4.963243161477557, 10);
    expect(tInterval([7])).toEqual({ mean: 7, sd: 0, n: 1 });
    expect(tInterval([NaN])).toBeUndefined();
  });
});

describe('Wilson interval', () => {
  it('at 0, n and mid', () => {
    const zero = wilson(0, 10)!;
    expect(zero.lo).toBe(0);
    expect(zero.hi).toBeCloseTo(0.2775327998628892, 9);
    const all = wilson(10, 10)!;
    expect(all.lo).toBeCloseTo(0.7224672001371107, 9);
    expect(all.hi).toBe(1);
    const mid = wilson(5, 10)!;
    expect(mid.lo).toBeCloseTo(0.236593090512564, 9);
    expect(mid.hi).toBeCloseTo(0.7634069094874361, 9);
    const high = wilson(290, 300)!;
    expect(high.lo).toBeCloseTo(0.9397381741959452, 9);
    expect(high.hi).toBeCloseTo(0.9817950526611452, 9);
    expect(wilson(0, 0)).toBeUndefined();
    expect(() => wilson(11, 10)).toThrow(/outside/);
  });
});

describe('sign-flip permutation test (exact)', () => {
  it('n = 3: cannot go below 0.25', () => {
    // The PCR-vs-none BadNets differences 36, 21, −1: |±36 ±21 ±1| ≥ 56 for 4 of 8 patterns.
    expect(signFlipP([36, 21, -1])).toBe(0.5);
    expect(signFlipP([1, 2, 3])).toBe(0.25);
    expect(signFlipP([-1, -2, -3])).toBe(0.25);
  });
  it('n = 6', () => {
    expect(signFlipP([1, 2, 3, 4, 5, 6])).toBe(2 / 64);
    expect(signFlipP([1, 2, 3, 4, 5, -6])).toBe(28 / 64);
    expect(signFlipP([10, -3, 7, 12, 0, 5])).toBe(8 / 64); // a zero difference flips to itself
    expect(signFlipP([0.1, 0.2, 0.3].map((v) => v * 3))).toBe(0.25); // float sums compared with a tolerance
    expect(signFlipP([])).toBeNaN();
  });
  it('paired by key: only seeds both sides have', () => {
    const c = pairedComparison(new Map([[1, 10], [2, 20], [3, 30], [4, 99]]), new Map([[1, 5], [2, 5], [3, 35], [5, 0]]))!;
    expect(c.n).toBe(3);
    expect(c.mean).toBeCloseTo(5, 12); // (5 + 15 − 5) / 3
    expect(c.p).toBe(signFlipP([5, 15, -5]));
    expect(pairedComparison(new Map([[1, 1]]), new Map([[2, 1]]))).toBeUndefined();
  });
});

describe('Holm', () => {
  it('adjusts step-down with a running maximum, capped at 1', () => {
    const adj = holm([0.01, 0.04, 0.03, 0.5]);
    // sorted 0.01×4 = 0.04, 0.03×3 = 0.09, 0.04×2 = 0.08 → 0.09 (monotone), 0.5×1 = 0.5
    [0.04, 0.09, 0.09, 0.5].forEach((v, i) => expect(adj[i]).toBeCloseTo(v, 12));
    expect(holm([0.6, NaN, 0.3])).toEqual([0.6, NaN, 0.6]);
    expect(holm([])).toEqual([]);
  });
});

describe('seeds for power', () => {
  it('normal approximation, rounded up', () => {
    // ((1.95996 + 0.84162) · 19 / 20)² = 7.08 → 8; at 10 points 28.3 → 29.
    expect(seedsForPower(19, 20)).toBe(8);
    expect(seedsForPower(19, 10)).toBe(29);
    expect(seedsForPower(10, 20)).toBe(2);
    expect(seedsForPower(NaN, 10)).toBeNaN();
  });
});
