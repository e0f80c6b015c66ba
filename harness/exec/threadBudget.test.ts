import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { coresToLend, followThreadBudget, liveRunners, ThreadBudget, threadShares, THREAD_BUDGET_ENV } from './threadBudget.js';

describe('thread budget', () => {
  it("shares the cores among busy workers; idle ones and oversubscribed ones keep one thread", () => {
    expect(threadShares(2, [true, false])).toEqual([2, 1]);
    expect(threadShares(2, [true, true])).toEqual([1, 1]);
    expect(threadShares(2, [false, false])).toEqual([1, 1]);
    expect(threadShares(8, [true, false, true])).toEqual([4, 1, 4]);
    expect(threadShares(7, [true, true, false, true])).toEqual([3, 2, 1, 2]);
    expect(threadShares(2, [true, true, true, true])).toEqual([1, 1, 1, 1]);
  });

  it("lends the cores MBB_CORES names, else the machine's divided among its runners", () => {
    expect([coresToLend({ MBB_CORES: '1' }, 8), coresToLend({}, 8), coresToLend({ MBB_CORES: 'two' }, 8), coresToLend({ MBB_CORES: '0' }, 8)]).toEqual([1, 8, 8, 8]);
    expect([coresToLend({}, 8, 2), coresToLend({}, 2, 2), coresToLend({}, 2, 3), coresToLend({}, 2, 0), coresToLend({ MBB_CORES: '2' }, 2, 2)]).toEqual([4, 1, 1, 2, 2]);
  });

  it('counts the runners alive on the machine by their budget folders, and each budget adds its own', () => {
    const root = mkdtempSync(join(tmpdir(), 'mbb-root-'));
    const folder = (name: string, pid?: string) => {
      mkdirSync(join(root, name));
      if (pid !== undefined) writeFileSync(join(root, name, 'pid'), pid);
    };
    folder('mbb-threads-a', '101'); // alive
    folder('mbb-threads-b', '102'); // killed with -9: its folder stayed
    folder('mbb-threads-c'); // no pid file (being made)
    folder('mbb-threads-d', 'x');
    folder('other', '101');
    const alive = (pid: number) => pid === 101 || pid === process.pid;
    expect(liveRunners(root, alive)).toBe(1);
    // A budget names its runner's pid, so a second runner counts it, and shares with it on its next change.
    let runners = 0;
    const b = new ThreadBudget(2, () => coresToLend({}, 4, (runners = liveRunners(root, alive))), root);
    const slots = () => Array.from(new Int32Array(new Uint8Array(readFileSync(b.path)).buffer));
    expect(runners).toBe(2);
    b.setBusy(0, true);
    expect(slots()).toEqual([2, 1]); // 4 cores / 2 runners, all to the one busy worker
    folder('mbb-threads-e', '101');
    b.setBusy(1, true);
    expect([runners, slots()]).toEqual([3, [1, 1]]);
    b.close();
    expect(liveRunners(root, alive)).toBe(2);
  });

  it('writes every slot in place as workers start and stop waiting, and removes its file on close', () => {
    const b = new ThreadBudget(2, () => 2);
    const slots = () => Array.from(new Int32Array(new Uint8Array(readFileSync(b.path)).buffer));
    expect(slots()).toEqual([1, 1]);
    b.setBusy(0, true);
    expect(slots()).toEqual([2, 1]);
    b.setBusy(1, true);
    expect(slots()).toEqual([1, 1]);
    b.setBusy(0, false);
    expect(slots()).toEqual([1, 2]);
    expect(b.envFor(1)).toEqual({ [THREAD_BUDGET_ENV]: `1:${b.path}` });
    b.close();
    expect(existsSync(b.path)).toBe(false);
  });

  it("a worker follows its slot of the runner's file, and nothing without one", () => {
    const calls: [string, number][] = [];
    const addon = { useThreadBudget: (path: string, slot: number) => void calls.push([path, slot]) };
    followThreadBudget({ [THREAD_BUDGET_ENV]: '3:/tmp/x:y/budget' }, addon);
    followThreadBudget({}, addon);
    followThreadBudget({ [THREAD_BUDGET_ENV]: '0:/tmp/b' }, undefined); // no addon built: nothing to tell
    expect(calls).toEqual([['/tmp/x:y/budget', 3]]);
  });
});
