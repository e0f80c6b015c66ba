import { describe, expect, it } from 'vitest';
import { paperTables, stat } from './aggregate.js';
import { bestMarks } from './best.js';
import { record } from './records.testutil.js';

describe('paper tables', () => {
  it('aggregates mean ± sample std over seeds and counts failed runs', () => {
    const s = stat([0.9, 0.8])!;
    expect(s.mean).toBeCloseTo(0.85);
    expect(s.std).toBeCloseTo(Math.sqrt(0.005));
    expect(stat([NaN])).toBeUndefined();
    const [t] = paperTables([
      record({ id: 'a', seed: 1, metrics: { ASR: 0.9, 'CIDEr-D': 2.0 } }),
      record({ id: 'b', seed: 2, metrics: { ASR: 0.8, 'CIDEr-D': 2.2 } }),
      record({ id: 'c', defense: 'pcr', metrics: { ASR: 0.5, 'CIDEr-D': 1.5 } }),
      record({ id: 'd', defense: 'pcr', seed: 2, status: 'failed', error: 'NaN loss', metrics: {} }),
    ]);
    expect(t.columns.map((c) => [c.defense, c.baseline])).toEqual([
      ['none', true],
      ['pcr', false],
    ]);
    expect(t.rows[0].cells[0].asr!.mean).toBeCloseTo(85);
    expect(t.rows[0].cells[0].clean!.std).toBeCloseTo(Math.sqrt(0.02));
    expect(t.rows[0].cells[1]).toMatchObject({ runs: 2, failed: 1 });
    expect(t.rows[0].cells[1].asr).toEqual({ mean: 50, std: 0, n: 1 });
  });

  it('reads a NaN metric (null after JSON) as missing, not as 0', () => {
    const [t] = paperTables([record({ metrics: { ASR: null as unknown as number, 'CIDEr-D': 2 } }), record({ seed: 2, metrics: { ASR: 0.5, 'CIDEr-D': 2 } })]);
    expect(t.rows[0].cells[0].asr).toEqual({ mean: 50, std: 0, n: 1 });
  });

  it('puts the no-defense column first, whatever the record order', () => {
    const [t] = paperTables([record({ defense: 'pcr' }), record({ defense: 'none' })]);
    expect(t.columns.map((c) => c.defense)).toEqual(['none', 'pcr']);
  });

  it('orders defense columns and attack rows as the experiment config lists them', () => {
    const exp = {
      attacks: [{ id: 'sig' }, { id: 'blended', label: 'blended@0.1' }, { id: 'badnets' }],
      defenses: [{ id: 'none' }, { id: 'pcr' }, { id: 'pcr', label: 'pcr lambdaCv=4' }, { id: 'ft' }, { id: 'abl' }],
    };
    const recs = ['abl', 'ft', 'none', 'pcr lambdaCv=4', 'pcr'].flatMap((defense) =>
      [['badnets', 'badnets'], ['blended@0.1', 'blended'], ['sig', 'sig']].map(([attack, id]) =>
        record({ attack, defense, config: { attack: { id, params: {} }, exp } }),
      ),
    );
    const [t] = paperTables(recs);
    expect(t.columns.map((c) => c.defense)).toEqual(['none', 'pcr', 'pcr lambdaCv=4', 'ft', 'abl']);
    expect(t.rows.map((r) => r.attack)).toEqual(['sig', 'blended@0.1', 'badnets']);
  });

  it('computes DER per seed against the same attack, model and seed without defense', () => {
    const recs = [
      // seed 1: ASR 0.9 → 0.3 (ΔASR 0.6), CIDEr-D 2.0 → 1.0 (relative Δ 1.0 / 2.0 = 0.5): DER (0.6 − 0.5 + 1) / 2 = 0.55
      record({ seed: 1, metrics: { ASR: 0.9, 'CIDEr-D': 2 } }),
      record({ seed: 1, defense: 'pcr', metrics: { ASR: 0.3, 'CIDEr-D': 1 } }),
      // seed 2: ASR rises (counts 0), clean rises (counts 0): DER 0.5
      record({ seed: 2, metrics: { ASR: 0.5, 'CIDEr-D': 2 } }),
      record({ seed: 2, defense: 'pcr', metrics: { ASR: 0.6, 'CIDEr-D': 2.5 } }),
      // seed 3 has no baseline run: left out of the DER, kept in ASR
      record({ seed: 3, defense: 'pcr', metrics: { ASR: 0.3, 'CIDEr-D': 1 } }),
      // another attack's baseline must not be used
      record({ seed: 3, attack: 'blended', metrics: { ASR: 1, 'CIDEr-D': 3 } }),
    ];
    const [t] = paperTables(recs);
    const pcr = t.rows.find((r) => r.attack === 'badnets')!.cells[1];
    expect(pcr.der!.n).toBe(2);
    expect(pcr.der!.mean).toBeCloseTo((0.55 + 0.5) / 2);
    expect(pcr.asr!.n).toBe(3);
    expect(t.rows[0].cells[0].der).toBeUndefined();
    // VQA accuracy: relative to no defense too (60 → 50 is a loss of 1/6)
    const [v] = paperTables([
      record({ task: 'vqa', metrics: { ASR: 1, 'VQA-acc': 60 } }),
      record({ task: 'vqa', defense: 'ft', metrics: { ASR: 0.2, 'VQA-acc': 50 } }),
    ]);
    expect(v.rows[0].cells[1].der!.mean).toBeCloseTo((0.8 - 1 / 6 + 1) / 2);
  });

  it('averages the per-attack means of implanted attacks in the average row and says over how many', () => {
    const [t] = paperTables([
      record({ attack: 'badnets', seed: 1, metrics: { ASR: 1, 'CIDEr-D': 2 } }),
      record({ attack: 'badnets', seed: 2, metrics: { ASR: 0.8, 'CIDEr-D': 2 } }),
      record({ attack: 'blended', metrics: { ASR: 0.6, 'CIDEr-D': 3 } }),
      record({ attack: 'wanet', metrics: { ASR: 0.3, 'CIDEr-D': 5 } }), // below 50%: did not implant
      record({ attack: 'sig', status: 'failed', metrics: {} }),
    ]);
    // (90 + 60) / 2: per-attack means, not the mean of the runs; wanet left out
    expect(t.average[0].asr).toBeCloseTo(75);
    expect(t.average[0].clean).toBeCloseTo(2.5);
    expect(t.average[0].attacks).toEqual({ asr: 2, clean: 2, der: 0 });
    expect(t.rows.map((r) => [r.attack, r.implanted])).toEqual([
      ['badnets', true],
      ['blended', true],
      ['wanet', false],
      ['sig', true], // no undefended result: unknown, not flagged
    ]);
  });

  it('gives each cell its 95% t-interval, clipped to the metric range, and none for one seed', () => {
    const [t] = paperTables([1, 2, 3].map((seed) => record({ seed, metrics: { ASR: [0.9, 0.95, 1][seed - 1], 'CIDEr-D': [2, 2.2, 2.4][seed - 1], FTR: 0.01, 'ASR n': 300 } })));
    const cell = t.rows[0].cells[0];
    // ASR 90, 95, 100: mean 95, sd 5, t(0.975, 2) · 5 / √3 = 12.42 → [82.58, 107.42] → hi clipped to 100
    expect(cell.asr!.ci!.lo).toBeCloseTo(95 - (4.302652729749462 * 5) / Math.sqrt(3), 9);
    expect(cell.asr!.ci!.hi).toBe(100);
    expect(cell.clean!.ci!.lo).toBeCloseTo(2.2 - (4.302652729749462 * 0.2) / Math.sqrt(3), 9);
    expect(cell.ftr!.mean).toBeCloseTo(1);
    expect(cell.asrN).toBe(300);
    const [one] = paperTables([record({})]);
    expect(one.rows[0].cells[0].asr!.ci).toBeUndefined();
    // VQA accuracy 60, 80, 100: mean 80, sd 20 → [30.3, 129.7] → hi clipped to 100; CIDEr-D has no upper end
    const [v] = paperTables([1, 2, 3].map((seed) => record({ seed, task: 'vqa', metrics: { ASR: 1, 'VQA-acc': [60, 80, 100][seed - 1] } })));
    expect(v.rows[0].cells[0].clean!.ci!.lo).toBeCloseTo(80 - (4.302652729749462 * 20) / Math.sqrt(3), 9);
    expect(v.rows[0].cells[0].clean!.ci!.hi).toBe(100);
    const [c] = paperTables([1, 2, 3].map((seed) => record({ seed, metrics: { ASR: 1, 'CIDEr-D': [3, 4, 5][seed - 1] } })));
    expect(c.rows[0].cells[0].clean!.ci!.hi).toBeCloseTo(4 + 4.302652729749462 / Math.sqrt(3), 9);
  });

  it('orders rows by attack plugin, then poisoning rate', () => {
    const rate = (attack: string, id: string, r: number) => record({ attack, attackParams: { rate: r }, config: { attack: { id } } });
    const [t] = paperTables([rate('badnets-10%', 'badnets', 0.1), rate('blended', 'blended', 0.05), rate('badnets', 'badnets', 0.05), rate('badnets-1%', 'badnets', 0.01)]);
    expect(t.rows.map((r) => r.attack)).toEqual(['badnets-1%', 'badnets', 'badnets-10%', 'blended']);
  });

  it('keeps models apart in columns, labelled model / defense', () => {
    const [t] = paperTables([record({ model: 'llava' }), record({ model: 'blip2' }), record({ model: 'blip2', defense: 'pcr' })]);
    expect(t.columns.map((c) => c.label)).toEqual(['llava / none', 'blip2 / none', 'blip2 / pcr']);
  });
});

