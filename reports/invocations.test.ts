import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentSchema, parseWith } from '../harness/config/schema.js';
import { PROFILES } from '../harness/config/profiles.js';
import { gitCommit } from '../harness/exec/gitCommit.js';
import { runGrid } from '../harness/exec/runner.js';
import { commandLine, INVOCATIONS_FILE, readInvocations, startInvocation } from './invocations.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mbb-inv-'));

describe('invocation log', () => {
  it('appends one line per invocation with the command, commit, times, machine and counts', () => {
    const dir = join(tmp(), 'not-yet');
    const times = [new Date('2026-03-01T10:00:00Z'), new Date('2026-03-01T10:01:30.500Z'), new Date('2026-03-02T08:00:00Z'), new Date('2026-03-02T08:00:05Z')];
    const clock = () => times.shift()!;
    startInvocation(dir, 'abc123', ['run', '--profile', 'smoke'], clock).finish({ done: 3, failed: 1, skipped: 0 });
    startInvocation(dir, undefined, ['run', '--profile', 'smoke'], clock).finish({ done: 0, failed: 0, skipped: 4 }, 'SIGINT');
    const lines = readFileSync(join(dir, INVOCATIONS_FILE), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    const [first, second] = readInvocations(dir);
    expect(first).toMatchObject({ argv: ['run', '--profile', 'smoke'], commit: 'abc123', start: '2026-03-01T10:00:00.000Z', end: '2026-03-01T10:01:30.500Z', wallSeconds: 90.5, done: 3, failed: 1, skipped: 0, node: process.version, cores: availableParallelism() });
    expect(first.cpu.length).toBeGreaterThan(0);
    expect(first.signal).toBeUndefined();
    expect(second).toMatchObject({ wallSeconds: 5, skipped: 4, signal: 'SIGINT' });
    expect(second.commit).toBeUndefined();
  });

  it("an invocation killed outright stands as its last progress line; one that finished, as its final line", () => {
    const dir = tmp();
    const times = ['10:00:00', '10:05:00', '10:09:00', '11:00:00', '11:01:00', '11:02:00'].map((t) => new Date(`2026-03-01T${t}Z`));
    const clock = () => times.shift()!;
    const killed = startInvocation(dir, 'abc', ['run'], clock);
    killed.progress({ done: 1, failed: 0, skipped: 2 });
    killed.progress({ done: 2, failed: 0, skipped: 2 }); // then SIGKILL: no final line
    const done = startInvocation(dir, 'abc', ['run'], clock);
    done.progress({ done: 1, failed: 0, skipped: 0 });
    done.finish({ done: 1, failed: 0, skipped: 0 });
    expect(readFileSync(join(dir, INVOCATIONS_FILE), 'utf8').trim().split('\n')).toHaveLength(4);
    const [first, second] = readInvocations(dir);
    expect(first).toMatchObject({ wallSeconds: 540, done: 2, running: true });
    expect(second).toMatchObject({ wallSeconds: 120, done: 1 });
    expect(second.running).toBeUndefined();
    expect(readInvocations(dir)).toHaveLength(2);
  });

  it('reads no invocation where none was logged, and names the line and the fix of a bad one', () => {
    const dir = tmp();
    expect(readInvocations(dir)).toEqual([]);
    writeFileSync(join(dir, INVOCATIONS_FILE), '\n{"argv":[]}\n');
    expect(() => readInvocations(dir)).toThrow(/invocations\.jsonl:2: not an invocation \(start: .*delete that line/);
    writeFileSync(join(dir, INVOCATIONS_FILE), '{"argv":');
    expect(() => readInvocations(dir)).toThrow(/invocations\.jsonl:1: not valid JSON/);
  });

  it('quotes what a shell would split or expand', () => {
    expect(commandLine(['run', '--set', 'sft.epochs=4', '--out', 'reports/out/x'])).toBe('mbb run --set sft.epochs=4 --out reports/out/x');
    expect(commandLine(['run', '--set', 'attacks=[{"id":"badnets"}]', '--title', "it's"])).toBe(`mbb run --set 'attacks=[{"id":"badnets"}]' --title 'it'\\''s'`);
  });

  it('is written by runGrid, also when it has nothing to run', async () => {
    const out = tmp();
    const exp = parseWith(experimentSchema, PROFILES.smoke, 'smoke');
    const res = await runGrid(exp, { outDir: out, cacheDir: tmp(), only: () => false, log: () => {} });
    expect(res).toEqual({ done: 0, failed: 0, skipped: 0 });
    const [line] = readInvocations(out);
    expect(line).toMatchObject({ argv: process.argv.slice(2), done: 0, failed: 0, skipped: 0 });
    // the commit the records of this invocation carry (absent outside git)
    expect(line.commit).toBe(gitCommit());
    expect(line.wallSeconds).toBeGreaterThanOrEqual(0);
  });
});
