/**
 * The files of `mbb slurm`, executed by the shells that run them (bash for the job scripts, sh
 * for submit.sh) with stand-ins for node and sbatch that record what they were given. The real
 * cluster is harness/exec/slurmCluster.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { PROFILES } from '../config/profiles.js';
import { planSlurm, slurmFiles, writeSlurmFiles, type SlurmPlan } from './slurm.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mbb-slurm-'));

/** An executable that appends its arguments (one JSON array per call) to `log` and prints `say`. */
function recorder(dir: string, name: string, log: string, say = ''): string {
  const path = join(dir, name);
  writeFileSync(path, `#!${process.execPath}\nrequire('fs').appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');\nprocess.stdout.write(${JSON.stringify(say)});\n`, { mode: 0o755 });
  return path;
}
const calls = (log: string) => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);

function plan(dir: string, over: Partial<SlurmPlan> = {}): SlurmPlan {
  return {
    name: 'smoke',
    shards: 4,
    cpus: 2,
    outDir: join(dir, 'out'),
    workDir: dir,
    runArgs: ['--profile', 'smoke', '--set', `name=it's a "test"`, '--set', 'seeds=[1,2]', '--cache', join(dir, 'cache')],
    node: recorder(dir, 'node', join(dir, 'node.log')),
    cli: '/repo/scripts/mbb.mjs',
    ...over,
  };
}

describe('mbb slurm: the array job', () => {
  it('execs the runner itself with the slice of its array task, its arguments intact', () => {
    const dir = tmp();
    const p = plan(dir);
    const [array] = writeSlurmFiles(p);
    const r = spawnSync('bash', [array], { env: { ...process.env, SLURM_ARRAY_TASK_ID: '3' }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(calls(join(dir, 'node.log'))).toEqual([
      ['/repo/scripts/mbb.mjs', 'run', ...p.runArgs, '--workers', '2', '--shard', '3/4', '--out', join(dir, 'out', 'shards', '3')],
    ]);
    // exec, so that the job's process is the runner: no npx or npm between Slurm and it.
    expect(readFileSync(array, 'utf8')).toMatch(/^exec \S+\/node \/repo\/scripts\/mbb\.mjs run /m);
    const commands = readFileSync(array, 'utf8').split('\n').filter((l) => !l.startsWith('#'));
    expect(commands.join('\n')).not.toMatch(/npx|npm /);
  });

  it('asks Slurm for one task per slice, the CPUs of its workers, and logs under the output folder', () => {
    const dir = tmp();
    const { 'array.sbatch': array, 'merge.sbatch': merge } = slurmFiles(plan(dir, { time: '24:00:00' }));
    const directives = (text: string) => text.split('\n').filter((l) => l.startsWith('#SBATCH '));
    expect(directives(array)).toEqual([
      '#SBATCH --job-name=mbb-smoke',
      '#SBATCH --array=0-3',
      '#SBATCH --cpus-per-task=2',
      '#SBATCH --time=24:00:00',
      `#SBATCH --chdir=${dir}`,
      `#SBATCH --output=${dir}/out/slurm/logs/%A_%a.out`,
    ]);
    expect(directives(merge)).toContain(`#SBATCH --output=${dir}/out/slurm/logs/%j-merge.out`);
  });

  it('merges from the slices’ parent folder, with no shell pattern for /bin/sh to miss', () => {
    const dir = tmp();
    const p = plan(dir);
    const [, merge] = writeSlurmFiles(p);
    spawnSync('bash', [merge]);
    expect(calls(join(dir, 'node.log'))).toEqual([['/repo/scripts/mbb.mjs', 'merge', '--out', join(dir, 'out'), join(dir, 'out', 'shards')]]);
  });

  it('submit.sh submits the array (or the listed slices) and then the merge after every slice has ended', () => {
    const dir = tmp();
    const p = plan(dir);
    const [array, merge, submit] = writeSlurmFiles(p);
    const log = join(dir, 'sbatch.log');
    recorder(dir, 'sbatch', log, '41;cluster\n');
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
    const all = spawnSync('sh', [submit], { env, encoding: 'utf8' });
    expect(all.status, all.stderr).toBe(0);
    expect(all.stdout).toContain('array job 41 (slices 0-3 of 4), then merge job 41');
    const again = spawnSync('sh', [submit, '1,3'], { env, encoding: 'utf8' });
    expect(again.status, again.stderr).toBe(0);
    expect(calls(log)).toEqual([
      ['--parsable', array],
      ['--parsable', '--dependency=afterany:41', merge],
      ['--parsable', '--array=1,3', array],
      ['--parsable', '--dependency=afterany:41', merge],
    ]);
  });
});

describe('mbb slurm: checks before anything is written', () => {
  const smoke = (over: Record<string, unknown> = {}) => parseWith(experimentSchema, layer(PROFILES.smoke, over), 'smoke');
  const options = (out: string, shards: number) => ({ profile: 'smoke', shards, cpus: 1, out, cache: '.cache' });

  it('refuses more slices than the grid has chains, naming the number that works', () => {
    const out = join(tmp(), 'out');
    expect(() => planSlurm(smoke(), options(out, 3))).toThrow(
      '--shards 3: the grid has 2 chain(s) (runs sharing a pre-trained model) and a chain is never split, so 1 slice(s) would get no work; use --shards 2 or fewer',
    );
    expect(planSlurm(smoke({ seeds: [1, 2] }), options(out, 4)).shards).toBe(4);
  });

  it('refuses an output folder that #SBATCH lines cannot hold, and writes nothing', () => {
    const out = join(tmp(), 'my results');
    expect(() => writeSlurmFiles(planSlurm(smoke(), options(out, 2)))).toThrow(`--out ${out}: Slurm's #SBATCH lines cannot hold a path with spaces`);
    expect(existsSync(out)).toBe(false);
  });
});
