/**
 * One run of the grid, as a chain of cached stages:
 *   dataset → [vision tower pre-training (per tower size × seed)] → clean pre-training
 *   (per model × task × seed) → poisoned split → backdoored model
 *   (SFT with no defense) or defended model (SFT with a training-time defense) → evaluation.
 * Each model stage is content-addressed in the Store, so a killed grid resumes and every
 * defense reuses the same pre-trained model.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TriggerInput } from '../../attacks/types.js';
import { createModel } from '../../models/registry.js';
import type { ModelConfig, MultimodalModel } from '../../models/types.js';
import { loadCheckpoint, saveCheckpoint, copyWeights } from './checkpoint.js';
import { loadSplits, vocabMinCount } from '../data/load.js';
import { oracleCaptionScoreInputs } from '../data/shapesWorld.js';
import type { DatasetSplits } from '../core/types.js';
import { engineInfo, tf } from '../core/engine.js';
import { cleanMetric, evaluateModel } from './evaluate.js';
import { refLabel, runId, type RunSpec } from './runSpec.js';
import { captionMetrics } from '../metrics/index.js';
import { cleanExamples, poisonSplit, resolveTarget, triggerInputs, triggerVariants, type PoisonedSplit } from './poison.js';
import { Rng } from '../core/rng.js';
import { shuffledView } from './shuffledView.js';
import { cachedVisionTower, loadVisionTower, pretrainVision, vitSizes, type VisionTower } from './vision.js';
import { outsideVisionTower } from '../../models/layers.js';
import { imageDecoderFor, resolveRun, runIdentity, stageCode, type ResolvedRun } from './runIdentity.js';
import { hashOf, stableStringify } from '../core/hash.js';
import { Store } from './store.js';
import { Tokenizer } from '../core/tokenizer.js';
import type { EpochLog, RunRecord } from '../core/record.js';
import { removalQuality, scoreCollector, suspectTables, suspicionAuroc, type StageAnalysis, type SuspectTable } from './suspects.js';
import { perSampleLoss, train, type TrainingHook } from '../core/training.js';
import type { TrainExample } from '../core/batch.js';

export type Progress = (msg: { stage: string; detail?: string }) => void;

export async function loadDataset(r: RunSpec): Promise<DatasetSplits> {
  const ds = await loadSplits(r.exp.data, r.task, r.seed);
  if (r.exp.eval.limit > 0) ds.test = ds.test.slice(0, r.exp.eval.limit);
  return ds;
}

/**
 * Vocabularies: the pre-training's, from the clean training texts alone plus free reserved
 * slots (so it and every initial weight depend on the data, not on the grid), and the run's,
 * with its target and trigger words bound to those slots (tokenizer.ts). On real datasets
 * training words rarer than data.minCount map to the unknown token.
 */
export function buildTokenizers(r: RunSpec, ds: DatasetSplits, rr: ResolvedRun): { pretrain: Tokenizer; run: Tokenizer } {
  const pretrain = Tokenizer.fromTexts(ds.train.flatMap((s) => [s.prompt, ...s.refs]), vocabMinCount(r.exp.data), r.exp.text.reservedWords);
  const own = [resolveTarget(rr.attackParams, r.task), ...(rr.attack.vocabulary?.(rr.attackParams) ?? [])];
  return { pretrain, run: pretrain.bind(own) };
}

export function modelConfigFor(r: RunSpec, vocabSize: number): ModelConfig {
  const m = r.exp.model;
  return {
    family: r.model,
    imageSize: r.exp.data.imageSize,
    ...m,
    vocabSize,
    maxText: maxTextFor(r),
    seed: r.seed,
  };
}

export function maxTextFor(r: RunSpec): number {
  return r.task === 'caption' ? r.exp.text.captionMaxText : r.exp.text.vqaMaxText;
}

function stepLogger(progress: Progress, stage: string, epochs: number) {
  return (i: { epoch: number; step: number; steps: number; loss: number }) => {
    if (i.step % 10 === 0 || i.step === i.steps - 1) {
      progress({ stage, detail: `epoch ${i.epoch + 1}/${epochs} step ${i.step + 1}/${i.steps} loss ${i.loss.toFixed(3)}` });
    }
  };
}

/** What an SFT stage was trained on, saved with it: the poisoned indices and the trigger asset. */
type SavedSplit = Pick<PoisonedSplit, 'indices' | 'negativeIndices' | 'trigger' | 'target'>;

interface StageData {
  log: EpochLog[];
  analysis: StageAnalysis;
  split?: SavedSplit;
  /** Ids of the training examples a defense removed before training (SftContext.reportRemoved). */
  removed?: string[];
}

