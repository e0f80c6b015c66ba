/**
 * One run of the grid, as a chain of cached stages, one file each:
 *   dataset (context.ts) → [vision tower pre-training (vision.ts, per tower size × seed)] →
 *   clean pre-training (pretrain.ts, per model × task × seed) → poisoned split and backdoored
 *   model (sft.ts: SFT with no defense) or defended model (SFT with a training-time defense) →
 *   [repair by a post-training defense (repair.ts)] → evaluation (eval.ts) → the run's record.
 * Each model stage is content-addressed in the Store, so a killed grid resumes and every
 * defense reuses the same pre-trained model.
 */
import { performance } from 'node:perf_hooks';
import { engineInfo } from '../core/engine.js';
import type { EpochLog, RunRecord } from '../core/record.js';
import { dispose } from './cachedModel.js';
import { hashOf } from '../core/hash.js';
import { stageCode, type StageName } from './codeHash.js';
import { buildTokenizers, loadDataset, modelConfigFor, trainableOf, type RunContext } from './context.js';
import { evalStage, oracleScores } from './eval.js';
import { pretrainStage } from './pretrain.js';
import { repairStage } from './repair.js';
import { resolveRun, runIdentity } from './runIdentity.js';
import { refLabel, runId, type RunSpec } from './runSpec.js';
import { sftStage } from './sft.js';
import type { Progress } from './stepLog.js';
import type { Store } from './store.js';
import type { SuspectTable } from './suspects.js';
import { visionStage } from './vision.js';

/**
 * One run → its record. `onSuspects` receives the rankings of the training examples by each
 * suspicion score the defense reported (none: not called), for the worker to export.
 */
export async function executeRun(r: RunSpec, store: Store, progress: Progress, onSuspects?: (tables: SuspectTable[]) => void): Promise<RunRecord> {
  const timings: Record<string, number> = {};
  const trainLog: Record<string, EpochLog[]> = {};
  const cached: Record<string, boolean> = {};
  const timed = async <T>(name: string, stage: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const out = await stage();
    timings[name] = (performance.now() - t0) / 1000;
    return out;
  };
  const rr = resolveRun(r);

  const ctx = await timed('data', async (): Promise<RunContext> => {
    progress({ stage: 'data' });
    const ds = await loadDataset(r);
    const toks = buildTokenizers(r, ds, rr);
    const mcfg = modelConfigFor(r, toks.run.size);
    const key = (stage: StageName, reads: Record<string, unknown>, undefended = false) =>
      hashOf({ code: stageCode(stage, undefended ? { files: rr.files, defense: { stage: 'none' } } : rr), ...reads });
    return { r, rr, store, progress, ds, toks, mcfg, maxText: mcfg.maxText, trainable: trainableOf(r), key };
  });
  const vision = r.exp.vision ? await timed('vision', () => visionStage(ctx)) : undefined;
  if (vision) [trainLog.vision, cached.vision] = [vision.log, vision.cached];
  const pre = await timed('pretrain', () => pretrainStage(ctx, vision));
  [trainLog.pretrain, cached.pretrain] = [pre.log, pre.cached];
  const sft = await timed('sft', () => sftStage(ctx, pre));
  [trainLog.sft, cached.sft] = [sft.log, sft.cached];
  if (sft.probe) {
    // The backdoored model BYE probes, when this run trained it, is plain SFT's time, not BYE's.
    [cached.probe, timings.probe] = [sft.probe.cached, sft.probe.seconds];
    timings.sft -= sft.probe.seconds;
  }
  if (onSuspects && sft.suspects.length > 0) onSuspects(sft.suspects);
  const defense = rr.defense;
  const final = defense.stage === 'post' ? await timed('repair', () => repairStage(ctx, defense, sft)) : sft;
  if (final !== sft) [trainLog.repair, cached.repair] = [final.log, final.cached];
  const ev = await timed('eval', () => {
    const out = evalStage(ctx, final.model, sft.poisoned);
    dispose(final.model);
    return out;
  });

  const info = engineInfo();
  return {
    id: runId(r),
    status: 'ok',
    task: r.task,
    model: r.model,
    attack: refLabel(r.attack),
    defense: refLabel(r.defense),
    defenseStage: defense.stage,
    seed: r.seed,
    metrics: ev.metrics,
    oracle: r.task === 'caption' ? oracleScores(ctx.ds) : undefined,
    attackParams: rr.attackParams,
    defenseParams: rr.defenseParams,
    target: sft.poisoned.target,
    poisonCount: sft.poisoned.indices.length,
    trainSize: sft.poisoned.examples.length,
    keys: { ...(vision ? { vision: vision.key } : {}), pretrain: pre.key, sft: sft.key },
    cached,
    suspicion: sft.suspicion,
    ...(sft.removal ? { removal: sft.removal } : {}),
    timings,
    trainLog,
    examples: ev.generations.slice(0, 8),
    provenance: {
      backend: info.backend,
      engineFixes: info.fixes,
      tfjs: info.tfjsVersion,
      node: process.version,
      ...runIdentity(r, rr),
      date: new Date().toISOString(),
    },
    config: { task: r.task, model: r.model, attack: r.attack, defense: r.defense, seed: r.seed, exp: r.exp },
  };
}
