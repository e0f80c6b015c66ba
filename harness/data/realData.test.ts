/**
 * End to end on real-format datasets: a tiny grid (smoke-sized model, BadNets, no defense,
 * 1 + 1 epochs) whose caption runs read a COCO Karpathy fixture and whose VQA runs read a VQA v2
 * fixture, through the runner's worker processes, then the report.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { experimentSchema, parseWith } from '../config/schema.js';
import type { RunRecord } from '../core/record.js';
import { runGrid } from '../exec/runner.js';
import { writeReport } from '../../reports/write.js';
import { writeCocoKarpathyFixture, writeVqaV2Fixture } from './fixtures.js';

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `real-data-${label}-`));

/** The data rows of a CSV as header → cell maps. */
const csvRows = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true }) as Record<string, string>[];
const isNumber = (cell: string | undefined) => cell !== undefined && cell.trim() !== '' && Number.isFinite(Number(cell));

describe('real datasets end to end', () => {
  it('runs a caption grid on COCO and a VQA grid on VQA v2, and reports them', async () => {
    const coco = writeCocoKarpathyFixture(tmp('coco'), { nTrain: 80, nVal: 10, nTest: 20 });
    const vqa = writeVqaV2Fixture(tmp('vqa'), { nTrain: 60, nVal: 10, nTest: 10 });
    const exp = parseWith(
      experimentSchema,
      {
        name: 'real-data-e2e',
        tasks: ['caption', 'vqa'],
        attacks: [{ id: 'badnets' }],
        defenses: [{ id: 'none' }],
        data: coco.data,
        perTask: { vqa: { data: vqa.data } },
        model: { patch: 8, merge: 1, width: 32, heads: 2, encoderLayers: 1, decoderLayers: 1 },
        pretrain: { epochs: 1 },
        sft: { epochs: 1 },
        eval: { batchSize: 40 },
      },
      'e2e',
    );
    const out = tmp('out');
    const lines: string[] = [];
    const res = await runGrid(exp, { outDir: out, cacheDir: tmp('cache'), workers: 2, backend: 'wasm', log: (l) => lines.push(l) });
    const records = ['caption__llava__badnets__none__s1', 'vqa__llava__badnets__none__s1'].map(
      (id) => JSON.parse(readFileSync(join(out, 'runs', `${id}.json`), 'utf8')) as RunRecord,
    );
    expect(records.map((r) => `${r.id}: ${r.status} ${r.error ?? ''}`)).toEqual(records.map((r) => `${r.id}: ok `));
    expect(res).toEqual({ done: 2, failed: 0, skipped: 0 });

    const [cap, vq] = records;
    // The runs trained on the fixtures' files: 80 COCO training images; VQA's 2 questions per image.
    const dataOf = (r: RunRecord) => (r.config as { exp: { data: unknown } }).exp.data;
    expect(dataOf(cap)).toMatchObject({ kind: 'coco', root: coco.root });
    expect(cap.trainSize).toBe(80);
    expect(dataOf(vq)).toMatchObject({ kind: 'vqav2', root: vqa.root });
    expect(vq.trainSize).toBe(120);
    expect(cap.poisonCount).toBe(Math.round(0.05 * 80));
    for (const [r, clean] of [
      [cap, 'CIDEr-D'],
      [vq, 'VQA-acc'],
    ] as const) {
      expect(r.metrics.ASR).toBeGreaterThanOrEqual(0);
      expect(r.metrics.ASR).toBeLessThanOrEqual(100);
      expect(Number.isFinite(r.metrics[clean])).toBe(true);
    }
    // COCO's references are the fixture's captions as written (capitalised, with a full stop).
    expect(cap.oracle!['CIDEr-D']).toBeGreaterThan(0.5);

    const written = writeReport(out, 'real data').map((p) => basename(p));
    expect(written).toEqual(expect.arrayContaining(['table-caption.csv', 'table-vqa.csv', 'results-long.csv', 'report.html']));
    for (const [task, clean] of [
      ['caption', 'CIDEr-D'],
      ['vqa', 'VQA-acc'],
    ]) {
      const rows = csvRows(join(out, `table-${task}.csv`));
      const badnets = rows.find((r) => r.attack === 'badnets')!;
      expect(badnets).toBeDefined();
      const asrCol = Object.keys(badnets).find((h) => /ASR \(%\) mean$/.test(h))!;
      const cleanCol = Object.keys(badnets).find((h) => h.endsWith(`${clean} mean`))!;
      expect([asrCol, cleanCol].every(Boolean)).toBe(true);
      expect(isNumber(badnets[asrCol])).toBe(true);
      expect(isNumber(badnets[cleanCol])).toBe(true);
    }
    const long = csvRows(join(out, 'results-long.csv'));
    for (const task of ['caption', 'vqa']) {
      const asr = long.find((r) => r.task === task && r.metric === 'ASR');
      expect(isNumber(asr?.value)).toBe(true);
    }
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('real data');
  }, 180_000);
});
