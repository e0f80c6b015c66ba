import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/core/record.js';
import { record } from './records.testutil.js';
import type { SweepPoint } from './sweep.js';
import { writeReport } from './write.js';

function outDirWith(records: RunRecord[], sweep?: SweepPoint[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'mbb-report-'));
  mkdirSync(join(dir, 'runs'));
  for (const r of records) writeFileSync(join(dir, 'runs', `${r.id}.json`), JSON.stringify(r));
  if (sweep) {
    mkdirSync(join(dir, 'sweep'));
    writeFileSync(join(dir, 'sweep', 'sweep.json'), JSON.stringify(sweep));
  }
  return dir;
}

const records = [
  record({ id: 'caption__llava__badnets__none__s1' }),
  record({ id: 'caption__llava__badnets__pcr__s1', defense: 'pcr', metrics: { ASR: 0.4, 'CIDEr-D': 1.8 } }),
  record({ id: 'vqa__llava__badnets__none__s1', task: 'vqa', metrics: { ASR: 1, 'VQA-acc': 58 } }),
  record({ id: 'vqa__llava__ghost__none__s1', task: 'vqa', attack: 'ghost', config: { attack: { id: 'ghost' } }, metrics: { ASR: 1, 'VQA-acc': 58 } }),
];

describe('writeReport', () => {
  it('rebuilds tables, long CSV, trigger PNGs and the page from the records alone', () => {
    const dir = outDirWith(records, [{ knob: 'q', value: 1, params: {}, task: 'caption', valAsr: 0.5, valClean: 2, chosen: true }]);
    const written = writeReport(dir, 'test', new Date('2026-02-03T04:05:06Z'));
    expect(written.map((p) => basename(p))).toEqual(['table-caption.csv', 'comparisons-caption.csv', 'table-vqa.csv', 'comparisons-vqa.csv', 'results-long.csv', 'trigger-badnets.png', 'report.html']);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    // the strip is embedded byte for byte as the PNG written beside the page
    expect(html).toContain(`src="data:image/png;base64,${readFileSync(join(dir, 'trigger-badnets.png')).toString('base64').replace(/=/g, '&#x3D;')}"`);
    // an attack whose plugin is gone costs its picture, not the report
    expect(html).toMatch(/data-gallery="ghost"[\s\S]*?could not draw the trigger: unknown attack &quot;ghost&quot;/);
    expect(html).toContain('data-chart="sweep"');
    expect(html).toContain('2026-02-03T04:05:06.000Z');
    const long = parse(readFileSync(join(dir, 'results-long.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(long.find((r) => r.run === 'caption__llava__badnets__pcr__s1' && r.metric === 'ASR')).toMatchObject({ value: '0.4', rate: '0.05', attackId: 'badnets' });
  });

  it('is what `mbb report --out DIR` runs', () => {
    const dir = outDirWith(records.slice(0, 2));
    const r = spawnSync(process.execPath, [resolve(__dirname, '../scripts/mbb.mjs'), 'report', '--out', dir, '--title', 'cli'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain(`[report] wrote ${join(dir, 'report.html')}`);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<title>mllm-backdoor-bench — cli</title>');
  });

  it('is what `mbb report --format markdown --to FILE` runs; a bad format or a stray --to is a usage error', () => {
    const dir = outDirWith(records.slice(0, 2));
    const report = (...args: string[]) => spawnSync(process.execPath, [resolve(__dirname, '../scripts/mbb.mjs'), 'report', '--out', dir, ...args], { encoding: 'utf8' });
    const to = join(dir, 'page.md');
    const r = report('--format', 'markdown', '--to', to);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`[report] wrote ${to}`);
    const page = readFileSync(to, 'utf8');
    expect(page.split('\n')[0]).toBe('# mllm-backdoor-bench — results');
    // pcr: ASR 40%, CIDEr-D 1.8; DER = [(0.9 − 0.4) − (2 − 1.8)/2 + 1] / 2 = 0.7
    expect(page).toMatch(/\n\| badnets \| pcr \| 40\.0 \(tie\) \| 1\.800 \| 0\.700 \| — \| 1 \|\n/);
    expect(existsSync(join(dir, 'report.html'))).toBe(false); // the Markdown page alone
    const bad = report('--format', 'pdf');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/argument 'pdf' is invalid\. Allowed choices are html, markdown/);
    const stray = report('--to', to);
    expect(stray.status).toBe(2);
    expect(stray.stderr).toContain('mbb: report: --to names the Markdown page; add --format markdown');
  });
});
