/**
 * The Slurm job of `mbb slurm`, submitted as it is to a real single-node cluster (Debian's
 * slurm-wlm and munge, brought up in a temporary folder by slurmCluster.ts): a small grid in 4
 * slices on 2 CPUs and its dependent merge. One slice is cancelled once it has finished a run:
 * it must stop on Slurm's SIGTERM (long before the SIGKILL that follows KillWait), the merge
 * after it must refuse the missing runs, and the slice resubmitted must resume without
 * recomputing what it had finished. The merged records must equal a plain run's, metric for
 * metric, and so must the tables. Without slurm-wlm and munge (or root) the test is skipped
 * with the reason, except under MBB_REQUIRE_SLURM=1 (CI), where it fails.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../core/record.js';
import { readShardManifest } from '../plan/shard.js';
import { slurmUnavailable, startCluster, until, type Cluster } from './slurmCluster.js';

const ROOT = resolve(__dirname, '../..');
const MBB = join(ROOT, 'scripts/mbb.mjs');
const required = process.env.MBB_REQUIRE_SLURM === '1';
const unavailable = slurmUnavailable();
if (unavailable && !required) console.warn(`[slurm test] skipped: ${unavailable}`);

// 4 chains (caption × seeds 1-4) of 4 runs each, one chain per slice, each run a second or
// two: a slice cancelled at its first record still has runs to do.
const GRID = [
  ...['--profile', 'smoke', '--backend', 'wasm'],
  ...['--set', 'tasks=["caption"]', '--set', 'seeds=[1,2,3,4]', '--set', 'attacks=[{"id":"badnets"}]'],
  ...['--set', 'defenses=[{"id":"none"},{"id":"pcr"},{"id":"jitter"},{"id":"ft"}]'],
];
const SHARDS = 4;
const RUNS = 16;

const records = (dir: string) => (existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')).filter((f) => f.endsWith('.json')).sort() : []);
const read = (dir: string, f: string) => readFileSync(join(dir, 'runs', f), 'utf8');
const gitStatus = () => spawnSync('git', ['--no-optional-locks', 'status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).stdout;

describe.skipIf(unavailable && !required)(`mbb slurm on a real single-node Slurm${unavailable ? ` (${unavailable})` : ''}`, () => {
  // Set in beforeAll, so that a skipped test leaves no folder behind.
  let dir = '';
  let out = '';
  let logs = '';
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    if (unavailable) throw new Error(`MBB_REQUIRE_SLURM=1 but ${unavailable}`);
    dir = mkdtempSync(join(tmpdir(), 'mbb-slurm-it-'));
    out = join(dir, 'out');
    logs = join(out, 'slurm', 'logs');
    cluster = await startCluster();
  }, 60_000);
  afterAll(async () => cluster?.stop(), 90_000);

  it('runs the array job and its merge as written; a cancelled slice stops on SIGTERM and resumes', async () => {
    const c = cluster!;
    const repoBefore = gitStatus();
    const mbb = (...args: string[]) => {
      const r = spawnSync(process.execPath, [MBB, ...args], { cwd: dir, env: c.env, encoding: 'utf8' });
      expect(r.status, `mbb ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r;
    };
    const jobLogs = () => (existsSync(logs) ? readdirSync(logs).map((f) => `--- ${f}\n${readFileSync(join(logs, f), 'utf8')}`).join('\n') : '');
    const submit = (...slices: string[]) => {
      const said = c.run('sh', join(out, 'slurm', 'submit.sh'), ...slices);
      const m = /array job (\d+) .*merge job (\d+)/.exec(said);
      expect(m, said).not.toBeNull();
      return { array: m![1], merge: m![2] };
    };
    const state = (job: string) => [...c.run('scontrol', 'show', 'job', job, '-o').matchAll(/JobState=(\w+)/g)].map((m) => m[1]);
    const allEnded = () => c.run('squeue', '-h', '-o', '%i').trim() === '';

    // 1. The template, as a user would write it, then submitted by its submit.sh.
    mbb('slurm', ...GRID, '--shards', String(SHARDS), '--cpus', '1', '--out', out, '--cache', join(dir, 'cache'));
    const first = submit();
    const shard = (i: number) => join(out, 'shards', String(i));

    // 2. Cancel the first slice to finish a run, while it has runs to do.
    const started = () => [0, 1, 2, 3].filter((i) => records(shard(i)).length > 0);
    const [victim] = await until(() => started().length > 0 && started(), 120_000, 'a first record', jobLogs);
    c.run('scancel', `${first.array}_${victim}`);
    const cancelledAt = Date.now();
    // The runner and its worker are the only processes naming the slice's folder.
    const slice = `${shard(victim)}( |$)`;
    await until(() => spawnSync('pgrep', ['-f', slice]).status === 1, 25_000, `slice ${victim}'s runner and workers gone`, jobLogs);
    const stopSeconds = (Date.now() - cancelledAt) / 1000;
    expect(stopSeconds, 'stopped by SIGTERM, not by the SIGKILL after KillWait (30 s)').toBeLessThan(10);
    const kept = records(shard(victim));
    const keptText = kept.map((f) => read(shard(victim), f));
    const planned = readShardManifest(shard(victim))!.runs.length;
    expect(kept.length, `slice ${victim} finished before the cancel took effect`).toBeLessThan(planned);
    for (const t of keptText) expect((JSON.parse(t) as RunRecord).status).toBe('ok');

    // 3. The other slices finish; the merge runs after them all and refuses the missing runs.
    await until(allEnded, 150_000, 'the array job and its merge ended', jobLogs);
    expect(state(`${first.array}_${victim}`)).toEqual(['CANCELLED']);
    expect(state(first.merge)).toEqual(['FAILED']);
    expect(readFileSync(join(logs, `${first.merge}-merge.out`), 'utf8')).toMatch(/missing: .*re-run those shards/);

    // 4. The cancelled slice resubmitted: its finished runs are skipped, the merge succeeds.
    const again = submit(String(victim));
    await until(allEnded, 120_000, 'the resubmitted slice and its merge ended', jobLogs);
    expect(state(again.merge), jobLogs()).toEqual(['COMPLETED']);
    const resumed = readFileSync(join(logs, `${again.array}_${victim}.out`), 'utf8');
    expect(resumed).toContain(`[runner] ${planned} runs, ${kept.length} already done, ${planned - kept.length} to do`);
    expect(kept.map((f) => read(shard(victim), f))).toEqual(keptText);
    expect(records(out)).toHaveLength(RUNS);

    // 5. The same grid on one machine: the same runs, the same metrics.
    const plain = join(dir, 'plain');
    mbb('run', ...GRID, '--workers', '2', '--out', plain, '--cache', join(dir, 'plain-cache'));
    expect(records(out)).toEqual(records(plain));
    for (const f of records(plain)) {
      const [a, b] = [JSON.parse(read(out, f)), JSON.parse(read(plain, f))] as RunRecord[];
      expect(a.status, f).toBe('ok');
      expect(a.metrics, f).toEqual(b.metrics);
    }
    for (const table of ['table-caption.csv', 'comparisons-caption.csv', 'results-long.csv']) {
      expect(readFileSync(join(out, table), 'utf8'), table).toBe(readFileSync(join(plain, table), 'utf8'));
    }
    console.log(`[slurm test] slice ${victim} stopped ${stopSeconds.toFixed(1)} s after scancel with ${kept.length} of ${planned} runs done; outputs in ${dir}`);
    expect(gitStatus(), 'the repository is left as it was').toBe(repoBefore);
  }, 420_000);
});
