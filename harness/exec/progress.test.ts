import { describe, expect, it } from 'vitest';
import { formatDuration } from '../plan/estimate.js';
import { estimateRemaining, fitWidth, remainingFromWork, plainLine, progressBar, ProgressReporter, renderStatus } from './progress.js';

describe('progress formatting', () => {
  it('formats durations compactly', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(185)).toBe('3m05s');
    expect(formatDuration(3599.6)).toBe('1h00m');
    expect(formatDuration(2 * 3600 + 7 * 60 + 10)).toBe('2h07m');
    expect(formatDuration(NaN)).toBe('?');
  });

  it('estimates the remaining time from the mean run time, spread over the busy workers', () => {
    expect(estimateRemaining([], 10, 2)).toBeUndefined();
    expect(estimateRemaining([10, 30], 8, 2)).toBe(80); // mean 20 s × 8 runs / 2 workers
    expect(estimateRemaining([10, 30], 1, 2)).toBe(20); // one run left: one worker busy
    expect(estimateRemaining([10], 0, 2)).toBe(0);
  });

  it('estimates the remaining time from the work left at the throughput so far, once a run has done work', () => {
    expect(remainingFromWork(30, 0, 100)).toBeUndefined();
    expect(remainingFromWork(30, 10, 100)).toBe(300); // 10 units in 100 s, 30 to go
    // The reporter: the run count's estimate until work is credited, the work's after.
    let t = 0;
    let left = 90;
    const out: string[] = [];
    const p = new ProgressReporter({ total: 10, workers: 1, tty: false, write: (s) => out.push(s), now: () => t, remainingWork: () => left });
    p.runStarted(0, 'cheap');
    t = 10_000;
    p.runFinished(0, true); // nothing credited: 10 s × 9 runs left
    p.runStarted(0, 'costly');
    t = 40_000;
    p.credit(10); // it did 10 of the 100 units in the 40 s so far
    left = 90;
    p.runFinished(0, true);
    expect(out).toEqual(['[w1 1/10 eta 1m30s] cheap: done\n', '[w1 2/10 eta 6m00s] costly: done\n']);
  });

  it('draws a bar proportional to the runs finished', () => {
    expect(progressBar(0, 4, 8)).toBe('[--------]');
    expect(progressBar(1, 4, 8)).toBe('[##------]');
    expect(progressBar(4, 4, 8)).toBe('[########]');
    expect(progressBar(0, 0, 4)).toBe('[####]');
  });

  it('cuts lines to the terminal width', () => {
    expect(fitWidth('abcdef', 10)).toBe('abcdef');
    expect(fitWidth('abcdef', 4)).toBe('abc…');
  });

  it('renders the bar line and one line per worker with its run and stage', () => {
    const lines = renderStatus(
      {
        done: 3,
        failed: 1,
        total: 8,
        elapsedSeconds: 125,
        etaSeconds: 130,
        workers: [{ run: 'caption__llava__badnets__pcr__s1', stage: 'sft+pcr', detail: 'epoch 2/6 step 31/94 loss 1.234' }, {}],
      },
      100,
    );
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[#+-+\] 4\/8 runs · 1 failed · 2m05s · eta 2m10s$/);
    expect(lines[0].length).toBeLessThanOrEqual(100);
    expect(lines[1]).toBe('  w1 caption__llava__badnets__pcr__s1: sft+pcr epoch 2/6 step 31/94 loss 1.234');
    expect(lines[2]).toBe('  w2 idle');
    const narrow = renderStatus({ done: 0, failed: 0, total: 2, elapsedSeconds: 1, workers: [{ run: 'x'.repeat(100), stage: 's' }] }, 30);
    expect(narrow.every((l) => l.length <= 30)).toBe(true);
    expect(narrow[0]).toContain('eta …');
  });

  it('prefixes plain lines with the worker, the progress and the eta', () => {
    expect(plainLine(0, 2, 10, 65, 'r: sft')).toBe('[w1 2/10 eta 1m05s] r: sft');
    expect(plainLine(1, 0, 10, undefined, 'r: data')).toBe('[w2 0/10] r: data');
  });
});

describe('ProgressReporter', () => {
  it('prints plain lines on stage changes and new kinds of message, and throttles a counter\'s ticks', () => {
    let t = 0;
    const out: string[] = [];
    const p = new ProgressReporter({ total: 2, workers: 1, tty: false, write: (s) => out.push(s), now: () => t, lineEveryMs: 5000 });
    p.runStarted(0, 'r1');
    p.stage(0, 'pretrain', 'step 1');
    t = 1000;
    p.stage(0, 'pretrain', 'step 2'); // same stage, 1 s later: dropped
    t = 6500;
    p.stage(0, 'pretrain', 'step 3'); // same stage, 6.5 s later: printed
    t = 7000;
    p.stage(0, 'sft', 'step 1'); // new stage: printed at once
    t = 7100;
    p.stage(0, 'sft', 'GMM cut: modes 1.51 apart, nothing is dropped'); // same stage, another kind of message: printed at once
    t = 7200;
    p.stage(0, 'sft', 'step 2'); // the counter again, after the message: printed
    t = 7300;
    p.stage(0, 'sft', 'step 3'); // its next tick within 5 s: dropped
    t = 10_000;
    p.runFinished(0, true);
    expect(out).toEqual([
      '[w1 0/2] r1: pretrain step 1\n',
      '[w1 0/2] r1: pretrain step 3\n',
      '[w1 0/2] r1: sft step 1\n',
      '[w1 0/2] r1: sft GMM cut: modes 1.51 apart, nothing is dropped\n',
      '[w1 0/2] r1: sft step 2\n',
      '[w1 1/2 eta 10s] r1: done\n',
    ]);
  });

  it('redraws the block in place on a terminal, at most once per interval', () => {
    let t = 0;
    const out: string[] = [];
    const p = new ProgressReporter({ total: 2, workers: 1, tty: true, write: (s) => out.push(s), now: () => t, redrawEveryMs: 250, columns: () => 60 });
    p.runStarted(0, 'r1'); // first event: drawn at once
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain('\x1b[');
    t = 100;
    p.stage(0, 'sft', 'step 1'); // within 250 ms: deferred to a timer, not drawn now
    p.stage(0, 'sft', 'step 2');
    expect(out).toHaveLength(1);
    t = 300;
    p.stage(0, 'sft', 'step 3'); // the interval has passed: redrawn, moving up over the 2 lines drawn
    expect(out).toHaveLength(2);
    expect(out[1].startsWith('\x1b[2A\r\x1b[0J')).toBe(true);
    expect(out[1]).toContain('w1 r1: sft step 3');
    t = 600;
    p.log('[store] warning: something'); // a kept line goes above a freshly drawn block
    expect(out[2]).toBe('\x1b[2A\r\x1b[0J[store] warning: something\n');
    expect(out[3]).toMatch(/^\[#*-*\] 0\/2 runs/); // the block again, below the kept line
    t = 900;
    p.runFinished(0, false, 'boom');
    expect(out.join('')).toContain('[w1] r1 FAILED: boom');
    p.close();
    expect(out[out.length - 1]).toContain('1/2 runs · 1 failed');
  });
});