describe('best marks', () => {
  /** One attack, `seeds` seeds, per defense a fixed ASR and CIDEr-D plus a small per-seed wobble. */
  const grid = (seeds: number, values: Record<string, [number, number]>) =>
    Object.entries(values).flatMap(([defense, [asrV, cider]]) =>
      Array.from({ length: seeds }, (_, k) => record({ defense, seed: k + 1, metrics: { ASR: asrV + 0.001 * k, 'CIDEr-D': cider + 0.01 * k } })),
    );

  it('marks the leader best only where its gap to the runner-up is significant after Holm', () => {
    // 7 seeds: each leader beats its runner-up on every seed, sign-flip p = 2/128; Holm over the
    // row's 3 contests: 3 × 0.0156 = 0.047 < 0.05.
    const [t] = paperTables(grid(7, { none: [0.9, 2.5], pcr: [0.3, 2.0], ft: [0.6, 2.1] }));
    const m = bestMarks(t).rows[0];
    expect(m.map((x) => x.asr.mark)).toEqual(['', 'best', '']);
    expect(m[1].asr).toMatchObject({ runnerUp: 'ft' });
    expect(m[1].asr.p).toBeCloseTo(3 * (2 / 128), 12);
    expect(m.map((x) => x.clean.mark)).toEqual(['best', '', '']);
    // DER only among defended columns: pcr removes 60 points for a 20% loss, ft 30 for 16%
    expect(m.map((x) => x.der.mark)).toEqual(['', 'best', '']);
  });

  it('calls it a tie where the seeds cannot separate leader and runner-up', () => {
    // 6 seeds: p = 2/64 each, × 3 after Holm = 0.094: not significant
    const six = bestMarks(paperTables(grid(6, { none: [0.9, 2.5], pcr: [0.3, 2.0], ft: [0.6, 2.1] }))[0]).rows[0];
    expect(six.map((x) => x.asr.mark)).toEqual(['', 'tie', '']);
    expect(six[1].asr.p).toBeCloseTo(3 * (2 / 64), 12);
    // 3 seeds can never show a difference (p ≥ 0.25), and one seed gives no p at all
    expect(bestMarks(paperTables(grid(3, { none: [0.9, 2.5], pcr: [0.3, 2.0] }))[0]).rows[0].map((x) => x.asr.mark)).toEqual(['', 'tie']);
    expect(bestMarks(paperTables(grid(1, { none: [0.9, 2.5], pcr: [0.3, 2.0] }))[0]).rows[0].map((x) => x.asr.mark)).toEqual(['', 'tie']);
  });

  it('ranks nothing in a row that did not implant, where a model has one column, or across models', () => {
    const [low] = paperTables(grid(7, { none: [0.2, 2.5], pcr: [0.1, 2.0] }));
    expect(low.rows[0].implanted).toBe(false);
    expect(bestMarks(low).rows[0].flatMap((x) => [x.asr.mark, x.clean.mark, x.der.mark]).every((m) => m === '')).toBe(true);
    const [t] = paperTables([record({ model: 'a', metrics: { ASR: 0.1, 'CIDEr-D': 1 } }), record({ model: 'b', metrics: { ASR: 0.9, 'CIDEr-D': 2 } })]);
    expect(bestMarks(t).rows[0].flatMap((x) => [x.asr.mark, x.clean.mark, x.der.mark]).every((m) => m === '')).toBe(true);
  });
});
