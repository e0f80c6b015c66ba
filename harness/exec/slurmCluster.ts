/**
 * A real single-node Slurm cluster for tests (harness/exec/slurmCluster.test.ts): Debian's slurm-wlm
 * and munge, every file (config, key, sockets, state, logs) in one temporary folder, on free
 * ports, so it touches nothing of the machine's own Slurm or munge, if any. One node with
 * 2 CPUs. Client commands find it through SLURM_CONF (`env`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const DAEMONS = { munged: '/usr/sbin/munged', slurmctld: '/usr/sbin/slurmctld', slurmd: '/usr/sbin/slurmd' };
const CLIENTS = ['sbatch', 'squeue', 'scancel', 'scontrol', 'sinfo'];

/** Why no cluster can be brought up here, or undefined when it can. */
export function slurmUnavailable(): string | undefined {
  const absent = [...Object.values(DAEMONS), ...CLIENTS.map((c) => `/usr/bin/${c}`)].filter((p) => !existsSync(p));
  if (absent.length) return `${absent.join(', ')} not found (apt-get install slurm-wlm munge)`;
  // slurmd starts each job as its owner, which takes root.
  if (process.getuid?.() !== 0) return 'slurmd must run as root to start jobs';
  return undefined;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `ready` every 200 ms; after `ms`, fails naming `what` and whatever `detail` says. */
export async function until<T>(ready: () => T | undefined | false, ms: number, what: string, detail: () => string = () => ''): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = ready();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms / 1000} s${detail() ? `\n${detail()}` : ''}`);
    await sleep(200);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export interface Cluster {
  dir: string;
  /** The environment of client commands (and, through sbatch, of the jobs): PATH, HOME, SLURM_CONF. */
  env: NodeJS.ProcessEnv;
  /** Runs a client command, fails with its stderr unless it exits 0, returns its stdout. */
  run(command: string, ...args: string[]): string;
  /** Every log of the daemons, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  // A folder of its own: munged wants its socket's folder, and every folder above it,
  // searchable by all, and its key readable by its owner only.
  const dir = mkdtempSync(join(tmpdir(), 'mbb-slurm-cluster-'));
  chmodSync(dir, 0o755);
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'munge.key'), randomBytes(1024), { mode: 0o400 });
  const socket = join(dir, 'munge.socket');
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  writeFileSync(
    conf,
    [
      'ClusterName=mbbtest',
      `SlurmctldHost=${hostname().split('.')[0]}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd.log`,
      // No cgroups in containers: track a job's processes by parentage, as many clusters do.
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'MpiDefault=none',
      'MailProg=/bin/true',
      'ReturnToService=2',
      // KillWait stays at its default (30 s): a slice that stops sooner stopped on SIGTERM.
      'NodeName=mbbnode NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN',
      'PartitionName=mbb Nodes=mbbnode Default=YES MaxTime=INFINITE State=UP',
      '',
    ].join('\n'),
  );
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, SLURM_CONF: conf };
  const daemons: ChildProcess[] = [];
  const start = (name: keyof typeof DAEMONS, args: string[]) => {
    const log = openSync(join(dir, `${name}.out`), 'a');
    const child = spawn(DAEMONS[name], args, { env, stdio: ['ignore', log, log] });
    daemons.push(child);
    return child;
  };
  /** Fails at once when a daemon has exited instead of waiting for what it would have done. */
  const alive = (child: ChildProcess, name: string) => {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}\n${logs()}`);
    return true;
  };
  const logs = () =>
    ['munged.log', 'munged.out', 'slurmctld.log', 'slurmctld.out', 'slurmd.log', 'slurmd.out']
      .filter((f) => existsSync(join(dir, f)))
      .map((f) => `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-30).join('\n')}`)
      .join('\n');
  const run = (command: string, ...args: string[]) => {
    const r = spawnSync(command, args, { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${r.status}: ${r.stderr}${r.error ?? ''}`);
    return r.stdout;
  };
  let controller: ChildProcess | undefined;
  const stop = async () => {
    // Jobs first: slurmstepd and the job's processes outlive slurmd. (Without a controller
    // there are no jobs, and client commands would wait for it.)
    if (controller?.exitCode === null) {
      spawnSync('scancel', ['--user=root'], { env });
      await until(() => !/\d/.test(spawnSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8' }).stdout ?? ''), 40_000, 'jobs ended').catch(() => undefined);
    }
    for (const d of daemons.reverse()) {
      d.kill('SIGTERM');
      const ended = await Promise.race([new Promise((r) => d.once('exit', () => r(true))), sleep(10_000)]);
      if (!ended && d.exitCode === null) d.kill('SIGKILL');
    }
  };
  try {
    const munged = start('munged', ['-F', `--socket=${socket}`, `--key-file=${dir}/munge.key`, `--pid-file=${dir}/munged.pid`, `--log-file=${dir}/munged.log`, `--seed-file=${dir}/munged.seed`]);
    await until(() => alive(munged, 'munged') && existsSync(socket), 10_000, 'munged up', logs);
    controller = start('slurmctld', ['-D', '-f', conf]);
    const slurmd = start('slurmd', ['-D', '-f', conf, '-N', 'mbbnode']);
    const state = () => spawnSync('sinfo', ['-h', '-o', '%T'], { env, encoding: 'utf8' }).stdout?.trim();
    await until(() => alive(controller!, 'slurmctld') && alive(slurmd, 'slurmd') && state() === 'idle', 30_000, 'the node idle', () => `sinfo: ${state()}\n${logs()}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { dir, env, run, logs, stop };
}
