/**
 * `mbb run --dry-run`: what an invocation would do, without doing it. Each run the invocation
 * covers gets its status (protocol.ts runStatus: done, or why the next invocation makes it), and
 * where a record is stale because the run's code changed, the files of the run's code that
 * differ from the commit the record names, so that a reader of a results page can tell what
 * reproducing it at another commit costs, and why. Nothing runs and nothing is written: a
 * shard's slice is computed, not claimed.
 */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentConfig } from '../config/schema.js';
import { chainCosts, shardRuns } from '../plan/shard.js';
import { defenseStage } from '../plan/validate.js';
import { importClosure, stageEntry, stagePlugins } from '../run/codeHash.js';
import { resolveRun } from '../run/runIdentity.js';
import { runId, type RunSpec } from '../run/runSpec.js';
import { runStatus, type RunStatus } from './protocol.js';
import { selectRuns, type RunnerOptions } from './runner.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What an invocation would do: its runs grouped by status, each group in the grid's order, and the code changes behind the stale ones. */
export interface DryRun {
  byStatus: Map<RunStatus, RunSpec[]>;
  changes: CodeChanges;
}

/** The runs an invocation would cover, each record read once; `dir`: the git checkout to compare stale records' commits with. */
export async function dryRun(exp: ExperimentConfig, opts: Pick<RunnerOptions, 'outDir' | 'shard' | 'only' | 'onlyIds'>, dir = ROOT): Promise<DryRun> {
  let all = await selectRuns(exp, opts);
  if (opts.shard) all = shardRuns(all, opts.shard, chainCosts(all, defenseStage));
  const byStatus = new Map<RunStatus, RunSpec[]>();
  const stale: { spec: RunSpec; commit?: string }[] = [];
  for (const spec of all) {
    const { status, record } = runStatus(opts.outDir, spec);
    const group = byStatus.get(status) ?? [];
    group.push(spec);
    byStatus.set(status, group);
    if (status === 'code changed') stale.push({ spec, commit: record!.provenance.gitCommit });
  }
  return { byStatus, changes: codeChanges(stale, dir) };
}

/** Per commit named by a stale record: how many such runs, and the files of their code changed since (undefined: git cannot tell). */
export type CodeChanges = Map<string, { runs: number; files?: string[] }>;

/**
 * For runs whose code changed, with the commit each one's record names: group them by commit,
 * and list the files their code reaches (at this checkout) that differ from that commit in git,
 * tracked files only.
 */
export function codeChanges(stale: { spec: RunSpec; commit?: string }[], dir = ROOT): CodeChanges {
  const diffs = new Map<string, Set<string> | undefined>();
  const changedSince = (commit: string) => {
    if (!diffs.has(commit)) {
      try {
        const out = execFileSync('git', ['--no-optional-locks', 'diff', '--name-only', commit, '--'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
        diffs.set(commit, new Set(out.split('\n').filter(Boolean)));
      } catch {
        diffs.set(commit, undefined); // not a git checkout, or a commit it does not have
      }
    }
    return diffs.get(commit);
  };
  const closures = new Map<string, string[]>();
  const groups = new Map<string, { runs: number; files?: Set<string> }>();
  for (const { spec, commit: named } of stale) {
    // A record made from uncommitted changes names its commit with `-dirty`: compared with the commit.
    const commit = (named ?? 'unknown').replace(/-dirty$/, '');
    const changed = commit === 'unknown' ? undefined : changedSince(commit);
    const plugins = stagePlugins('run', resolveRun(spec));
    const key = plugins.join('\n');
    if (!closures.has(key)) closures.set(key, importClosure([stageEntry('run')], plugins));
    const group = groups.get(commit) ?? { runs: 0, files: changed && new Set<string>() };
    group.runs++;
    if (changed && group.files) for (const f of closures.get(key)!) if (changed.has(f)) group.files.add(f);
    groups.set(commit, group);
  }
  return new Map([...groups].map(([c, g]) => [c, { runs: g.runs, files: g.files && [...g.files].sort() }]));
}

/** The dry run's summary lines (stderr), and each run to do as `id<TAB>status` (stdout, to pipe). */
export function describeDryRun({ byStatus, changes }: DryRun): { summary: string[]; todo: string[] } {
  const total = [...byStatus.values()].reduce((n, g) => n + g.length, 0);
  const pending = [...byStatus].filter(([status]) => status !== 'done');
  const todo = pending.flatMap(([status, group]) => group.map((spec) => `${runId(spec)}\t${status}`));
  const why = pending.map(([status, group]) => `${group.length} ${status}`).join(', ');
  const done = byStatus.get('done')?.length ?? 0;
  const summary = [`[dry run] ${total} runs: ${done} done, ${todo.length} to do${why ? ` (${why})` : ''}; nothing was run or written`];
  for (const [commit, { runs, files }] of changes) {
    const since = `${runs} record(s) made at ${commit.slice(0, 12)}`;
    summary.push(files ? `[dry run] code changed: ${since}; their code differs since in ${files.length ? files.join(', ') : 'no tracked file (an untracked one, or uncommitted changes at the time)'}` : `[dry run] code changed: ${since}, a commit git cannot compare here`);
  }
  return { summary, todo };
}
