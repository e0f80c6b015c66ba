/**
 * Cores lent to busy workers. A worker that waits (for a vision tower another worker computes,
 * or at the end of a grid when nothing is left for it) leaves its core idle; the runner lends
 * it to the busy ones. It writes one int32 per worker, the threads that worker's native kernels
 * may use, into a file each worker maps (harness/native/pool.h) and reads before every
 * parallel kernel, so a change reaches a stage already running. Kernels split their outputs
 * (rows, columns, batch items, heads), never the terms of one sum, so a run's numbers do not
 * depend on its share. The runner counts the machine's cores as its own; two runners side by
 * side would lend the same idle core twice, so `MBB_CORES` (see `coresToLend`) gives each its share.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The cores a runner shares among its workers: `MBB_CORES` when it is a whole number ≥ 1, else all the machine has. */
export function coresToLend(env: NodeJS.ProcessEnv, machine: number): number {
  const n = Number(env.MBB_CORES);
  return Number.isInteger(n) && n >= 1 ? n : machine;
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

  constructor(
    workers: number,
    private readonly cores: number,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'mbb-threads-'));
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
    writeSync(this.fd, Buffer.from(Int32Array.from(threadShares(this.cores, this.busy)).buffer), 0, 4 * this.busy.length, 0);
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
