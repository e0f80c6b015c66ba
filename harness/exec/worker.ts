/**
 * A worker process of the runner: owns one TF.js backend, executes the runs it is sent one
 * by one, writes each record atomically, reports progress over IPC.
 */
import { initEngine, type BackendName } from '../core/engine.js';
import { loadNativeKernels } from '../core/nativeAddon.js';
import { followThreadBudget } from './threadBudget.js';
import { runId } from '../run/runSpec.js';
import { loadPluginFiles } from '../plan/externalPlugins.js';
import { executeRun } from '../run/pipeline.js';
import { failedRecord, recordPath, suspectsPath, type RunnerMessage, type WorkerMessage } from './protocol.js';
import { writeFileAtomic } from '../core/atomicFile.js';
import { Store } from '../run/store.js';
import { suspectCsv } from '../run/suspects.js';

export async function workerMain(opts: { outDir: string; cacheDir: string; backend?: string; plugins?: string[] }): Promise<void> {
  const send = (m: WorkerMessage) => process.send?.(m);
  await initEngine({ backend: (opts.backend as BackendName) ?? 'auto', quiet: true });
  // The cores the runner lends this worker while others wait (threadBudget.ts).
  followThreadBudget(process.env, loadNativeKernels());
  // The runner's plugin files from outside the repository, before any run names their ids.
  await loadPluginFiles(opts.plugins);
  const store = new Store(opts.cacheDir);
  // The runner is gone (killed without the chance to kill us): stop at the next chance rather
  // than train on for nobody. Training is synchronous within a stage, so that is a stage boundary.
  process.on('disconnect', () => process.exit());
  // Stopping is the runner's job. A signal meant for the whole job reaches the runner too
  // (Ctrl-C signals the process group, Slurm's scancel every process of the job), which then
  // kills its workers and exits; a worker that died of it first would have its run recorded as
  // failed (runner.ts, worker exit) instead of simply not done.
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(sig, () => {});
  process.on('message', async (m: RunnerMessage) => {
    if (m.type === 'exit') {
      process.disconnect?.();
      return;
    }
    const spec = m.spec;
    // Provenance the pipeline cannot know (the git commit, the experiment) is added here, in
    // orchestration code, so that adding it does not change the code version of results.
    const extra = m.provenance;
    try {
      // Rankings first, then the record: a record on disk implies its rankings are there too.
      const rec = await executeRun(
        spec,
        store,
        (p) => send({ type: 'progress', ...p }),
        (tables) => tables.forEach((t) => writeFileAtomic(suspectsPath(opts.outDir, runId(spec), t.name), suspectCsv(t))),
      );
      rec.provenance = { ...rec.provenance, ...extra };
      writeFileAtomic(recordPath(opts.outDir, runId(spec)), JSON.stringify(rec, null, 1));
      send({ type: 'done', cached: rec.cached });
    } catch (e) {
      const msg = (e as Error).message ?? String(e);
      writeFileAtomic(recordPath(opts.outDir, runId(spec)), JSON.stringify(failedRecord(spec, msg, extra), null, 1));
      send({ type: 'failed', error: msg });
    }
  });
  send({ type: 'ready' });
}
