import { describe, expect, it } from 'vitest';
import { PROFILES } from '../harness/config/profiles.js';
import { experimentSchema, layer, parseWith } from '../harness/config/schema.js';
import type { RunRecord } from '../harness/core/record.js';
import { expandGrid } from '../harness/plan/grid.js';
import { Scheduler } from '../harness/plan/schedule.js';
import { defenseStage, probesBackdoored } from '../harness/plan/validate.js';
import { replayEta } from './eta-replay.js';

describe('eta-replay', () => {
  it('where each run takes time in proportion to its work, one after another, the work ETA is the truth', () => {
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], seeds: [1, 2], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }, { id: 'ft' }, { id: 'pcr' }] }), 'smoke');
    const specs = expandGrid(exp);
    // The first run of each seed's chain computes pre-training and the backdoored model; the rest load them.
    const seen = new Set<number>();
    const cached = specs.map((r) => {
      const first = !seen.has(r.seed);
      seen.add(r.seed);
      return { pretrain: !first, sft: !first && r.defense.id !== 'pcr' };
    });
    const work = new Scheduler(specs, defenseStage, probesBackdoored);
    const seconds = specs.map((r, i) => 0.01 * work.workOf(r, cached[i])); // 1 s per 100 units
    let t = Date.parse('2026-01-01T00:00:00Z');
    const start = t;
    const records = specs.map((r, i) => {
      t += seconds[i] * 1000;
      return { config: r, cached: cached[i], timings: { sft: seconds[i] }, provenance: { date: new Date(t).toISOString() } } as unknown as RunRecord;
    });
    const points = replayEta(records, start, t, 1);
    expect(points.map((p) => p.finished)).toEqual([1, 2, 3, 4, 5, 6]);
    // Record times are whole milliseconds: equal to within 5 ms.
    for (const p of points) expect(p.work!).toBeCloseTo(p.truth, 2);
    expect(points[0].truth).toBeGreaterThan(1);
    // The mean run time cannot tell a pre-training run from a repair: it is off.
    expect(points.slice(0, -1).some((p) => Math.abs(p.mean! / p.truth - 1) > 0.2)).toBe(true);
  });
});
