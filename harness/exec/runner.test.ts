import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { auroc } from '../metrics/index.js';
import { PROFILES } from '../config/profiles.js';
import type { RunRecord } from '../core/record.js';
import { experimentHash } from '../plan/grid.js';
import { runGrid } from './runner.js';
import { ASR_HEADER } from '../../reports/csv.js';
import { readRecords, writeReport } from '../../reports/write.js';

const MBB = resolve(__dirname, '../../scripts/mbb.mjs');
const mbb = (...args: string[]) => spawnSync(process.execPath, [MBB, ...args], { encoding: 'utf8' });

describe('runner (smoke profile, end to end)', () => {
  it('runs the grid on 2 workers, records every run, resumes without recomputing', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mbb-out-'));
    const cache = mkdtempSync(join(tmpdir(), 'mbb-cache-'));
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }, { id: 'pcr', params: { viewFraction: 1 } }] }), 'smoke');
    const lines: string[] = [];
    const first = await runGrid(exp, { outDir: out, cacheDir: cache, workers: 2, backend: 'wasm', log: (l) => lines.push(l) });
    expect(first).toEqual({ done: 4, failed: 0, skipped: 0 });
    expect(lines.some((l) => /pretrain epoch/.test(l))).toBe(true);
    const rec = JSON.parse(readFileSync(join(out, 'runs', 'caption__llava__badnets__pcr__s1.json'), 'utf8')) as RunRecord;
    expect(rec.status).toBe('ok');
    expect(rec.metrics.ASR).toBeGreaterThanOrEqual(0);
    expect(rec.metrics['CIDEr-D']).toBeGreaterThanOrEqual(0);
    expect(rec.metrics['ASR shuffled n']).toBe(rec.metrics['ASR n']); // the same triggered inputs, patches shuffled
    expect(rec.oracle!['CIDEr-D']).toBeGreaterThan(1);
    expect(rec.poisonCount).toBe(Math.round(0.05 * rec.trainSize));
    expect(rec.provenance.backend).toBe('wasm');
    // PCR's invariance score (every example given a view here) is evaluated against the poison
    // ground truth, every SFT epoch.
    expect(rec.suspicion['pcr.invariance'].map((s) => s.epoch)).toEqual([0]);
    expect(rec.suspicion['pcr.invariance'][0].positives).toBe(rec.poisonCount);
    expect(rec.suspicion['pcr.invariance'][0].n).toBe(rec.trainSize);
    expect(rec.suspicion['pcr.invariance'][0].auroc).toBeGreaterThanOrEqual(0);
    // ... and exported as a ranking of every training example, whose AUROC is the record's.
    const ranked = parse(readFileSync(join(out, 'suspects', 'caption__llava__badnets__pcr__s1.pcr.invariance.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(ranked).toHaveLength(rec.trainSize);
    expect(ranked.filter((r) => r.poisoned === '1')).toHaveLength(rec.poisonCount);
    expect(auroc(ranked.map((r) => Number(r['epoch 0'])), ranked.map((r) => r.poisoned === '1'))).toBeCloseTo(rec.suspicion['pcr.invariance'][0].auroc, 12);
    expect(existsSync(join(out, 'suspects', 'caption__llava__badnets__none__s1.pcr.invariance.csv'))).toBe(false);
    const vqa = JSON.parse(readFileSync(join(out, 'runs', 'vqa__llava__badnets__none__s1.json'), 'utf8')) as RunRecord;
    expect(vqa.metrics['VQA-acc']).toBeGreaterThanOrEqual(0);
    // The pre-trained model is shared: none and pcr point at one pretrain key.
    const none = JSON.parse(readFileSync(join(out, 'runs', 'caption__llava__badnets__none__s1.json'), 'utf8')) as RunRecord;
    expect(none.keys.pretrain).toBe(rec.keys.pretrain);
    expect(none.keys.sft).not.toBe(rec.keys.sft);
    expect(rec.cached.pretrain || none.cached.pretrain).toBe(true); // trained once, reused once
    const written = writeReport(out, 'smoke');
    // The report's own file list is reports/' business; the runner's records must feed its core.
    expect(written.map((p) => p.split('/').pop())).toEqual(expect.arrayContaining(['table-caption.csv', 'table-vqa.csv', 'results-long.csv', 'report.html']));
    const again = await runGrid(exp, { outDir: out, cacheDir: cache, workers: 2, backend: 'wasm', log: () => {} });
    expect(again).toEqual({ done: 0, failed: 0, skipped: 4 });
    // A changed SFT config re-runs SFT and evaluation but reuses the cached pre-training.
    const exp2 = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['vqa'], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }], sft: { epochs: 2 } }), 'smoke2');
    const third: string[] = [];
    await runGrid(exp2, { outDir: out, cacheDir: cache, workers: 1, backend: 'wasm', log: (l) => third.push(l) });
    expect(third.some((l) => /pretrain epoch/.test(l))).toBe(false);
    expect(third.some((l) => /: sft epoch/.test(l))).toBe(true);
    const redone = JSON.parse(readFileSync(join(out, 'runs', 'vqa__llava__badnets__none__s1.json'), 'utf8')) as RunRecord;
    expect(redone.trainLog.sft).toHaveLength(2);
    expect(redone.cached).toEqual({ pretrain: true, sft: false });
  });

  it('is deterministic: the same config and seed give the same numbers; a hostile label stays a label', async () => {
    // A label with a path, markup and a leading "=": its run id is made safe, the tables show it as written.
    const label = '=pcr w/o <aug>/..';
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['vqa'], attacks: [{ id: 'badnets' }], defenses: [{ id: 'pcr', label }] }), 'smoke');
    const results: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const out = mkdtempSync(join(tmpdir(), 'mbb-det-'));
      await runGrid(exp, { outDir: out, cacheDir: mkdtempSync(join(tmpdir(), 'mbb-detc-')), workers: 1, backend: 'wasm', log: () => {} });
      expect(readdirSync(join(out, 'runs'))).toEqual(['vqa__llava__badnets__pcr_w_o_aug__s1.json']);
      const rec = JSON.parse(readFileSync(join(out, 'runs', 'vqa__llava__badnets__pcr_w_o_aug__s1.json'), 'utf8')) as RunRecord;
      expect(rec.defense).toBe(label);
      results.push([...rec.trainLog.sft.map((l) => l.loss), rec.metrics['VQA-acc'], rec.metrics.ASR]);
      if (i > 0) continue;
      // The finished run is in the report: its column in the CSV (neutralised) and the HTML (escaped).
      writeReport(out, 'smoke');
      expect(readFileSync(join(out, 'table-vqa.csv'), 'utf8')).toContain(`'${label} ${ASR_HEADER} mean`);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('&#x3D;pcr w/o &lt;aug&gt;/..');
      expect(html).not.toContain('<aug>');
    }
    expect(results[0]).toEqual(results[1]);
  });
});

