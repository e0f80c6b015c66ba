import { describe, expect, it } from 'vitest';
import { experimentSchema, parseWith } from '../config/schema.js';
import type { RunRecord } from '../core/record.js';
import { PCR_DEFAULTS } from '../../defenses/pcr.js';
import { parseVary, sweepExperiment, sweepPoints, type SweepSpec } from './sweep.js';

const base = parseWith(experimentSchema, { tasks: ['caption'] }, 'test');
// Knob values around PCR's current defaults, so the tests hold whatever the sweep chose.
const D = PCR_DEFAULTS.lambdaCv;
const [LO, HI] = [D / 2, D * 4];
const V = PCR_DEFAULTS.viewFraction;
const V2 = V === 1 ? 0.5 : 1;
const spec: SweepSpec = { defense: 'pcr', vary: { lambdaCv: [LO, D, HI] }, minClean: [0.95] };

const rec = (defense: string, valAsr: number, valClean: number, seed = 1): RunRecord =>
  ({ status: 'ok', task: 'caption', defense, seed, metrics: { 'val ASR': valAsr, 'val CIDEr-D': valClean } }) as unknown as RunRecord;

describe('sweep', () => {
  it('parses --vary into typed values and names the fix on bad input', () => {
    expect(parseVary('lambdaCv=0.5,1,2')).toEqual(['lambdaCv', [0.5, 1, 2]]);
    expect(parseVary('ceViews=orig,both')).toEqual(['ceViews', ['orig', 'both']]);
    expect(() => parseVary('lambdaCv')).toThrow(/expected knob=v1,v2/);
  });

  it('grids none, the defaults, and one run per non-default value', () => {
    const exp = sweepExperiment(base, spec);
    expect(exp.defenses.map((d) => d.label ?? d.id)).toEqual(['none', 'pcr', `pcr lambdaCv=${LO}`, `pcr lambdaCv=${HI}`]);
    expect(exp.defenses[2].params).toEqual({ lambdaCv: LO });
  });

  it('refuses unknown knobs and out-of-range values, naming them', () => {
    expect(() => sweepExperiment(base, { ...spec, vary: { lambda: [1] } })).toThrow(/no knob "lambda".*lambdaCv/);
    expect(() => sweepExperiment(base, { ...spec, vary: { q: [2] } })).toThrow(/q=2/);
  });

  it('chooses the lowest val ASR whose val clean metric keeps 95% of no defense, averaging seeds', () => {
    const records = [
      rec('none', 0.9, 2.0),
      rec('none', 0.9, 2.2, 2), // floor = 0.95 × 2.1 = 1.995
      rec('pcr', 0.6, 2.0), // the default lambdaCv
      rec(`pcr lambdaCv=${LO}`, 0.8, 2.1),
      rec(`pcr lambdaCv=${HI}`, 0.2, 1.9), // lowest ASR but below the floor
      rec(`pcr lambdaCv=${HI}`, 0.4, 2.0, 2),
    ];
    const points = sweepPoints(records, sweepExperiment(base, spec), spec);
    expect(points.map((p) => [p.value, p.valAsr, p.valClean, p.chosen])).toEqual([
      [LO, 0.8, 2.1, false],
      [D, 0.6, 2.0, true],
      [HI, expect.closeTo(0.3, 9), expect.closeTo(1.95, 9), false],
    ]);
    expect(points[1].params.lambdaCv).toBe(D);
    expect(points[1].floor).toBe(0.95);
  });

  it('falls to the next floor only when no setting meets the previous one, and records the floor met', () => {
    const records = [
      rec('none', 0.9, 2.0),
      rec('pcr', 0.6, 1.85), // 92.5% of none
      rec(`pcr lambdaCv=${LO}`, 0.8, 1.88), // 94%
      rec(`pcr lambdaCv=${HI}`, 0.2, 1.75), // 87.5%: lowest ASR, but a higher floor admits others
    ];
    const ladder = { ...spec, minClean: [0.95, 0.9, 0.85] };
    const points = sweepPoints(records, sweepExperiment(base, ladder), ladder);
    expect(points.filter((p) => p.chosen).map((p) => [p.value, p.floor])).toEqual([[D, 0.9]]);
    // Nothing meets any floor: nothing is chosen.
    const none = sweepPoints(records, sweepExperiment(base, ladder), { ...ladder, minClean: [0.99] });
    expect(none.some((p) => p.chosen)).toBe(false);
  });

  it('cross: every combination of the listed values in one group, labelled by what differs from the defaults', () => {
    const cross: SweepSpec = { defense: 'pcr', vary: { lambdaCv: [D, HI], viewFraction: [V, V2] }, cross: true, minClean: [0.9] };
    const exp = sweepExperiment(base, cross);
    expect(exp.defenses.map((d) => d.label ?? d.id)).toEqual([
      'none',
      'pcr',
      `pcr viewFraction=${V2}`,
      `pcr lambdaCv=${HI}`,
      `pcr lambdaCv=${HI} viewFraction=${V2}`,
    ]);
    expect(exp.defenses[4].params).toEqual({ lambdaCv: HI, viewFraction: V2 });
    const records = [
      rec('none', 0.9, 2.0),
      rec('pcr', 0.7, 1.9),
      rec(`pcr viewFraction=${V2}`, 0.6, 1.95),
      rec(`pcr lambdaCv=${HI}`, 0.3, 1.7), // below the floor of 1.8
      rec(`pcr lambdaCv=${HI} viewFraction=${V2}`, 0.4, 1.85),
    ];
    const points = sweepPoints(records, exp, cross);
    const chosen = points.find((p) => p.chosen)!;
    expect(points.map((p) => p.value)).toHaveLength(4);
    expect(points.every((p) => p.knob === 'lambdaCv×viewFraction')).toBe(true);
    expect(chosen.value).toBe(`${HI}×${V2}`);
    expect(chosen.params).toMatchObject({ lambdaCv: HI, viewFraction: V2, q: 1 });
  });
});
