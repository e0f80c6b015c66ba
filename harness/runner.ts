/**
 * Runs an experiment grid on a pool of worker processes (one TF.js backend each; cores are
 * used by running independent runs in parallel, never by sharing one model). A free worker
 * takes the next run from the Scheduler (schedule.ts), which holds back runs whose shared
 * stages (pre-training, backdoored SFT) another worker is computing. A finished run's record is
 * skipped on the next invocation; a failed run is recorded with its error and the grid goes on.
 * With a shard (`--shard i/n`) only that slice of the grid runs (see shard.ts).
 */
import { execFileSync, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, constants } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { getAttack } from '../attacks/registry.js';
import { getDefense } from '../defenses/registry.js';
import { MODELS } from '../models/registry.js';
import { parseWith, type ExperimentConfig } from './config.js';
import { UserError } from './errors.js';
import { expandAttacks, expandGrid, experimentHash, refLabel, runId, safeLabel, type RunSpec } from './grid.js';
import { ProgressReporter } from './progress.js';
import type { RunRecord } from './record.js';
import { Scheduler } from './schedule.js';
import { takeShard, type Shard } from './shard.js';
import { loadPluginFiles } from './externalPlugins.js';
import { runIdentity, type RunIdentity } from './runIdentity.js';
import { codeVersion, stableStringify, writeFileAtomic } from './store.js';
import { checkDataset } from './data/load.js';
import { startInvocation, type OpenInvocation } from '../reports/invocations.js';

export interface RunnerOptions {
  outDir: string;
  cacheDir: string;
  workers?: number;
  backend?: string;
  /** Plain progress lines go here (tests); without it, progress goes to stderr, as a live block on a terminal. */
  log?: (line: string) => void;
  shard?: Shard;
  /** Run only the grid's runs this keeps (a calibration's next rung); the others are neither run nor counted. */
  only?: (spec: RunSpec) => boolean;
}

/** What the runner adds to every record's provenance (orchestration facts, not results). */
export type RunProvenance = Pick<RunRecord['provenance'], 'gitCommit' | 'experimentHash' | 'seeds' | 'sourceVersion'>;

export function recordPath(outDir: string, id: string): string {
  return join(outDir, 'runs', `${id}.json`);
}

/** A run's ranking of its training examples by one suspicion score (harness/suspects.ts). */
export function suspectsPath(outDir: string, id: string, score: string): string {
  return join(outDir, 'suspects', `${id}.${score}.csv`);
}

/**
 * A run is done when its record exists for the same run inputs and the same code the run
 * reaches (runIdentity.ts): not the experiment's, so adding an attack, a defense or a seed to
 * the grid, or editing a plugin this run does not use, leaves it done.
 */
export function isDone(outDir: string, spec: RunSpec): boolean {
  const p = recordPath(outDir, runId(spec));
  if (!existsSync(p)) return false;
  try {
    const rec = JSON.parse(readFileSync(p, 'utf8')) as RunRecord;
    const id = runIdentity(spec);
    return rec.status === 'ok' && rec.provenance.configHash === id.configHash && rec.provenance.codeVersion === id.codeVersion;
  } catch {
    return false; // unreadable record: redo it
  }
}

export function failedRecord(spec: RunSpec, error: string, extra: RunProvenance = {}): RunRecord {
  return {
    id: runId(spec),
    status: 'failed',
    error,
    task: spec.task,
    model: spec.model,
    attack: refLabel(spec.attack),
    defense: refLabel(spec.defense),
    defenseStage: '',
    seed: spec.seed,
    metrics: {},
    attackParams: spec.attack.params,
    defenseParams: spec.defense.params,
    target: '',
    poisonCount: 0,
    trainSize: 0,
    keys: {},
    cached: {},
    suspicion: {},
    timings: {},
    trainLog: {},
    examples: [],
    provenance: {
      backend: '',
      engineFixes: [],
      tfjs: '',
      node: process.version,
      ...identityOrUnknown(spec),
      date: new Date().toISOString(),
      ...extra,
    },
    config: spec,
  };
}