describe('mbb run --only', () => {
  it('runs only the grid runs whose id a pattern matches, as cells of that grid', async () => {
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['vqa'], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }, { id: 'pcr' }] }), 'smoke');
    const out = mkdtempSync(join(tmpdir(), 'mbb-only-'));
    const res = await runGrid(exp, { outDir: out, cacheDir: mkdtempSync(join(tmpdir(), 'mbb-onlyc-')), workers: 1, backend: 'wasm', log: () => {}, onlyIds: ['*__pcr__s1'] });
    expect(res).toEqual({ done: 1, failed: 0, skipped: 0 });
    expect(readdirSync(join(out, 'runs'))).toEqual(['vqa__llava__badnets__pcr__s1.json']);
    const rec = JSON.parse(readFileSync(join(out, 'runs', 'vqa__llava__badnets__pcr__s1.json'), 'utf8')) as RunRecord;
    expect(rec.provenance.experimentHash).toBe(experimentHash(exp)); // the grid's own record
  });
});

describe('smoke profile', () => {
  it('runs every registered attack × defense on both tasks end to end', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mbb-smoke-'));
    const exp = parseWith(experimentSchema, PROFILES.smoke, 'smoke');
    const res = await runGrid(exp, { outDir: out, cacheDir: mkdtempSync(join(tmpdir(), 'mbb-smokec-')), workers: 2, backend: 'wasm', log: () => {} });
    const failed = readRecords(out).filter((r) => r.status !== 'ok').map((r) => `${r.id}: ${r.error}`);
    expect(failed).toEqual([]);
    expect(res.done).toBe(2 * exp.attacks.length * exp.defenses.length);
    const dual = readRecords(out).find((r) => r.id === 'caption__llava__dualkey__none__s1')!;
    expect(Object.keys(dual.metrics)).toEqual(expect.arrayContaining(['ASR', 'ASR imageOnly', 'ASR textOnly']));
    expect(readRecords(out).find((r) => r.id === 'vqa__llava__badnets__abl__s1')!.suspicion['abl.loss']).toHaveLength(1);
  }, 600_000);
});

