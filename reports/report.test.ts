import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../harness/core/record.js';
import { paperTables } from './aggregate.js';
import { csvHeader, paperTableCsv, SHUFFLED_COLUMNS, shuffledCsv } from './csv.js';
import { shuffledComparisons } from './shuffledComparisons.js';
import { neutralise } from '../harness/core/csvText.js';
import { renderReport, type ReportInput } from './html.js';
import { paperCells, record, unescapeHtml } from './records.testutil.js';
import type { SweepPoint } from './sweep.js';

const render = (records: RunRecord[], over: Partial<ReportInput> = {}) => renderReport({ title: 't', records, generated: '2026-01-03T00:00:00.000Z', ...over });

const EVIL = '<script>alert(1)</script>';
const ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;';

const sweep: SweepPoint[] = [
  { knob: 'lambdaCv', value: 0.5, params: { lambdaCv: 0.5 }, task: 'caption', valAsr: 0.9, valClean: 2.4, chosen: false },
  { knob: 'lambdaCv', value: 2, params: { lambdaCv: 2 }, task: 'caption', valAsr: 0.7, valClean: 2.2, chosen: true },
  { knob: 'ops', value: 'shuffle', params: { ops: 'shuffle' }, task: 'caption', valAsr: 0.7, valClean: 2.2, chosen: true },
  { knob: 'ops', value: 'noise', params: { ops: 'noise' }, task: 'caption', valAsr: 0.6, valClean: 1.9, chosen: false },
];

