import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/core/record.js';
import { paperTables } from './aggregate.js';
import { detectionCsv } from './csv.js';
import { detectionSummary } from './detectionSummary.js';
import { renderReport } from './html.js';
import { record, unescapeHtml } from './records.testutil.js';

const removal = (precision: number, recall: number) => ({ removed: 10, poisoned: 5, hits: Math.round(10 * precision), precision, recall });
/** BYE's score at epochs 0 and 1: the summary takes the last one. */
const entropy = (last: number) => ({ 'bye.entropy': [{ epoch: 0, n: 100, positives: 5, auroc: 0.1 }, { epoch: 1, n: 100, positives: 5, auroc: last }] });
const flags = (triggered: number, clean: number) => ({ ASR: 0.5, 'CIDEr-D': 2, flagged: triggered, 'flagged clean': clean });

/** Three seeds each of none (no detection fact), BYE (AUROC and removal) and CleanSight (flags). */
const runs: RunRecord[] = [1, 2, 3].flatMap((seed, k) => [
  record({ id: `none${seed}`, seed }),
  record({ id: `bye${seed}`, defense: 'bye', seed, suspicion: entropy([0.9, 0.8, 0.85][k]), removal: removal([0.5, 0.6, 0.7][k], [1, 0.9, 0.8][k]) }),
  record({ id: `cs${seed}`, defense: '<i>cleansight</i>', seed, metrics: flags([0.8, 0.6, 0.7][k], [0.02, 0.04, 0.03][k]) }),
]);

describe('detection summary', () => {
  it('gives each detecting cell its last-epoch AUROC, removal precision/recall and flag rates over seeds', () => {
    const [t] = paperTables(runs);
    const rows = detectionSummary(t, runs);
    expect(rows.map((r) => [r.defense, r.score, r.runs, Object.keys(r.stats)])).toEqual([
      ['bye', 'bye.entropy', 3, ['AUROC', 'removal precision', 'removal recall']],
      ['<i>cleansight</i>', '', 3, ['flagged triggered', 'flagged clean']],
    ]);
    // mean 0.85 of 0.9, 0.8, 0.85 (the last epoch's, not epoch 0's 0.1); t(0.975, 2) · 0.05/√3 = 0.1242
    expect(rows[0].stats.AUROC).toMatchObject({ mean: expect.closeTo(0.85, 12), n: 3, ci: { lo: expect.closeTo(0.7258, 4), hi: expect.closeTo(0.9742, 4) } });
    // recall's interval 0.9 ± 0.2484 is clipped to [0, 1]
    expect(rows[0].stats['removal recall']!.ci).toEqual({ lo: expect.closeTo(0.6516, 4), hi: 1 });
    expect(rows[1].stats['flagged clean']).toMatchObject({ mean: expect.closeTo(0.03, 12), n: 3 });
  });

  it('counts only the seeds with a value (a NaN precision is null after JSON)', () => {
    const nan = JSON.parse(JSON.stringify(record({ id: 'x', defense: 'remove', removal: removal(NaN, 0) }))) as RunRecord;
    const [row] = detectionSummary(paperTables([nan])[0], [nan]);
    expect(row.stats['removal precision']).toBeUndefined();
    expect(row.stats['removal recall']).toMatchObject({ mean: 0, n: 1 });
  });

  it('is in detection-<task>.csv and in the HTML with the same numbers, cell by cell', () => {
    const [t] = paperTables(runs);
    const [header, ...csv] = parse(detectionCsv(detectionSummary(t, runs)), { cast: false }) as string[][];
    expect(csv.map((r) => r.slice(0, 4))).toEqual([
      ['llava', 'badnets', 'bye', 'bye.entropy'],
      ['llava', 'badnets', '<i>cleansight</i>', ''],
    ]);
    const col = (name: string) => header.indexOf(name);
    expect([csv[0][col('AUROC mean')], csv[0][col('AUROC lo')], csv[0][col('AUROC hi')], csv[0][col('AUROC n')]]).toEqual(['0.85', '0.726', '0.974', '3']);
    expect([csv[1][col('flagged triggered mean')], csv[1][col('flagged clean mean')], csv[1][col('AUROC n')]]).toEqual(['0.7', '0.03', '0']);

    const html = renderReport({ title: 't', records: runs, generated: '2026-01-01' });
    expect(html).not.toContain('<i>cleansight</i>');
    const table = html.slice(html.indexOf('data-table="detection-summary"'), html.indexOf('</table>', html.indexOf('data-table="detection-summary"')));
    expect(table).toContain('<th>AUROC (last epoch)</th><th>removal precision</th><th>removal recall</th><th>flagged triggered</th><th>flagged clean</th><th>runs</th>');
    const rows = [...table.matchAll(/<tr><td class="l">[\s\S]*?<\/tr>/g)].map((m) => m[0]);
    expect(rows).toHaveLength(2);
    let compared = 0;
    rows.forEach((row, i) => {
      for (const td of row.matchAll(/<td data-metric="([^"]+)" data-mean="([^"]*)" data-lo="([^"]*)" data-hi="([^"]*)" data-n="(\d+)">([^<]*)<\/td>/g)) {
        const [, metric, mean, lo, hi, n, text] = td;
        expect([mean, lo, hi, n], `${i} ${metric}`).toEqual([csv[i][col(`${metric} mean`)], csv[i][col(`${metric} lo`)], csv[i][col(`${metric} hi`)], csv[i][col(`${metric} n`)]]);
        expect(unescapeHtml(text)).toBe(mean === '' ? '—' : `${Number(mean).toFixed(3)} [${Number(lo).toFixed(3)}, ${Number(hi).toFixed(3)}]`);
        compared++;
      }
    });
    expect(compared).toBe(2 * 5);
    expect(rows[0]).toContain('<td data-metric="removal precision" data-mean="0.6" data-lo="0.352" data-hi="0.848" data-n="3">0.600 [0.352, 0.848]</td>');
    expect(rows[1]).toContain('&lt;i&gt;cleansight&lt;/i&gt;');
    // CleanSight alone (no suspicion score) still opens the detection section, without the per-epoch table
    const flagsOnly = renderReport({ title: 't', records: runs.filter((r) => r.defense !== 'bye'), generated: '2026-01-01' });
    expect(flagsOnly).toContain('data-table="detection-summary"');
    expect(flagsOnly).not.toContain('data-table="detection"');
    expect(renderReport({ title: 't', records: runs.filter((r) => r.defense === 'none'), generated: '2026-01-01' })).not.toContain('id="detection"');
  });
});