/** Load a cached model stage (with its training log, analysis data and poisoned split), or train and cache it. */
async function cachedModel(
  store: Store,
  stage: string,
  key: string,
  make: () => { model: MultimodalModel } & Partial<StageData> & { log: EpochLog[] },
  tok: Tokenizer,
): Promise<{ model: MultimodalModel; cached: boolean } & StageData> {
  if (store.has(stage, key)) {
    const dir = store.dir(stage, key);
    const { model } = loadCheckpoint(dir);
    const data = JSON.parse(readFileSync(join(dir, 'stage.json'), 'utf8')) as StageData;
    return { model, ...data, cached: true };
  }
  const { model, log, analysis = {}, split, removed } = make();
  await store.put(stage, key, async (dir) => {
    await saveCheckpoint(dir, model, tok);
    writeFileSync(join(dir, 'stage.json'), JSON.stringify({ log, analysis, split, removed }));
  });
  return { model, log, analysis, split, removed, cached: false };
}

/**
 * The poisoned split a cached SFT stage was trained on must be the one this run recomputes
 * (same indices, same trigger): test-time triggering uses it. A mismatch means the cache is
 * stale in a way its key missed; it is an error, not a silent mix of two triggers.
 */
function checkSavedSplit(saved: SavedSplit | undefined, split: PoisonedSplit, where: string): void {
  if (!saved) return; // an entry written before splits were saved
  const fields = ['indices', 'negativeIndices', 'trigger', 'target'] as const;
  const differs = fields.filter((f) => stableStringify(saved[f]) !== stableStringify(split[f]));
  if (differs.length) {
    throw new Error(`${where}: the cached model was trained on another poisoned split (${differs.join(', ')} differ); delete that cache entry to retrain it`);
  }
}

function dispose(model: MultimodalModel): void {
  model.params.dispose();
}

/**
 * One run → its record. `onSuspects` receives the rankings of the training examples by each
 * suspicion score the defense reported (none: not called), for the worker to export.
 */