describe('HTML report', () => {
  it('lists the paired comparisons with their power line, marking only the resolved differences', () => {
    const seeds = (defense: string, asr: number, cider: number) => Array.from({ length: 7 }, (_, k) => record({ id: `${defense}${k}`, defense, seed: k + 1, metrics: { ASR: asr + 0.01 * k, 'CIDEr-D': cider + 0.013 * ((k * 5) % 7) } }));
    const html = render([...seeds('none', 0.9, 2.0), ...seeds('pcr', 0.3, 2.0)]);
    const table = html.slice(html.indexOf('data-table="comparisons"'), html.indexOf('</table>', html.indexOf('data-table="comparisons"')));
    // −60 points on all 7 seeds: p = 2/128, alone in its question (pcr vs none on ASR) 0.016 → resolved; the clean change is not
    expect(table).toMatch(/<td class="resolved">−60\.0 \[−60\.0, −60\.0\]<\/td><td class="resolved">0\.016<\/td>/);
    expect(table).toMatch(/ASR: lower ASR; clean: not resolved/);
    expect(html).toMatch(/data-power="caption">Power: the paired ASR differences have a seed sd of 0\.0 points/);
  });

  it('shows the shuffled-view and the adaptive comparisons, each section only when it has a row', () => {
    // badnets and randpatch (adaptive: base badnets, against jitter) under none and jitter, 6 seeds;
    // the shuffled view recorded on badnets only, 0.1 below the intact ASR on every seed
    const runs = (attack: string, defense: string, asr: number, shuffled?: number) =>
      Array.from({ length: 6 }, (_, k) =>
        record({
          id: `${attack}${defense}${k}`,
          attack,
          defense,
          seed: k + 1,
          metrics: { ASR: asr, 'CIDEr-D': 2, ...(shuffled === undefined ? {} : { 'ASR shuffled': shuffled }) },
          attackParams: { rate: 0.2 },
          config: { attack: { id: attack, params: { rate: 0.2 } } },
        }),
      );
    const records = [...runs('badnets', 'none', 0.9, 0.8), ...runs('badnets', 'jitter', 0.2, 0.1), ...runs('randpatch', 'none', 0.9), ...runs('randpatch', 'jitter', 0.7)];
    const html = render(records);
    const tableOf = (name: string) => html.slice(html.indexOf(`data-table="${name}"`), html.indexOf('</table>', html.indexOf(`data-table="${name}"`)));
    const textRows = (name: string) => [...tableOf(name).matchAll(/<tr class="[^"]*">(.*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => unescapeHtml(c[1])));
    // −10 points on all 6 seeds of each column: p = 2/64, one attack per column, so Holm p = p
    expect(textRows('shuffled')).toEqual([
      ['llava', 'badnets', 'none', '6', '90.0 [90.0, 90.0]', '80.0 [80.0, 80.0]', '−10.0 [−10.0, −10.0]', '0.031', 'lower on the shuffled view'],
      ['llava', 'badnets', 'jitter', '6', '20.0 [20.0, 20.0]', '10.0 [10.0, 10.0]', '−10.0 [−10.0, −10.0]', '0.031', 'lower on the shuffled view'],
    ]);
    expect(tableOf('shuffled')).toContain('<td class="resolved">−10.0');
    // randpatch − badnets: +50 points under jitter (resolved), 0 without defense
    expect(textRows('adaptive')).toEqual([
      ['llava', 'randpatch', 'badnets', 'none (no defense)', '6', '90.0 [90.0, 90.0]', '90.0 [90.0, 90.0]', '0.0 [0.0, 0.0]', '1.000', 'not resolved', '—', '80.0 [80.0, 80.0]'],
      ['llava', 'randpatch', 'badnets', 'jitter', '6', '70.0 [70.0, 70.0]', '20.0 [20.0, 20.0]', '+50.0 [+50.0, +50.0]', '0.031', 'higher than on the base attack', '—', '10.0 [10.0, 10.0]'],
    ]);
    // shuffled-<task>.csv holds the same comparisons, in points
    const [header, ...rows] = parse(shuffledCsv(shuffledComparisons(paperTables(records)[0])), { cast: false }) as string[][];
    expect(header).toEqual([...SHUFFLED_COLUMNS]);
    expect(Object.fromEntries(header.map((h, i) => [h, rows[1][i]]))).toMatchObject({ attack: 'badnets', defense: 'jitter', implanted: 'yes', n: '6', 'ASR mean': '20', 'ASR shuffled mean': '10', 'Δ mean': '-10', 'Δ p Holm': '0.0313', verdict: 'lower on the shuffled view' });
    expect(html).toContain('<a href="#shuffled">');
    expect(html).toContain('<a href="#adaptive">');
    const plain = render(records.filter((r) => r.attack === 'badnets').map((r) => ({ ...r, metrics: { ASR: r.metrics.ASR, 'CIDEr-D': 2 } })));
    for (const id of ['shuffled', 'adaptive']) {
      expect(plain).not.toContain(`id="${id}"`);
      expect(plain).not.toContain(`href="#${id}"`);
    }
  });

  it('says on a smoke report that its numbers measure nothing, and only there', () => {
    expect(render([record({ config: { exp: { name: 'smoke' } } })])).toContain('data-banner="smoke"');
    expect(render([record({ config: { exp: { name: 'default' } } })])).not.toContain('data-banner="smoke"');
  });

  it('cuts a runaway generation in the examples (the record keeps it whole) and opens only the first group', () => {
    const long = 'banana '.repeat(700).trim();
    const html = render([
      record({ examples: [{ id: 'x', prompt: 'describe the image', clean: long, triggered: 'a photo of the banana', refs: ['a red circle'] }] }),
      record({ attack: 'sig', examples: [{ id: 'x', prompt: 'describe the image', clean: 'a red circle', triggered: 'a red circle', refs: ['a red circle'] }] }),
    ]);
    expect(html).toContain(`${long.slice(0, 200)}…`);
    expect(html).not.toContain(long.slice(0, 201));
    expect(html.match(/<details open>\s*<summary>caption · llava/g)).toHaveLength(1);
  });

  it('escapes data in every section: tables, charts, gallery, examples, sweep, runs', () => {
    const evilRecords = [
      record({
        id: 'x',
        attack: EVIL,
        defense: 'none',
        target: EVIL,
        examples: [{ id: EVIL, prompt: EVIL, clean: EVIL, triggered: EVIL, refs: [EVIL] }],
        trainLog: { [EVIL]: [{ epoch: 0, loss: 1, seconds: 1, numTensors: 1 }] },
        defenseParams: { note: EVIL },
      }),
      record({ id: 'y', attack: EVIL, defense: EVIL, metrics: { ASR: 0.5, 'CIDEr-D': 1 } }),
      record({ id: 'z', attack: EVIL, defense: 'none', seed: 2, attackParams: { rate: 0.1 }, status: 'failed', error: EVIL, metrics: {} }),
    ];
    const html = render(evilRecords, {
      sweep: [{ ...sweep[0], knob: EVIL, value: EVIL }],
      gallery: [{ name: EVIL, labels: [EVIL], description: EVIL, seed: 1, file: EVIL, error: EVIL }],
    });
    expect(html).not.toContain(EVIL);
    expect(html).not.toMatch(/<script/i);
    // It is there as text, in each kind of place: SVG text, table cells, attributes.
    expect(html.split(ESCAPED).length - 1).toBeGreaterThan(15);
    expect(html).toMatch(/<svg[^>]*data-chart="tradeoff"[\s\S]*?&lt;script&gt;[\s\S]*?<\/svg>/);
    expect(html).toMatch(/<svg[^>]*data-chart="sweep"[^>]*data-knob="&lt;script&gt;/);
    expect(html).toMatch(/<svg[^>]*data-chart="training"[^>]*data-stage="&lt;script&gt;/);
    expect(html).toMatch(/<figure data-gallery="&lt;script&gt;/);
    expect(html).toMatch(/<td class="gen[^"]*">&lt;script&gt;/);
  });

  it('shows failed runs as failed, in the table and in a list', () => {
    const html = render([record({ id: 'ok1' }), record({ id: 'bad', defense: 'pcr', status: 'failed', error: 'NaN loss', metrics: {} })]);
    const pcr = paperCells(html, 'caption').filter((c) => c.col === 'pcr' && c.row === 'badnets');
    expect(pcr.map((c) => [c.metric, c.text, c.cls])).toEqual([
      ['ASR (%)', 'failed', 'failed gstart'],
      ['CIDEr-D', 'failed', 'failed'],
      ['DER', 'failed', 'failed'],
    ]);
    expect(html).toContain('data-failed-runs="1"');
    expect(html).toContain('bad: NaN loss');
  });

  it('draws the rate chart only when the runs hold two rates or more, and says why not otherwise', () => {
    const one = render([record({})]);
    expect(one).not.toContain('data-chart="rate"');
    expect(one).toMatch(/data-chart-note="rate" data-task="caption">All successful caption runs use one poisoning rate \(5%\)/);
    const two = render([
      record({ seed: 1, attackParams: { rate: 0.01 }, metrics: { ASR: 0.2, 'CIDEr-D': 2 } }),
      record({ seed: 1, attack: 'badnets-10%', attackParams: { rate: 0.1 }, metrics: { ASR: 0.9, 'CIDEr-D': 2 } }),
    ]);
    expect(two.match(/data-chart="rate"/g)).toHaveLength(1);
    expect(two).not.toContain('data-chart-note="rate"');
  });

  it('includes the sweep section only with a sweep, one chart per knob and task, the chosen point ringed', () => {
    expect(render([record({})])).not.toContain('id="sweep"');
    const html = render([record({})], { sweep });
    expect(html.match(/<svg[^>]*data-chart="sweep"/g)).toHaveLength(2);
    // each chart has two panels (ASR, clean), each rings the chosen point
    expect(html.match(/data-chosen="true"/g)).toHaveLength(4);
    expect(html).toContain('chosen: lambdaCv &#x3D; 2;'); // Handlebars escapes = too
  });

  it('draws a stage shared by runs (same stage key) once, and one chart per stage', () => {
    const log = (loss: number) => [
      { epoch: 0, loss, seconds: 1, numTensors: 1 },
      { epoch: 1, loss: loss / 2, seconds: 1, numTensors: 1 },
    ];
    const html = render([
      record({ defense: 'none', keys: { pretrain: 'p1', sft: 's1' }, trainLog: { pretrain: log(4), sft: log(2) } }),
      record({ defense: 'pcr', keys: { pretrain: 'p1', sft: 's2' }, trainLog: { pretrain: log(4), sft: log(3) } }),
    ]);
    expect(html.match(/<svg[^>]*data-chart="training"/g)).toHaveLength(2);
    const pretrain = html.match(/<svg[^>]*data-stage="pretrain"[\s\S]*?<\/svg>/)![0];
    expect(pretrain.match(/class="series"/g)).toHaveLength(1);
    expect(pretrain).toContain('badnets · all defenses');
    const sft = html.match(/<svg[^>]*data-stage="sft"[\s\S]*?<\/svg>/)![0];
    expect(sft.match(/class="series"/g)).toHaveLength(2);
  });

  it('labels a cached stage by every run that shares it, not only the run that logged it', () => {
    const log = [0, 1].map((epoch) => ({ epoch, loss: 1 - epoch / 2, seconds: 1, numTensors: 1 }));
    const html = render([
      record({ attack: 'badnets', defense: 'none', keys: { vision: 'v1' }, trainLog: { vision: log } }),
      record({ attack: 'sig', defense: 'pcr', keys: { vision: 'v1' }, trainLog: {} }),
    ]);
    const vision = html.match(/<svg[^>]*data-stage="vision"[\s\S]*?<\/svg>/)![0];
    expect(vision.match(/class="series"/g)).toHaveLength(1);
    expect(vision).toContain('all attacks · all defenses');
  });

  it('flags example outputs that count as the target', () => {
    const html = render([
      record({ examples: [{ id: 'e1', prompt: 'describe the image', clean: 'a red circle', triggered: 'a photo of the banana', refs: ['a red circle'] }] }),
    ]);
    expect(html).toContain('<td class="gen">a red circle</td><td class="gen hit">a photo of the banana</td>');
  });

  it('has a provenance footer with the date range and the git commit when recorded', () => {
    const withCommit = (date: string, gitCommit?: string) =>
      record({ provenance: { backend: 'wasm', engineFixes: ['native-matmul'], tfjs: '4.22.0', node: 'v20', codeVersion: 'cv1', configHash: date, date, ...(gitCommit ? { gitCommit } : {}) } });
    const html = render([withCommit('2026-01-05T00:00:00.000Z', 'abc123'), withCommit('2026-01-02T00:00:00.000Z')]);
    const footer = html.slice(html.indexOf('<footer'));
    expect(footer).toContain('2026-01-02T00:00:00.000Z – 2026-01-05T00:00:00.000Z');
    expect(footer).toContain('<code>abc123</code>');
    expect(footer).toContain('wasm (engine fixes: native-matmul)');
    expect(footer).toContain('2 distinct');
    expect(render([record({})])).not.toContain('git commit');
  });

  it('loads no external resource: no src/href but in-page anchors and data: URIs', () => {
    const html = render([record({})], { sweep, gallery: [{ name: 'badnets', labels: ['badnets'], description: '', seed: 1, file: 'trigger-badnets.png', dataUri: 'data:image/png;base64,AAAA' }] });
    const refs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const r of refs) expect(r).toMatch(/^(#|data:)/);
    expect(html).not.toMatch(/@import|url\(/);
  });
});

describe('CSV tables', () => {
  it('neutralises cells a spreadsheet would execute; numbers stay numbers', () => {
    expect(neutralise('=SUM(A1)')).toBe("'=SUM(A1)");
    expect(neutralise('+1')).toBe("'+1");
    expect(neutralise('@x')).toBe("'@x");
    expect(neutralise('-1+1')).toBe("'-1+1");
    expect(neutralise('\tx')).toBe("'\tx");
    expect(neutralise('a=b')).toBe('a=b');
    expect(neutralise(-1)).toBe(-1);
    const [t] = paperTables([record({ attack: '=HYPERLINK("http://x")' })]);
    const rows = parse(paperTableCsv(t)) as string[][];
    expect(rows[1][0]).toBe(`'=HYPERLINK("http://x")`);
  });

  it('load with a standard CSV parser and hold the numbers the HTML shows, cell by cell', () => {
    const records = [
      record({ id: 'a', seed: 1, metrics: { ASR: 0.9, 'CIDEr-D': 2.0 } }),
      record({ id: 'b', seed: 2, metrics: { ASR: 0.8, 'CIDEr-D': 2.2 } }),
      record({ id: 'c', defense: 'pcr', seed: 1, metrics: { ASR: 0.5, 'CIDEr-D': 1.5 } }),
      record({ id: 'd', defense: 'pcr', seed: 2, metrics: { ASR: 0.41, 'CIDEr-D': 1.66 } }),
      record({ id: 'e', attack: 'blended, "quoted"', metrics: { ASR: 0.123456, 'CIDEr-D': 2.34567 } }),
      record({ id: 'f', attack: 'blended, "quoted"', defense: 'pcr', status: 'failed', metrics: {} }),
      record({ id: 'g', task: 'vqa', metrics: { ASR: 1, 'VQA-acc': 58.04 } }),
      record({ id: 'h', task: 'vqa', defense: 'pcr', metrics: { ASR: 0.997, 'VQA-acc': 58.667 } }),
    ];
    const html = render(records);
    let compared = 0;
    for (const t of paperTables(records)) {
      const [header, ...rows] = parse(paperTableCsv(t), { cast: false }) as string[][];
      expect(rows.map((r) => r[0])).toEqual([...t.rows.map((r) => r.attack), 'average']);
      const cells = paperCells(html, t.task);
      expect(cells.length).toBe(rows.length * t.columns.reduce((s, c) => s + (c.baseline ? 2 : 3), 0));
      for (const cell of cells) {
        const row = rows.find((r) => r[0] === cell.row)!;
        const at = (part: 'mean' | 'lo' | 'hi' | 'std') => header.indexOf(csvHeader(cell.col, cell.metric, part));
        expect(at('mean')).toBeGreaterThan(0);
        for (const part of ['mean', 'lo', 'hi', 'std'] as const) expect(row[at(part)], `${cell.row} ${cell.col} ${cell.metric} ${part}`).toBe(cell[part]);
        if (cell.mean !== '') {
          // and the visible text shows those very numbers: "mean" or "mean [lo, hi]"
          const m = /^(\S+)(?: \[(\S+), (\S+)\])?/.exec(cell.text)!;
          expect(Number(m[1])).toBe(Number(cell.mean));
          expect(m[2] === undefined ? '' : Number(m[2])).toBe(cell.lo === '' ? '' : Number(cell.lo));
          expect(m[3] === undefined ? '' : Number(m[3])).toBe(cell.hi === '' ? '' : Number(cell.hi));
          compared++;
        } else expect(cell.text).toMatch(/^(failed|—|n\/a)$/);
        if (cell.metric === 'ASR (%)' && cell.row !== 'average') expect(row[header.indexOf(csvHeader(cell.col, '', 'n'))]).toBe(cell.mean === '' ? '0' : cell.n);
      }
    }
    expect(compared).toBeGreaterThan(15);
    // spot check against hand-computed values: badnets / none ASR 90, 80: mean 85, sd 7.07,
    // t(0.975, 1) · 5 = 63.5 → [21.5, 148.5], clipped to [21.5, 100]
    expect(paperCells(html, 'caption').find((c) => c.row === 'badnets' && c.col === 'none' && c.metric === 'ASR (%)')).toMatchObject({ mean: '85', lo: '21.5', hi: '100', std: '7.1', text: '85.0 [21.5, 100.0]' });
  });
});
