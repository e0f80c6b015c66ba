import { describe, expect, it } from 'vitest';
import { detectionRows, lastEpochAuroc } from './detection.js';
import { renderReport } from './html.js';
import { longRows } from './longFormat.js';
import { record } from './records.testutil.js';

const auroc = (values: number[]) => values.map((a, epoch) => ({ epoch, n: 100, positives: 5, auroc: a }));

const runs = [
  record({ id: 'a', defense: 'pcr', seed: 1, suspicion: { 'pcr.invariance': auroc([0.6, 0.2]) } }),
  record({ id: 'b', defense: 'pcr', seed: 2, suspicion: { 'pcr.invariance': auroc([0.4, 0.3]) } }),
  // ABL scores once, after its 2 isolation epochs: epoch 2
  record({ id: 'c', defense: 'abl', seed: 1, suspicion: { '<b>abl.loss</b>': [{ epoch: 2, n: 100, positives: 5, auroc: 0.9 }] } }),
  record({ id: 'd', defense: 'none', seed: 1 }),
];

describe('poison detection', () => {
  it('averages each score’s AUROC per epoch over seeds, one row per attack × defense × score', () => {
    const rows = detectionRows(runs);
    expect(rows.map((r) => [r.defense, r.score])).toEqual([
      ['pcr', 'pcr.invariance'],
      ['abl', '<b>abl.loss</b>'],
    ]);
    expect([...rows[0].byEpoch].map(([e, s]) => [e, s.mean, s.n])).toEqual([
      [0, 0.5, 2],
      [1, 0.25, 2],
    ]);
    expect(rows[0].byEpoch.get(0)!.std).toBeCloseTo(Math.sqrt(0.02), 12);
    // A score taken at another epoch is kept under that epoch, not dropped
    expect([...rows[1].byEpoch].map(([e, s]) => [e, s.mean])).toEqual([[2, 0.9]]);
  });

  it('puts the last epoch’s AUROC in the long-format CSV rows', () => {
    expect(lastEpochAuroc(runs[0])).toEqual({ 'AUROC pcr.invariance': 0.2 });
    const rows = longRows(runs).filter((r) => String(r.metric).startsWith('AUROC'));
    expect(rows.map((r) => [r.run, r.metric, r.value])).toEqual([
      ['a', 'AUROC pcr.invariance', 0.2],
      ['b', 'AUROC pcr.invariance', 0.3],
      ['c', 'AUROC <b>abl.loss</b>', 0.9],
    ]);
  });

  it('renders the table with escaped score names, and leaves it out when no defense scores examples', () => {
    const html = renderReport({ title: 't', records: runs, generated: '2026-01-01' });
    expect(html).toContain('data-table="detection"');
    expect(html).toContain('&lt;b&gt;abl.loss&lt;/b&gt;');
    expect(html).not.toContain('<b>abl.loss</b>');
    // mean 0.25 of 0.2 and 0.3, its t-interval (t = 12.706, se 0.05) clipped to AUROC's [0, 1]
    expect(html).toMatch(/data-mean="0.25">0.250 \[0.000, 0.885\]</);
    // Columns by the epochs scored, from 0; ABL's single score sits under its own epoch.
    expect(html).toContain('<th>epoch 0</th><th>epoch 1</th><th>epoch 2</th>');
    expect(html).toMatch(/<td class="" data-metric="AUROC" data-mean="">\s*<\/td><td class="" data-metric="AUROC" data-mean="">\s*<\/td><td class="" data-metric="AUROC" data-mean="0.9">0.900<\/td>/);
    expect(renderReport({ title: 't', records: [runs[3]], generated: '2026-01-01' })).not.toContain('data-table="detection"');
  });
});