describe('mbb command line', () => {
  /** A runner with one worker that would pre-train for minutes, once that worker is training. */
  async function longRunner() {
    const d = mkdtempSync(join(tmpdir(), 'mbb-kill-'));
    const cfg = join(d, 'long.json');
    writeFileSync(cfg, JSON.stringify({ ...PROFILES.smoke, attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }], tasks: ['caption'], pretrain: { epochs: 500 } }));
    const out = join(d, 'out');
    const runner = spawn(process.execPath, [MBB, 'run', '--profile', 'smoke', '--config', cfg, '--out', out, '--cache', join(d, 'cache'), '--workers', '1', '--backend', 'wasm']);
    let err = '';
    await new Promise<void>((res, rej) => {
      runner.stderr.on('data', (b) => {
        err += b;
        if (/pretrain epoch/.test(err)) res();
      });
      runner.on('exit', () => rej(new Error(`runner exited early: ${err}`)));
    });
    const workers = spawnSync('pgrep', ['-P', String(runner.pid), '-f', 'mbb.mjs worker'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    expect(workers).toHaveLength(1);
    const exited = new Promise<void>((r) => runner.on('exit', () => r()));
    return { runner, workers, out, exited };
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const gone = async (pids: number[]) => {
    for (let i = 0; i < 50 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    return pids.filter(alive);
  };

  it('a runner killed alone takes its workers with it', async () => {
    const { runner, workers } = await longRunner();
    runner.kill('SIGTERM');
    expect(await gone(workers)).toEqual([]);
  }, 60_000);

  it('a signal to every process (as Slurm cancels a job) stops it without recording a failed run', async () => {
    const { runner, workers, out, exited } = await longRunner();
    // The worker first, as Slurm may order it: it must leave the stopping to its runner.
    process.kill(workers[0], 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(workers[0])).toBe(true);
    runner.kill('SIGTERM');
    await exited;
    expect(await gone(workers)).toEqual([]);
    expect(existsSync(join(out, 'runs')) ? readdirSync(join(out, 'runs')) : []).toEqual([]);
  }, 60_000);

  it('lists its commands', () => {
    const r = mbb('--help');
    expect(r.status).toBe(0);
    for (const c of ['run', 'report', 'score']) expect(r.stdout).toContain(`  ${c} `);
  });
  it('refuses a bad config value with one line naming it', () => {
    const r = mbb('run', '--set', 'sft.epochs=-1', '--out', mkdtempSync(join(tmpdir(), 'mbb-bad-')));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/sft\.epochs/);
    const a = mbb('run', '--set', 'attacks=[{"id":"badnets","params":{"rate":-0.1}}]', '--profile', 'smoke', '--out', mkdtempSync(join(tmpdir(), 'mbb-bad-')));
    expect(a.status).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/attacks\[0\] \(badnets\) params: rate: .*got -0\.1/);
  });
  it('refuses an unreadable input file with one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbb-score-'));
    const bad = join(dir, 'refs.json');
    writeFileSync(bad, '{not json');
    const r = mbb('score', 'captions', '--refs', bad, '--preds', bad);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(bad);
    const u = mbb('run', '--profile', 'nope');
    expect(u.stderr).toMatch(/option '--profile <name>' argument 'nope' is invalid. Allowed choices are smoke, default, paper/);
  });
});

describe('a failed run', () => {
  it('is recorded with its error and the grid goes on; records carry git commit, seeds and experiment hash', async () => {
    const out = mkdtempSync(join(tmpdir(), 'mbb-fail-'));
    // sig in clean-label mode needs its target in clean outputs; "zebra" never is: poisoning throws
    // inside the worker, after validation. The next run of the same chain (same worker) must still run.
    const exp = parseWith(
      experimentSchema,
      layer(PROFILES.smoke, { tasks: ['caption'], attacks: [{ id: 'sig', params: { cleanLabel: true, target: 'zebra' } }, { id: 'badnets' }], defenses: [{ id: 'none' }] }),
      'fail',
    );
    const res = await runGrid(exp, { outDir: out, cacheDir: mkdtempSync(join(tmpdir(), 'mbb-failc-')), workers: 1, backend: 'wasm', log: () => {} });
    expect(res).toEqual({ done: 1, failed: 1, skipped: 0 });
    const failed = JSON.parse(readFileSync(join(out, 'runs', 'caption__llava__sig__none__s1.json'), 'utf8')) as RunRecord;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/clean-label needs a target/);
    const ok = JSON.parse(readFileSync(join(out, 'runs', 'caption__llava__badnets__none__s1.json'), 'utf8')) as RunRecord;
    expect(ok.status).toBe('ok');
    for (const r of [failed, ok]) {
      expect(r.provenance.gitCommit).toMatch(/^[0-9a-f]{40}(-dirty)?$/);
      expect(r.provenance.seeds).toEqual({ run: 1, experiment: [1] });
      expect(r.provenance.experimentHash).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(ok.provenance.experimentHash).toBe(failed.provenance.experimentHash);
    // The failed run is retried on the next invocation; the finished one is not.
    const again = await runGrid(exp, { outDir: out, cacheDir: mkdtempSync(join(tmpdir(), 'mbb-failc-')), workers: 1, backend: 'wasm', log: () => {} });
    expect(again).toEqual({ done: 0, failed: 1, skipped: 1 });
  });
});