/** A failed run's identity, when it can be computed at all (its plugin may be what failed). */
function identityOrUnknown(spec: RunSpec): RunIdentity {
  try {
    return runIdentity(spec);
  } catch {
    return { configHash: '', codeVersion: '' };
  }
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The commit of the code that ran, `-dirty` when tracked files differ from it (the numbers may
 * then not be reproducible from the commit alone); undefined outside a git checkout or without
 * git. Untracked files do not count: outputs, logs (Slurm's `slurm-*.out`) and scratch files
 * would otherwise mark every record dirty, while a new source file a run reaches is already in
 * its codeVersion. Read-only: --no-optional-locks keeps `status` from touching the index.
 */
export function gitCommit(dir = ROOT): string | undefined {
  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const head = git('rev-parse', 'HEAD').trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no').trim() !== '';
    return `${head}${dirty ? '-dirty' : ''}`;
  } catch {
    return undefined;
  }
}

/** Check every plugin id and parameter before any work starts: one clear error, not N failed runs. */
export function validatePlugins(exp: ExperimentConfig): void {
  const missing = exp.models.filter((m) => !MODELS[m]);
  if (missing.length) {
    throw new UserError(
      `models: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not a registered model family (models/ has ${Object.keys(MODELS).join(', ')}); ` +
        `remove ${missing.length > 1 ? 'them' : 'it'} with --set models='${JSON.stringify(exp.models.filter((m) => MODELS[m]))}' or add the family`,
    );
  }
  expandAttacks(exp).forEach((a, i) =>
    parseWith(getAttack(a.id).schema, a.params, exp.rates ? `attacks[${Math.floor(i / exp.rates.length)}] (${a.id}) at rate ${a.params.rate} params` : `attacks[${i}] (${a.id}) params`),
  );
  exp.defenses.forEach((d, i) => parseWith(getDefense(d.id).schema, d.params, `defenses[${i}] (${d.id}) params`));
  // A label becomes part of a file name (grid.ts safeLabel). Two plugins whose labels map to
  // one id would write one record file: say so instead of losing runs.
  for (const [list, refs] of [
    ['attacks', exp.attacks],
    ['defenses', exp.defenses],
  ] as const) {
    const seen = new Map<string, number>();
    refs.forEach((r, i) => {
      const id = safeLabel(refLabel(r));
      if (!id) throw new UserError(`${list}[${i}].label ${JSON.stringify(refLabel(r))} has no letter or digit to name its runs by; use letters, digits and . @ + -`);
      const j = seen.get(id);
      if (j !== undefined) {
        const same = refLabel(refs[j]) === refLabel(r);
        throw new UserError(
          `${list}[${j}] and ${list}[${i}] ${same ? `share the label ${JSON.stringify(refLabel(r))}` : `have labels ${JSON.stringify(refLabel(refs[j]))} and ${JSON.stringify(refLabel(r))}, which both name their runs "${id}"`}; give one a distinct "label"`,
        );
      }
      seen.set(id, i);
    });
  }
}

/**
 * Check every real dataset the grid reads (root, JSON files, every image each seed's splits
 * name) once per task × seed, before any run starts: one clear error instead of a grid of runs
 * failing one by one.
 */
export function validateData(runs: RunSpec[]): void {
  const seen = new Set<string>();
  for (const r of runs) {
    const key = stableStringify({ data: r.exp.data, task: r.task, seed: r.seed });
    if (seen.has(key)) continue;
    seen.add(key);
    checkDataset(r.exp.data, r.task, r.seed);
  }
}

export const defenseStage = (id: string): string => getDefense(id).stage;

const CLI = fileURLToPath(new URL('../scripts/mbb.mjs', import.meta.url));

type WorkerMessage = { type: 'ready' } | { type: 'progress'; stage: string; detail?: string } | { type: 'done' } | { type: 'failed'; error: string };

/** Runs the grid's pending runs and logs the invocation in <out>/invocations.jsonl (the command, machine and wall time of the results page). */
export async function runGrid(exp: ExperimentConfig, opts: RunnerOptions): Promise<{ done: number; failed: number; skipped: number }> {
  const invocation = startInvocation(opts.outDir, gitCommit());
  const res = await runPending(exp, opts, invocation);
  invocation.finish(res);
  return res;
}

async function runPending(exp: ExperimentConfig, opts: RunnerOptions, invocation: OpenInvocation): Promise<{ done: number; failed: number; skipped: number }> {
  const say = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  await loadPluginFiles(exp.plugins);
  validatePlugins(exp);
  let all = expandGrid(exp);
  validateData(all);
  if (opts.only) all = all.filter(opts.only);
  const provenanceBase = { gitCommit: invocation.commit, experimentHash: experimentHash(exp), sourceVersion: codeVersion() };
  if (opts.shard) {
    all = takeShard(opts.outDir, all, opts.shard, { experiment: exp.name, experimentHash: provenanceBase.experimentHash, codeVersion: codeVersion() }, defenseStage, say);
    if (all.length === 0) return { done: 0, failed: 0, skipped: 0 }; // an empty slice: said so above
  }
  const todo = all.filter((s) => !isDone(opts.outDir, s));
  const skipped = all.length - todo.length;
  const nWorkers = Math.max(1, Math.min(opts.workers ?? exp.workers ?? availableParallelism(), todo.length));
  say(`[runner] ${all.length} runs, ${skipped} already done, ${todo.length} to do on ${nWorkers} worker(s)`);
  if (todo.length === 0) return { done: 0, failed: 0, skipped };
  const scheduler = new Scheduler(todo, defenseStage);
  const progress = new ProgressReporter({
    total: todo.length,
    workers: nWorkers,
    tty: !opts.log && process.stderr.isTTY === true,
    write: opts.log ? (text) => text.split('\n').filter(Boolean).forEach((l) => opts.log!(l)) : (text) => process.stderr.write(text),
    // A pty without a size (script, some CI runners) reports 0 columns.
    columns: () => process.stderr.columns || 100,
  });
  let finished = 0;
  let failed = 0;
  const t0 = Date.now();
  const provenanceOf = (spec: RunSpec): RunProvenance => ({ ...provenanceBase, seeds: { run: spec.seed, experiment: exp.seeds } });
  // Workers the scheduler asked to wait (a run they should take is pending on a stage another
  // worker computes); every event that can unblock one retries them.
  const idle = new Set<() => void>();
  const wakeIdle = () => [...idle].forEach((retry) => retry());
  let alive = nWorkers;
  // A signal to the runner alone (e.g. `kill PID`, not the terminal's Ctrl-C, which reaches the
  // whole process group) must not leave workers training on: kill them, then exit as the
  // signal would. Stages and records are atomic, so a re-run resumes cleanly.
  const children = new Set<ReturnType<typeof fork>>();
  const onSignal = (sig: NodeJS.Signals) => {
    for (const c of children) c.kill('SIGKILL');
    invocation.finish({ done: finished - failed, failed, skipped }, sig);
    process.exit(128 + constants.signals[sig]);
  };
  const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];
  for (const sig of SIGNALS) process.on(sig, onSignal);
  try {
    await Promise.all(
      Array.from(
        { length: nWorkers },
        (_, w) =>
          new Promise<void>((resolve) => {
            const args = [...(opts.backend ? ['--backend', opts.backend] : []), ...(exp.plugins ?? []).flatMap((f) => ['--plugin', f])];
            const child = fork(CLI, ['worker', '--out', opts.outDir, '--cache', opts.cacheDir, ...args], {
              // Piped, not inherited: a worker's own output (warnings) goes through the reporter,
              // above the live block instead of through it.
              stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
            });
            children.add(child);
            for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (l) => progress.log(`[w${w + 1}] ${l}`));
            let current: RunSpec | undefined;
            const next = () => {
              idle.delete(next);
              const pick = scheduler.next();
              if (pick === 'wait') return void idle.add(next);
              current = pick;
              if (current) {
                progress.runStarted(w, runId(current));
                child.send({ type: 'run', spec: current, provenance: provenanceOf(current) });
              } else {
                child.send({ type: 'exit' });
                wakeIdle(); // nothing left: waiting workers exit too
              }
            };
            child.on('message', (m: WorkerMessage) => {
              if (m.type === 'ready') return next();
              if (m.type === 'progress') {
                progress.stage(w, m.stage, m.detail);
                if (current) scheduler.progress(current, m.stage);
                return wakeIdle();
              }
              if (m.type === 'done' || m.type === 'failed') {
                finished++;
                if (m.type === 'failed') failed++;
                progress.runFinished(w, m.type === 'done', m.type === 'failed' ? m.error : undefined);
                if (current) scheduler.finished(current, m.type === 'done');
                current = undefined;
                next();
                wakeIdle();
              }
            });
            child.on('exit', (code, signal) => {
              children.delete(child);
              idle.delete(next);
              alive--;
              // A crashed worker (e.g. out of memory) fails its current run; the others take the
              // rest, and when none is left alive the remaining runs are recorded as failed.
              const lost = [...(current ? [current] : []), ...(alive === 0 ? scheduler.drain() : [])];
              if (code !== 0 && lost.length) {
                const why = `worker exited with ${signal ? `signal ${signal}` : `code ${code}`}`;
                for (const spec of lost) writeFileAtomic(recordPath(opts.outDir, runId(spec)), JSON.stringify(failedRecord(spec, why, provenanceOf(spec)), null, 1));
                progress.log(`[w${w + 1}] ${why}: ${lost.length} run(s) recorded as failed, from ${runId(lost[0])}`);
                progress.countFailed(lost.length);
                failed += lost.length;
                finished += lost.length;
              }
              if (current) scheduler.finished(current, false);
              current = undefined;
              wakeIdle();
              resolve();
            });
          }),
      ),
    );
  } finally {
    for (const sig of SIGNALS) process.off(sig, onSignal);
  }
  progress.close();
  say(`[runner] finished ${finished - failed} ok, ${failed} failed, ${skipped} skipped in ${Math.round((Date.now() - t0) / 1000)}s`);
  return { done: finished - failed, failed, skipped };
}
