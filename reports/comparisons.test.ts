import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { paperTables } from './aggregate.js';
import { comparisons, powerLine, seedsToResolve } from './comparisons.js';
import { COMPARISON_COLUMNS, comparisonsCsv } from './csv.js';
import { record } from './records.testutil.js';

/** Runs of one attack: per defense, per seed, ASR (fraction) and CIDEr-D. */
const runs = (byDefense: Record<string, [number, number][]>, attack = 'badnets') =>
  Object.entries(byDefense).flatMap(([defense, seeds]) => seeds.map(([asr, cider], k) => record({ attack, defense, seed: k + 1, metrics: { ASR: asr, 'CIDEr-D': cider } })));

describe('paired comparisons', () => {
  it('each defense against none and against pcr, paired by seed, Holm within each question', () => {
    const seeds7 = (asr: number, cider: number) => Array.from({ length: 7 }, (_, k): [number, number] => [asr + 0.01 * k, cider]);
    const [t] = paperTables(runs({ none: seeds7(0.9, 2.0), pcr: seeds7(0.4, 1.8), ft: seeds7(0.5, 2.2) }));
    const cs = comparisons(t);
    expect(cs.map((c) => `${c.defense} vs ${c.reference}`)).toEqual(['pcr vs none', 'ft vs none', 'ft vs pcr']);
    const [pcr, ft, ftPcr] = cs;
    // pcr − none: −50 points on every seed; clean (1.8 − 2.0) / 2.0 = −10% on every seed
    expect(pcr.asr!.mean).toBeCloseTo(-50, 9);
    expect(pcr.asr!.sd).toBeCloseTo(0, 9);
    expect(pcr.asr!.p).toBe(2 / 128);
    expect(pcr.clean!.mean).toBeCloseTo(-0.1, 12);
    expect(ft.clean!.mean).toBeCloseTo(0.1, 12);
    expect(ftPcr.asr!.mean).toBeCloseTo(10, 9);
    // Holm per question: against none, pcr and ft on ASR (2 p-values, both 2/128) → 0.031, resolved;
    // against pcr only ft (1 p-value) → 2/128. Over the whole table (6 p-values) it would be 0.094.
    expect([pcr.family, ft.family, ftPcr.family]).toEqual([2, 2, 1]);
    expect(pcr.asrPHolm).toBeCloseTo(2 * (2 / 128), 12);
    expect(ftPcr.asrPHolm).toBeCloseTo(2 / 128, 12);
    expect(pcr.verdict).toBe('ASR: lower ASR; clean: lower clean');
    expect(ftPcr.verdict).toBe('ASR: higher ASR; clean: higher clean');
    // Another attack's comparisons are another question: they do not enlarge badnets' family
    const two = comparisons(paperTables([...runs({ none: seeds7(0.9, 2.0), pcr: seeds7(0.4, 1.8) }), ...runs({ none: seeds7(0.9, 2.0), pcr: seeds7(0.4, 1.8) }, 'sig')])[0]);
    expect(two.map((c) => [c.attack, c.family, c.asrPHolm])).toEqual([['badnets', 1, 2 / 128], ['sig', 1, 2 / 128]]);
  });

  it('says how many seeds a family of comparisons needs before any can pass', () => {
    // the smallest sign-flip p is 2/2ⁿ and Holm multiplies it by m: 6 seeds for one, 7 for two, 10 for 13, 14 for 400
    expect([1, 2, 13, 400].map(seedsToResolve)).toEqual([6, 7, 10, 14]);
    for (const m of [1, 2, 13, 400]) {
      const n = seedsToResolve(m);
      expect((m * 2) / 2 ** n).toBeLessThan(0.05);
      expect((m * 2) / 2 ** (n - 1)).toBeGreaterThanOrEqual(0.05);
    }
    const five = (asr: number) => Array.from({ length: 5 }, (_, k): [number, number] => [asr + 0.01 * k, 2]);
    const [c] = comparisons(paperTables(runs({ none: five(0.9), pcr: five(0.4), ft: five(0.5) }))[0]);
    expect(c.verdict).toMatch(/^ASR: not resolved \(n = 5 < 7 seeds cannot reach p < 0.05 among 2 comparisons\)/);
  });

  it('says why three seeds cannot resolve anything', () => {
    const [t] = paperTables(runs({ none: [[0.71, 2], [0.81, 2.1], [0.9, 2.2]], pcr: [[0.35, 1.9], [0.6, 2], [0.91, 2.1]] }));
    const [c] = comparisons(t);
    expect(c.asr!.mean).toBeCloseTo((-36 - 21 + 1) / 3, 9);
    expect(c.asr!.p).toBe(0.5);
    expect(c.verdict).toMatch(/^ASR: not resolved \(n = 3 < 6 seeds cannot reach p < 0.05\)/);
  });

  it('the power line pools the seed sd of paired ASR differences and asks for ≥ 6 seeds', () => {
    // The PCR-vs-none differences −36, −21, +1: sd 18.61; ((1.96 + 0.842) · 18.61 / 10)² = 27.2 → 28, at 20 points 6.8 → 7
    const [t] = paperTables(runs({ none: [[0.71, 2], [0.81, 2], [0.9, 2]], pcr: [[0.35, 2], [0.6, 2], [0.91, 2]] }));
    const p = powerLine(comparisons(t));
    expect(p.sd).toBeCloseTo(18.610033136277146, 9);
    expect([p.seedsFor10, p.seedsFor20]).toEqual([28, 7]);
    expect(p.text).toMatch(/seed sd of 18\.6 points .* 10-point ΔASR at 80% power needs 28 seeds, a 20-point one 7/);
    // A small spread still needs 6 seeds for the exact test to reach p < 0.05
    const tight = powerLine(comparisons(paperTables(runs({ none: [[0.9, 2], [0.9, 2]], pcr: [[0.3, 2], [0.31, 2]] }))[0]));
    expect([tight.seedsFor10, tight.seedsFor20]).toEqual([6, 6]);
    expect(powerLine(comparisons(paperTables(runs({ none: [[0.9, 2]], pcr: [[0.3, 2]] }))[0])).text).toMatch(/cannot be estimated/);
  });

  it('leaves attacks that did not implant out of the power line, and writes one CSV row per comparison', () => {
    const [t] = paperTables([...runs({ none: [[0.9, 2], [0.8, 2]], pcr: [[0.3, 2], [0.5, 2]] }), ...runs({ none: [[0.1, 2], [0.0, 2]], pcr: [[0.1, 2], [0.9, 2]] }, 'wanet')]);
    const cs = comparisons(t);
    expect(cs.map((c) => [c.attack, c.implanted])).toEqual([
      ['badnets', true],
      ['wanet', false],
    ]);
    expect(powerLine(cs).comparisons).toBe(1);
    const rows = parse(comparisonsCsv(cs), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual([...COMPARISON_COLUMNS]);
    expect(rows[0]).toMatchObject({ attack: 'badnets', defense: 'pcr', reference: 'none', implanted: 'yes', n: '2', 'ΔASR mean': '-45' });
    expect(rows[1]).toMatchObject({ attack: 'wanet', implanted: 'no' });
  });
});
