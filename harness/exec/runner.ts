/**
 * Runs an experiment grid on a pool of worker processes (one TF.js backend each; cores are
 * used by running independent runs in parallel, and a waiting worker's core is lent to the busy
 * ones' native kernels: threadBudget.ts). A free worker
 * takes the next run from the Scheduler (schedule.ts), which holds back runs whose shared
 * stages (pre-training, backdoored SFT) another worker is computing. A finished run's record is
 * skipped on the next invocation; a failed run is recorded with its error and the grid goes on.
 * With a shard (`--shard i/n`) only that slice of the grid runs (see shard.ts).
 */
import { fork } from 'node:child_process';
import { availableParallelism, constants } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ExperimentConfig } from '../config/schema.js';
import { writeFileAtomic } from '../core/atomicFile.js';
import { loadPluginFiles } from '../plan/externalPlugins.js';
import { expandGrid, experimentHash } from '../plan/grid.js';
import { Scheduler } from '../plan/schedule.js';
import { coresToLend, liveRunners, ThreadBudget } from './threadBudget.js';
import { onlyFilter } from '../plan/only.js';
import { takeShard, type Shard } from '../plan/shard.js';
import { defenseStage, probesBackdoored, validateData, validatePlugins } from '../plan/validate.js';
import { codeVersion } from '../run/codeHash.js';
import { runId, type RunSpec } from '../run/runSpec.js';
import { gitCommit } from './gitCommit.js';
import { ProgressReporter } from './progress.js';
import { failedRecord, isDone, recordPath, type RunnerMessage, type RunProvenance, type WorkerMessage } from './protocol.js';
import { startInvocation, type OpenInvocation } from '../../reports/invocations.js';

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
  /** `mbb run --only`: run-id patterns (plan/only.ts), each of which must match a run of the grid. */
  onlyIds?: string[];
}

const CLI = fileURLToPath(new URL('../../scripts/mbb.mjs', import.meta.url));

/** Runs the grid's pending runs and logs the invocation in <out>/invocations.jsonl (the command, machine and wall time of the results page). */
export async function runGrid(exp: ExperimentConfig, opts: RunnerOptions): Promise<{ done: number; failed: number; skipped: number }> {
  const invocation = startInvocation(opts.outDir, gitCommit());
  const res = await runPending(exp, opts, invocation);
  invocation.finish(res);
  return res;
}

/** The grid's runs an invocation covers (before its shard), validated before any work. */
export async function selectRuns(exp: ExperimentConfig, opts: Pick<RunnerOptions, 'only' | 'onlyIds'>): Promise<RunSpec[]> {
  await loadPluginFiles(exp.plugins);
  validatePlugins(exp);
  let all = expandGrid(exp);
  validateData(all);
  if (opts.only) all = all.filter(opts.only);
  if (opts.onlyIds?.length) {
    const keep = onlyFilter(opts.onlyIds, all.map(runId));
    all = all.filter((s) => keep(runId(s)));
  }
  return all;
}

async function runPending(exp: ExperimentConfig, opts: RunnerOptions, invocation: OpenInvocation): Promise<{ done: number; failed: number; skipped: number }> {
  const say = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  let all = await selectRuns(exp, opts);
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
  const scheduler = new Scheduler(todo, defenseStage, probesBackdoored);
  const progress = new ProgressReporter({
    total: todo.length,
    workers: nWorkers,
    tty: !opts.log && process.stderr.isTTY === true,
    write: opts.log ? (text) => text.split('\n').filter(Boolean).forEach((l) => opts.log!(l)) : (text) => process.stderr.write(text),
    // A pty without a size (script, some CI runners) reports 0 columns.
    columns: () => process.stderr.columns || 100,
    remainingWork: () => scheduler.remainingWork(),
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
  const budget = new ThreadBudget(nWorkers, () => coresToLend(process.env, availableParallelism(), liveRunners()));
  const onSignal = (sig: NodeJS.Signals) => {
    for (const c of children) c.kill('SIGKILL');
    budget.close();
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
              env: { ...process.env, ...budget.envFor(w) },
            });
            children.add(child);
            for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (l) => progress.log(`[w${w + 1}] ${l}`));
            let current: RunSpec | undefined;
            const next = () => {
              idle.delete(next);
              const pick = scheduler.next();
              budget.setBusy(w, pick !== 'wait' && pick !== undefined);
              if (pick === 'wait') return void idle.add(next);
              current = pick;
              if (current) {
                progress.runStarted(w, runId(current));
                child.send({ type: 'run', spec: current, provenance: provenanceOf(current) } satisfies RunnerMessage);
              } else {
                child.send({ type: 'exit' } satisfies RunnerMessage);
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
                invocation.progress({ done: finished - failed, failed, skipped });
                if (current && m.type === 'done') progress.credit(scheduler.workOf(current, m.cached));
                if (current) scheduler.finished(current, m.type === 'done');
                progress.runFinished(w, m.type === 'done', m.type === 'failed' ? m.error : undefined);
                current = undefined;
                next();
                wakeIdle();
              }
            });
            child.on('exit', (code, signal) => {
              children.delete(child);
              budget.setBusy(w, false);
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
    budget.close();
  }
  progress.close();
  say(`[runner] finished ${finished - failed} ok, ${failed} failed, ${skipped} skipped in ${Math.round((Date.now() - t0) / 1000)}s`);
  return { done: finished - failed, failed, skipped };
}
