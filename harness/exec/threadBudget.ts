/**
 * Cores lent to busy workers. A worker that waits (for a vision tower another worker computes,
 * or at the end of a grid when nothing is left for it) leaves its core idle; the runner lends
 * it to the busy ones. It writes one int32 per worker, the threads that worker's native kernels
 * may use, into a file each worker maps (harness/native/pool.h) and reads before every
 * parallel kernel, so a change reaches a stage already running. Kernels split their outputs
 * (rows, columns, batch items, heads), never the terms of one sum, so a run's numbers do not
 * depend on its share. Two runners side by side would lend the same idle core twice, and
 * kernel threads that outnumber the cores wait on each other's time slices (measured: SFT about
 * 70 times slower, README "Backends"), so each runner counts the machine's cores divided among
 * the runners alive on it (their budget folders in the temp dir, each naming its pid), or
 * `MBB_CORES` where it is set (see `coresToLend`); the count is taken again at every change.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FOLDER_PREFIX = 'mbb-threads-';

/**
 * The cores a runner shares among its workers: `MBB_CORES` when it is a whole number ≥ 1, else
 * the machine's divided among the `runners` on it (at least 1).
 */
export function coresToLend(env: NodeJS.ProcessEnv, machine: number, runners = 1): number {
  const n = Number(env.MBB_CORES);
  return Number.isInteger(n) && n >= 1 ? n : Math.max(1, Math.floor(machine / Math.max(1, runners)));
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
};

/** The runners alive on this machine: budget folders under `root` whose `pid` file names a live process (a runner killed with -9 leaves a stale one). */
export function liveRunners(root = tmpdir(), alive: (pid: number) => boolean = isAlive): number {
  let n = 0;
  for (const d of readdirSync(root)) {
    if (!d.startsWith(FOLDER_PREFIX)) continue;
    let pid: number;
    try {
      pid = Number(readFileSync(join(root, d, 'pid'), 'utf8'));
    } catch {
      continue; // being made or removed, or not a runner's
    }
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) n++;
  }
  return n;
}

/** The environment variable that tells a worker its slot and the file: `<slot>:<path>`. */
export const THREAD_BUDGET_ENV = 'MBB_THREAD_BUDGET';

/**
 * Threads per worker: the machine's cores shared among the busy workers (the first ones get
 * the remainder), 1 for an idle worker, and never fewer than 1 (more workers than cores).
 */
export function threadShares(cores: number, busy: readonly boolean[]): number[] {
  const nBusy = busy.filter(Boolean).length;
  let extra = nBusy === 0 ? 0 : cores % nBusy;
  return busy.map((b) => {
    if (!b) return 1;
    const share = Math.floor(cores / nBusy) + (extra > 0 ? 1 : 0);
    extra--;
    return Math.max(1, share);
  });
}

export class ThreadBudget {
  private readonly dir: string;
  private readonly fd: number;
  private readonly busy: boolean[];
  readonly path: string;

  /** `cores`: what this runner may lend now, asked at every change (coresToLend over liveRunners). */
  constructor(
    workers: number,
    private readonly cores: () => number,
    root = tmpdir(),
  ) {
    this.dir = mkdtempSync(join(root, FOLDER_PREFIX));
    writeFileSync(join(this.dir, 'pid'), String(process.pid));
    this.path = join(this.dir, 'budget');
    this.fd = openSync(this.path, 'w+');
    this.busy = Array.from({ length: workers }, () => false);
    this.write();
  }

  /** The environment entry for worker `slot`. */
  envFor(slot: number): Record<string, string> {
    return { [THREAD_BUDGET_ENV]: `${slot}:${this.path}` };
  }

  setBusy(slot: number, busy: boolean): void {
    if (this.busy[slot] === busy) return;
    this.busy[slot] = busy;
    this.write();
  }

  /** Written in place: a worker maps the file, and truncating a mapped file would fault its reads. */
  private write(): void {
    writeSync(this.fd, Buffer.from(Int32Array.from(threadShares(this.cores(), this.busy)).buffer), 0, 4 * this.busy.length, 0);
  }

  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** In a worker: follow the runner's budget when it gave one and the native kernels are there. */
export function followThreadBudget(env: NodeJS.ProcessEnv, addon: { useThreadBudget(path: string, slot: number): void } | undefined): void {
  const spec = env[THREAD_BUDGET_ENV];
  if (!spec || !addon) return;
  const at = spec.indexOf(':');
  addon.useThreadBudget(spec.slice(at + 1), Number(spec.slice(0, at)));
}
