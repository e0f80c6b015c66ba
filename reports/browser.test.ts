/**
 * The report in a real browser: a tiny grid is run end to end (real-shaped records), the
 * report is built from them, and headless Chromium opens it. Needs /usr/bin/chromium (or
 * $MBB_CHROMIUM): without it the test is skipped with the reason, except under
 * MBB_REQUIRE_BROWSER=1 (CI), where a missing browser fails it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseWith } from '../harness/config/schema.js';
import { PROFILES } from '../harness/config/profiles.js';
import { runGrid } from '../harness/exec/runner.js';
import { chromiumPath, checkPage, hasChromium } from './screenshot.js';
import { SWEEP_FILE, type SweepPoint } from './sweep.js';
import { readRecords, writeReport } from './write.js';

const required = process.env.MBB_REQUIRE_BROWSER === '1';
const available = hasChromium();
const reason = `${chromiumPath()} not found (apt-get install chromium, or set MBB_CHROMIUM)`;
if (!available && !required) console.warn(`[browser test] skipped: ${reason}`);

// A sweep file as a PCR sweep would write it: two knobs on one task, one point chosen each.
const SWEEP: SweepPoint[] = [
  ...[0.5, 1, 2].map((v) => ({ knob: 'lambdaCv', value: v, params: { lambdaCv: v }, task: 'caption', valAsr: 1 - v / 4, valClean: 2.5 - v / 10, chosen: v === 2 })),
  ...['shuffle', 'noise', 'mask'].map((v, i) => ({ knob: 'ops', value: v, params: { ops: [v] }, task: 'caption', valAsr: 0.5 + i / 10, valClean: 2 - i / 10, chosen: i === 0 })),
];

describe.skipIf(!available && !required)(`report in headless Chromium${available ? '' : ` (${reason})`}`, () => {
  let out = '';
  let cache = '';

  beforeAll(async () => {
    if (!available) throw new Error(`MBB_REQUIRE_BROWSER=1 but ${reason}`);
    out = mkdtempSync(join(tmpdir(), 'mbb-browser-'));
    // Two attacks, badnets at two rates (so the rate chart has a line), none and pcr, both
    // tasks, two seeds, the smoke model, one epoch each: real records in ~10-20 s.
    const exp = parseWith(
      experimentSchema,
      layer(PROFILES.smoke, {
        name: 'browser',
        seeds: [1, 2],
        attacks: [{ id: 'badnets' }, { id: 'badnets', label: 'badnets-10%', params: { rate: 0.1 } }, { id: 'blended' }],
        defenses: [{ id: 'none' }, { id: 'pcr' }],
        data: { nTrain: 80, nVal: 10, nTest: 20 },
        pretrain: { epochs: 1 },
        sft: { epochs: 1 },
      }),
      'browser test',
    );
    cache = mkdtempSync(join(tmpdir(), 'mbb-browser-cache-'));
    const res = await runGrid(exp, { outDir: out, cacheDir: cache, workers: 2, backend: 'wasm', log: () => {} });
    expect(res).toEqual({ done: 24, failed: 0, skipped: 0 });
    mkdirSync(join(out, 'sweep'));
    writeFileSync(join(out, SWEEP_FILE), JSON.stringify(SWEEP));
    writeReport(out, 'browser test');
  }, 170_000);

  // The model cache is only scaffolding; the output dir (report, screenshot) is kept to look at.
  afterAll(() => {
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  it('renders every table and chart, with no console error and no request, and screenshots it', async () => {
    const records = readRecords(out);
    // The stages these records logged: the expected training charts are task × stage.
    const stages = new Set(records.flatMap((r) => Object.keys(r.trainLog).filter((s) => r.trainLog[s].length > 0)));
    expect([...stages].sort()).toEqual(['pretrain', 'sft']);
    const selectors = {
      paper: 'table[data-table="paper"]',
      examples: 'table[data-table="examples"]',
      tradeoff: 'svg[data-chart="tradeoff"]',
      rate: 'svg[data-chart="rate"]',
      rateNote: '[data-chart-note="rate"]',
      sweep: 'svg[data-chart="sweep"]',
      chosen: 'svg[data-chart="sweep"] [data-chosen="true"]',
      training: 'svg[data-chart="training"]',
      gallery: '[data-gallery] img',
      points: 'svg[data-chart="tradeoff"] .point',
      bodyCells: 'table[data-table="paper"] tbody td',
    };
    const r = await checkPage(join(out, 'report.html'), { screenshot: join(out, 'report.png'), count: Object.values(selectors) });
    const n = (k: keyof typeof selectors) => r.counts[selectors[k]];
    expect(r.consoleErrors).toEqual([]);
    expect(r.failedRequests).toEqual([]);
    expect(r.dialogs).toEqual([]);
    expect(r.brokenImages).toBe(0);
    expect(n('paper')).toBe(2); // caption, vqa
    expect(n('bodyCells')).toBe(2 * 3 * (2 + 3)); // tasks × attacks × (none: ASR, clean; pcr: ASR, clean, DER)
    expect(n('examples')).toBe(2 * 3); // tasks × attack rows
    expect(n('tradeoff')).toBe(2);
    expect(n('points')).toBe(2 * 3 * 2); // tasks × attacks × defenses
    expect(n('rate')).toBe(2 * 2); // tasks × defenses, each with rates 5% and 10%
    expect(n('rateNote')).toBe(0);
    expect(n('sweep')).toBe(2); // knobs × tasks of the sweep file
    expect(n('chosen')).toBe(2 * 2); // one per panel (ASR, clean) per chart
    expect(n('training')).toBe(2 * stages.size);
    expect(n('gallery')).toBe(2); // badnets (both rates share the trigger), blended
    const png = PNG.sync.read(readFileSync(r.screenshot));
    expect(png.width).toBe(1280);
    expect(png.height).toBeGreaterThan(3000); // the full page, not the 900 px viewport
    console.log(`[browser test] screenshot: ${r.screenshot}`);
  }, 60_000);

  it('catches a page that opens a dialog or reaches for the network', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbb-dialog-'));
    writeFileSync(join(dir, 'report.html'), '<!doctype html><p>x</p><img src="https://example.com/x.png"><script>alert("hello")</script>');
    const r = await checkPage(join(dir, 'report.html'));
    expect(r.dialogs).toEqual(['alert: hello']);
    expect(r.failedRequests.some((f) => f.startsWith('https://example.com/x.png'))).toBe(true);
  }, 30_000);
});

// Make the reason visible in the test list when the suite is skipped.
if (!available && !required) {
  describe('report in headless Chromium', () => {
    it.skip(`skipped: ${reason}`, () => {});
  });
}