export async function executeRun(
  r: RunSpec,
  store: Store,
  progress: Progress,
  onSuspects?: (tables: SuspectTable[]) => void,
): Promise<RunRecord> {
  const timings: Record<string, number> = {};
  const trainLog: Record<string, EpochLog[]> = {};
  const t = (name: string, t0: number) => (timings[name] = (performance.now() - t0) / 1000);
  const rr = resolveRun(r);
  const { attack, attackParams, defense, defenseParams } = rr;

  let t0 = performance.now();
  progress({ stage: 'data' });
  const ds = await loadDataset(r);
  const toks = buildTokenizers(r, ds, rr);
  const tok = toks.run;
  const mcfg = modelConfigFor(r, tok.size);
  const maxText = mcfg.maxText;
  t('data', t0);

  // Stage: the vision tower's own pre-training, when configured: shared by every task, family,
  // attack and defense of this seed and tower size. A frozen tower trains no further.
  let vision: { key: string; freeze: boolean; tower: VisionTower & { cached: boolean } } | undefined;
  if (r.exp.vision) {
    t0 = performance.now();
    const { freeze, ...settings } = r.exp.vision;
    const sizes = vitSizes(mcfg);
    const key = hashOf({ code: stageCode('vision', rr), sizes, vision: settings, seed: r.seed });
    const tower = await cachedVisionTower(store, key, () => pretrainVision(sizes, settings, r.seed, stepLogger(progress, 'vision', settings.epochs)));
    vision = { key, freeze, tower };
    trainLog.vision = tower.log;
    t('vision', t0);
  }
  const trainable = vision?.freeze ? outsideVisionTower : undefined;

  // Stage: clean pre-training, shared by every attack and defense of this model × task × seed.
  // Keyed by what pre-training reads, never by the grid's attack or defense lists.
  const pretrainKey = hashOf({
    code: stageCode('pretrain', rr),
    task: r.task,
    data: r.exp.data,
    decoder: imageDecoderFor(r.exp.data),
    model: mcfg,
    pretrain: r.exp.pretrain,
    vocab: toks.pretrain.words,
    maxText,
    vision: vision && { key: vision.key, freeze: vision.freeze },
  });
  t0 = performance.now();
  const pre = await cachedModel(
    store,
    'pretrain',
    pretrainKey,
    () => {
      const model = createModel(mcfg);
      if (vision) loadVisionTower(model, vision.tower.weights, 'vision stage');
      const log = train(model, toks.pretrain, cleanExamples(ds.train, r.task), {
        ...r.exp.pretrain,
        seed: r.seed,
        maxText,
        trainable,
        onStep: stepLogger(progress, 'pretrain', r.exp.pretrain.epochs),
      });
      return { model, log };
    },
    toks.pretrain,
  );
  if (vision) tf.dispose(Object.values(vision.tower.weights));
  trainLog.pretrain = pre.log;
  const cached: Record<string, boolean> = { ...(vision ? { vision: vision.tower.cached } : {}), pretrain: pre.cached };
  t('pretrain', t0);

  // Stage: poisoned split (cheap and deterministic, so recomputed rather than cached).
  const poisoned = poisonSplit(ds.train, r.task, attack, attackParams, r.seed, r.exp.data.imageSize);

  // Stage: SFT on the poisoned split, with the defense's training hook if it has one.
  const atTraining = defense.stage === 'training';
  const scores = scoreCollector();
  const hook = atTraining && defense.trainingHook ? defense.trainingHook(defenseParams, { task: r.task, model: mcfg, reportScores: scores.sink }) : undefined;
  const sftKey = hashOf({
    code: stageCode('sft', rr),
    pretrainKey,
    attack: { id: attack.id, params: attackParams },
    sft: r.exp.sft,
    defense: atTraining ? { id: defense.id, params: defenseParams } : null,
  });
  const fineTune = (model: MultimodalModel, examples: TrainExample[], o: { epochs: number; lr: number; hook?: TrainingHook; seed: number; stage: string }) =>
    train(model, tok, examples, {
      ...r.exp.sft,
      epochs: o.epochs,
      lr: o.lr,
      seed: o.seed,
      maxText,
      trainable,
      hook: o.hook,
      onStep: stepLogger(progress, o.stage, o.epochs),
    });
  t0 = performance.now();
  let sft = await cachedModel(
    store,
    atTraining ? 'defended' : 'backdoored',
    sftKey,
    () => {
      const model = createModel(mcfg);
      copyWeights(model, Object.fromEntries(pre.model.params.vars), 'pre-trained model');
      const stage = atTraining ? `sft+${defense.id}` : 'sft';
      let removed: string[] | undefined;
      const log = defense.sft
        ? defense.sft(defenseParams, {
            model,
            tok,
            examples: poisoned.examples,
            epochs: r.exp.sft.epochs,
            lr: r.exp.sft.lr,
            train: (m, ex, o) => fineTune(m, ex, { ...o, seed: r.seed + 1, stage }),
            perSampleLoss: (m, ex) => perSampleLoss(m, tok, ex, maxText, r.exp.eval.batchSize),
            rng: new Rng(r.seed).fork(`defense:${defense.id}`),
            progress: (detail) => progress({ stage, detail }),
            reportScores: scores.sink,
            reportRemoved: (ids) => (removed = [...ids]),
          })
        : fineTune(model, poisoned.examples, { ...r.exp.sft, hook, seed: r.seed + 1, stage });
      const { indices, negativeIndices, trigger, target } = poisoned;
      return { model, log, analysis: scores.analysis, split: { indices, negativeIndices, trigger, target }, removed };
    },
    tok,
  );
  dispose(pre.model);
  checkSavedSplit(sft.split, poisoned, store.dir(atTraining ? 'defended' : 'backdoored', sftKey));
  trainLog.sft = sft.log;
  cached.sft = sft.cached;
  const suspects = suspectTables(sft.analysis, poisoned.examples);
  const suspicion = suspicionAuroc(suspects);
  const removal = sft.removed && removalQuality(sft.removed, poisoned.examples);
  if (onSuspects && suspects.length > 0) onSuspects(suspects);
  t('sft', t0);

  // Stage: post-training repair of the backdoored model with the defender's clean data.
  if (defense.stage === 'post') {
    t0 = performance.now();
    const repairKey = hashOf({ code: stageCode('repair', rr), sftKey, defense: { id: defense.id, params: defenseParams } });
    const backdoored = sft.model;
    sft = await cachedModel(
      store,
      'defended',
      repairKey,
      () => {
        const rng = new Rng(r.seed).fork(`defense:${defense.id}`);
        const pool = defenderPool(ds, r, rr, rng);
        const repairLog: EpochLog[] = [];
        const model = defense.repair!(defenseParams, {
          task: r.task,
          model: backdoored,
          tok,
          cleanPool: pool,
          train: (m, ex, o) => {
            const log = fineTune(m, ex, { ...o, seed: r.seed + 2, stage: `repair:${defense.id}` });
            repairLog.push(...log);
            return log;
          },
          validate: (m) => cleanMetric(m, tok, r.task, ds.val, maxText, r.exp.eval.batchSize),
          createModel: () => createModel(mcfg),
          sftLr: r.exp.sft.lr,
          rng,
          progress: (detail) => progress({ stage: `repair:${defense.id}`, detail }),
        });
        if (model !== backdoored) dispose(backdoored);
        return { model, log: repairLog };
      },
      tok,
    );
    if (sft.cached) dispose(backdoored);
    trainLog.repair = sft.log;
    cached.repair = sft.cached;
    t('repair', t0);
  }

  // Stage: evaluation on clean and triggered test inputs.
  t0 = performance.now();
  progress({ stage: 'eval' });
  const inferRng = new Rng(r.seed).fork('inference');
  const transform = defense.transformTestImage
    ? (img: Parameters<NonNullable<typeof defense.transformTestImage>>[0]) => defense.transformTestImage!(img, defenseParams, inferRng)
    : undefined;
  // A guarding inference defense (CleanSight) calibrates once per run on the defender's clean pool.
  const guard = defense.guardModel?.(defenseParams, {
    model: sft.model,
    tok,
    cleanPool: defenderPool(ds, r, rr, new Rng(r.seed).fork(`defense:${defense.id}`)),
    batchSize: r.exp.eval.batchSize,
    progress: (detail) => progress({ stage: `eval:${defense.id}`, detail }),
  });
  const evaluateOn = (samples: DatasetSplits['test'], triggered: Record<string, TriggerInput[]>) =>
    evaluateModel(sft.model, tok, {
      task: r.task,
      samples,
      triggered,
      target: poisoned.target,
      match: attack.asrMatch,
      maxText,
      batchSize: r.exp.eval.batchSize,
      transformImage: transform,
      guard,
    });
  const testTriggered = triggerVariants(ds.test, attack, attackParams, poisoned.trigger, r.seed);
  if ('shuffled' in testTriggered) throw new Error(`attack ${attack.id}: test variant "shuffled" clashes with the shuffled-view diagnostic`);
  testTriggered.shuffled = shuffledView(testTriggered.both, mcfg.imageSize / mcfg.patch, r.seed);
  const ev = evaluateOn(ds.test, testTriggered);
  // The same evaluation on the validation split: what model, attack and knob choices may be
  // judged by (never the test split), e.g. `mbb sweep`. Only what is recorded from it is
  // decoded: the clean outputs and the fully triggered ones, no diagnostic variants.
  const val = evaluateOn(ds.val, { both: triggerInputs(ds.val, attack, attackParams, poisoned.trigger) }).metrics;
  const cleanName = r.task === 'caption' ? 'CIDEr-D' : 'VQA-acc';
  ev.metrics[`val ${cleanName}`] = val[cleanName];
  ev.metrics['val ASR'] = val.ASR;
  dispose(sft.model);
  t('eval', t0);

  const oracle = r.task === 'caption' ? oracleScores(ds) : undefined;
  const info = engineInfo();
  const identity = runIdentity(r, rr);
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
    oracle,
    attackParams,
    defenseParams,
    target: poisoned.target,
    poisonCount: poisoned.indices.length,
    trainSize: poisoned.examples.length,
    keys: { ...(vision ? { vision: vision.key } : {}), pretrain: pretrainKey, sft: sftKey },
    cached,
    suspicion,
    ...(removal ? { removal } : {}),
    timings,
    trainLog,
    examples: ev.generations.slice(0, 8),
    provenance: {
      backend: info.backend,
      engineFixes: info.fixes,
      tfjs: info.tfjsVersion,
      node: process.version,
      ...identity,
      date: new Date().toISOString(),
    },
    config: { task: r.task, model: r.model, attack: r.attack, defense: r.defense, seed: r.seed, exp: r.exp },
  };
}

/** The clean training examples a post or guarding inference defense holds: `cleanFraction` (default 5%) of the split, seeded. */
function defenderPool(ds: DatasetSplits, r: RunSpec, rr: ResolvedRun, rng: Rng): TrainExample[] {
  const clean = cleanExamples(ds.train, r.task);
  const fraction = rr.defense.cleanFraction?.(rr.defenseParams) ?? 0.05;
  return rng.fork('clean-pool').sample(clean.length, Math.max(1, Math.round(fraction * clean.length))).map((i) => clean[i]);
}

function oracleScores(ds: DatasetSplits): Record<string, number> {
  const { preds, refs } = oracleCaptionScoreInputs(ds.test);
  return captionMetrics(refs, preds) as unknown as Record<string, number>;
}

