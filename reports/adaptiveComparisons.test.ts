import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/core/record.js';
import { adaptiveComparisons } from './adaptiveComparisons.js';
import { paperTables } from './aggregate.js';
import { ADAPTIVE_COLUMNS, adaptiveCsv } from './csv.js';
import { record } from './records.testutil.js';
import { renderResultsMarkdown } from './resultsMarkdown.js';

/** One run per seed of `attack` (id = label) at `rate` under `defense`, with its ASR per seed. */
const runs = (attack: string, rate: number, defense: string, asr: number[]): RunRecord[] =>
  asr.map((a, k) =>
    record({
      id: `caption__llava__${attack}__${defense}__s${k + 1}`,
      attack,
      defense,
      seed: k + 1,
      metrics: { ASR: a, 'CIDEr-D': 2 },
      attackParams: { rate },
      config: { attack: { id: attack, params: { rate } } },
    }),
  );

describe('adaptive attackers against their base attack', () => {
  // randpatch targets jitter and aug; the grid has jitter, and ft, which randpatch does not target.
  const grid = [
    ...runs('badnets', 0.2, 'none', [0.9, 0.9, 0.9, 0.9, 0.9, 0.9]),
    ...runs('badnets', 0.2, 'jitter', [0.1, 0.2, 0.1, 0.2, 0.1, 0.2]),
    ...runs('badnets', 0.2, 'ft', [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]),
    ...runs('randpatch', 0.2, 'none', [0.9, 0.8, 0.9, 0.8, 0.9, 0.8]),
    ...runs('randpatch', 0.2, 'jitter', [0.8, 0.8, 0.8, 0.8, 0.8, 0.8]),
    ...runs('randpatch', 0.2, 'ft', [0.4, 0.4, 0.4, 0.4, 0.4, 0.4]),
  ];

  it('pairs each targeted defense and no defense by seed; other defenses are not compared', () => {
    const [t] = paperTables(grid);
    const out = adaptiveComparisons(t, grid);
    expect(out.map((a) => [a.attack, a.base, a.defense, a.targeted])).toEqual([
      ['randpatch', 'badnets', 'none', false],
      ['randpatch', 'badnets', 'jitter', true],
    ]);
    const jitter = out[1];
    // differences +70, +60, +70, +60, +70, +60 points: mean +65; 6 same-sign seeds: p = 2/2⁶, alone in its family
    expect(jitter.diff!.mean).toBeCloseTo(65, 9);
    expect(jitter.diff!.n).toBe(6);
    expect([jitter.pHolm, jitter.family]).toEqual([2 / 64, 1]);
    expect(jitter.verdict).toBe('higher than on the base attack');
    // without defense: 0, −10, 0, −10, 0, −10: not all of one sign
    expect(out[0].diff!.mean).toBeCloseTo(-5, 9);
    expect(out[0].family).toBe(1);
    expect(out.map((a) => a.implanted)).toEqual([true, true]);
  });

  it('says so where the adaptive attacker did not implant', () => {
    const weak = grid.map((r) => (r.attack === 'randpatch' && r.defense === 'none' ? { ...r, metrics: { ...r.metrics, ASR: 0.3 } } : r));
    const [t] = paperTables(weak);
    expect(adaptiveComparisons(t, weak).map((a) => a.implanted)).toEqual([false, false]);
    const page = renderResultsMarkdown({ title: 'results', records: weak, invocations: [] });
    expect(page).toMatch(/\n\| randpatch \(did not implant\) \| badnets \| jitter \| 6 \|/);
    expect(page).toContain('- randpatch against jitter (it did not implant: no backdoor to get past with): ASR 80.0');
  });

  it('leaves an adaptive attacker out when no base row has its rate, and writes the rest to adaptive-<task>.csv', () => {
    const otherRate = grid.map((r) => (r.attack === 'badnets' ? { ...r, attackParams: { rate: 0.1 }, config: { attack: { id: 'badnets', params: { rate: 0.1 } } } } : r));
    expect(adaptiveComparisons(paperTables(otherRate)[0], otherRate)).toEqual([]);
    const [t] = paperTables(grid);
    const [header, ...rows] = parse(adaptiveCsv(adaptiveComparisons(t, grid)), { cast: false }) as string[][];
    expect(header).toEqual([...ADAPTIVE_COLUMNS]);
    const row = Object.fromEntries(header.map((h, i) => [h, rows[1][i]]));
    expect(row).toMatchObject({ attack: 'randpatch', base: 'badnets', defense: 'jitter', targeted: 'yes', n: '6', 'ASR mean': '80', 'base ASR mean': '15', 'ΔASR mean': '65', 'ΔASR p Holm': '0.0313' });
  });
});
