import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../config/profiles.js';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { expandGrid } from '../plan/grid.js';
import { runIdentity } from '../run/runIdentity.js';
import { runId, type RunSpec } from '../run/runSpec.js';
import { codeChanges, describeDryRun, dryRun } from './dryRun.js';
import { failedRecord, recordPath } from './protocol.js';

// One task, one attack, three defenses, two seeds: 6 runs, one per status below.
const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], seeds: [1, 2], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }, { id: 'pcr' }, { id: 'jitter' }] }), 'smoke');
const grid = expandGrid(exp);
const byId = (id: string) => grid.find((s) => runId(s) === id)!;

/** A finished record of this run with these provenance fields over its own identity. */
function write(out: string, spec: RunSpec, provenance: Record<string, string> = {}, text?: string): void {
  const p = recordPath(out, runId(spec));
  mkdirSync(dirname(p), { recursive: true });
  const rec = { ...failedRecord(spec, ''), status: 'ok', error: undefined };
  writeFileSync(p, text ?? JSON.stringify({ ...rec, provenance: { ...rec.provenance, ...runIdentity(spec), ...provenance } }));
}

/** An output folder with one run of each status (the sixth has no record). */
function outWithEveryStatus(commit: string): string {
  const out = mkdtempSync(join(tmpdir(), 'mbb-dry-'));
  write(out, byId('caption__llava__badnets__none__s1'));
  write(out, byId('caption__llava__badnets__pcr__s1'), { codeVersion: 'f00000000000', gitCommit: commit });
  write(out, byId('caption__llava__badnets__jitter__s1'), { configHash: '0000000000000000' });
  writeFileSync(recordPath(out, 'caption__llava__badnets__none__s2'), JSON.stringify(failedRecord(byId('caption__llava__badnets__none__s2'), 'boom')));
  write(out, byId('caption__llava__badnets__pcr__s2'), {}, '{"status": "ok", trunc');
  return out;
}

describe('mbb run --dry-run', () => {
  it('gives every run its status, why it is to do, and writes nothing', async () => {
    const out = outWithEveryStatus('abc');
    const before = readdirSync(join(out, 'runs')).sort();
    const { byStatus } = await dryRun(exp, { outDir: out });
    expect(Object.fromEntries([...byStatus].map(([s, g]) => [s, g.map(runId)]))).toEqual({
      done: ['caption__llava__badnets__none__s1'],
      'code changed': ['caption__llava__badnets__pcr__s1'],
      'inputs changed': ['caption__llava__badnets__jitter__s1'],
      failed: ['caption__llava__badnets__none__s2'],
      'unreadable record': ['caption__llava__badnets__pcr__s2'],
      'no record': ['caption__llava__badnets__jitter__s2'],
    });
    expect(readdirSync(out)).toEqual(['runs']); // no invocation log, no report, no shard claim
    expect(readdirSync(join(out, 'runs')).sort()).toEqual(before);
    const { summary, todo } = describeDryRun({ byStatus, changes: new Map() }); // the changes: below
    expect(summary).toEqual(['[dry run] 6 runs: 1 done, 5 to do (1 code changed, 1 inputs changed, 1 failed, 1 unreadable record, 1 no record); nothing was run or written']);
    expect(todo).toEqual([
      'caption__llava__badnets__pcr__s1\tcode changed',
      'caption__llava__badnets__jitter__s1\tinputs changed',
      'caption__llava__badnets__none__s2\tfailed',
      'caption__llava__badnets__pcr__s2\tunreadable record',
      'caption__llava__badnets__jitter__s2\tno record',
    ]);
  });

  it('covers what the invocation would: --only patterns, a shard (its slices partition the grid)', async () => {
    const out = outWithEveryStatus('abc');
    const only = await dryRun(exp, { outDir: out, onlyIds: ['*__s2'] });
    expect([...only.byStatus.values()].flat().map(runId).sort()).toEqual(grid.filter((s) => s.seed === 2).map(runId).sort());
    const slices = await Promise.all([0, 1].map((index) => dryRun(exp, { outDir: out, shard: { index, count: 2 } })));
    const ids = slices.map((m) => [...m.byStatus.values()].flat().map(runId));
    expect(ids.every((s) => s.length > 0)).toBe(true);
    expect([...ids[0], ...ids[1]].sort()).toEqual(grid.map(runId).sort());
    await expect(dryRun(exp, { outDir: out, onlyIds: ['*__s9'] })).rejects.toThrow(/\*__s9/);
  });

  it('names the files of a stale run’s code that differ from the commit its record names', async () => {
    // A git repository holding two files of the run's code, committed, then one edited.
    const repo = mkdtempSync(join(tmpdir(), 'mbb-dry-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    mkdirSync(join(repo, 'harness/run'), { recursive: true });
    mkdirSync(join(repo, 'docs'), { recursive: true });
    writeFileSync(join(repo, 'harness/run/pipeline.ts'), 'a');
    writeFileSync(join(repo, 'harness/run/sft.ts'), 'a');
    writeFileSync(join(repo, 'docs/x.md'), 'a');
    git('add', '.');
    git('commit', '-qm', 'c');
    const commit = git('rev-parse', 'HEAD').trim();
    writeFileSync(join(repo, 'harness/run/pipeline.ts'), 'b');
    writeFileSync(join(repo, 'docs/x.md'), 'b'); // changed, but no run's code
    // The stale run is caption__llava__badnets__pcr__s1, its record made at the commit, dirty.
    const { changes } = await dryRun(exp, { outDir: outWithEveryStatus(`${commit}-dirty`) }, repo);
    expect(changes).toEqual(new Map([[commit, { runs: 1, files: ['harness/run/pipeline.ts'] }]]));
    expect(describeDryRun({ byStatus: new Map(), changes }).summary[1]).toBe(`[dry run] code changed: 1 record(s) made at ${commit.slice(0, 12)}; their code differs since in harness/run/pipeline.ts`);
    // A commit this checkout does not have: said so, not guessed.
    const unknown = codeChanges([{ spec: byId('caption__llava__badnets__pcr__s1'), commit: '0123456789abcdef0123456789abcdef01234567' }], repo);
    expect(unknown).toEqual(new Map([['0123456789abcdef0123456789abcdef01234567', { runs: 1, files: undefined }]]));
    expect(describeDryRun({ byStatus: new Map(), changes: unknown }).summary[1]).toBe('[dry run] code changed: 1 record(s) made at 0123456789ab, a commit git cannot compare here');
  });
});
