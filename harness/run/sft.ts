/**
 * Stage: the poisoned split (cheap and deterministic, so recomputed rather than cached), then
 * SFT on it from the pre-trained model: the backdoored model (no defense at training time) or
 * a defended one (the defense's training hook, or its own SFT). Every post-training and
 * inference defense of an attack shares its backdoored model.
 */
import { createModel } from '../../models/registry.js';
import type { ModelConfig, MultimodalModel } from '../../models/types.js';
import type { RunRecord } from '../core/record.js';
import { stableStringify } from '../core/hash.js';
import { Rng } from '../core/rng.js';
import { perSampleLoss, perSampleScore } from '../core/training.js';
import { cachedModel, dispose, type CachedModel, type SavedSplit } from './cachedModel.js';
import { copyWeights, loadVisionTower } from './checkpoint.js';
import { fineTune, type RunContext } from './context.js';
import { withoutGroundTruth } from './examples.js';
import { poisonSplit, type PoisonedSplit } from './poison.js';
import { removalQuality, scoreCollector, suspectTables, suspicionAuroc, type SuspectTable } from './suspects.js';

export interface SftStage extends CachedModel {
  key: string;
  /** The store's stage folder: 'backdoored', or 'defended' by a training-time defense. */
  stage: string;
  poisoned: PoisonedSplit;
  /** The training examples ranked by each suspicion score the defense reported. */
  suspects: SuspectTable[];
  suspicion: RunRecord['suspicion'];
  removal?: RunRecord['removal'];
  /**
   * The backdoored model a probing defense read (BYE): loaded, or trained inside this stage,
   * with its seconds, so the record can keep the probe's time apart from the defense's own
   * SFT (`mbb estimate` costs each by it).
   */
  probe?: { cached: boolean; seconds: number };
}

/** A new model of `cfg`: `pre`'s vision tower, everything else freshly initialised (SftContext.freshModel). */
export function freshOnTower(cfg: ModelConfig, pre: MultimodalModel): MultimodalModel {
  const m = createModel(cfg);
  loadVisionTower(m, Object.fromEntries(pre.params.vars), 'pre-trained model');
  return m;
}

/** SFT from the pre-trained model `pre`, which is freed once copied. */
export async function sftStage(ctx: RunContext, pre: { key: string; model: MultimodalModel }): Promise<SftStage> {
  const { r, rr, toks, mcfg, maxText } = ctx;
  const { attack, attackParams, defense, defenseParams } = rr;
  const tok = toks.run;
  const poisoned = poisonSplit(ctx.ds.train, r.task, attack, attackParams, r.seed, r.exp.data.imageSize, maxText);

  const training = defense.stage === 'training' ? defense : undefined;
  const atTraining = training !== undefined;
  const scores = scoreCollector();
  const hook = training?.trainingHook?.(defenseParams, { task: r.task, model: mcfg, reportScores: scores.sink });
  const reads = (defended: boolean) => ({
    pretrainKey: pre.key,
    attack: { id: attack.id, params: attackParams },
    sft: r.exp.sft,
    defense: defended ? { id: defense.id, params: defenseParams } : null,
  });
  const key = ctx.key('sft', reads(atTraining));
  const stageDir = atTraining ? 'defended' : 'backdoored';
  const { indices, negativeIndices, trigger, target } = poisoned;
  const split = { indices, negativeIndices, trigger, target };
  const restorePretrained = (m: MultimodalModel) => copyWeights(m, Object.fromEntries(pre.model.params.vars), 'pre-trained model');
  const fromPretrained = () => {
    const model = createModel(mcfg);
    restorePretrained(model);
    return model;
  };
  // SFT on the poisoned split with no defense: the backdoored model.
  const plainSft = () => {
    const model = fromPretrained();
    return { model, log: fineTune(ctx, model, poisoned.examples, { ...r.exp.sft, seed: r.seed + 1, stage: 'sft' }), analysis: {}, split };
  };
  // A defense whose probe is the plain SFT (BYE) reads the backdoored model's cache entry,
  // trained here if no run has yet: the same model, trained once for the whole grid.
  const backdooredKey = ctx.key('sft', reads(false), true);
  const t0 = performance.now();
  const probe =
    training?.sft && training.probesBackdoored?.(defenseParams) && !ctx.store.has(stageDir, key)
      ? await cachedModel(ctx.store, 'backdoored', backdooredKey, plainSft, tok)
      : undefined;
  const probeSeconds = (performance.now() - t0) / 1000;
  if (probe) checkSavedSplit(probe.split, poisoned, ctx.store.dir('backdoored', backdooredKey));
  const sft = await cachedModel(
    ctx.store,
    stageDir,
    key,
    () => {
      if (!training) return plainSft();
      const model = fromPretrained();
      const stage = `sft+${defense.id}`;
      let removed: string[] | undefined;
      const log = training.sft
        ? training.sft(defenseParams, {
            model,
            tok,
            // The defense sees the examples, never their ground truth (kept here for the record's scores).
            examples: withoutGroundTruth(poisoned.examples),
            epochs: r.exp.sft.epochs,
            lr: r.exp.sft.lr,
            train: (m, ex, o) => fineTune(ctx, m, ex, { ...o, seed: r.seed + 1, stage }),
            perSampleLoss: (m, ex) => perSampleLoss(m, tok, ex, maxText, r.exp.eval.batchSize),
            perSampleScore: (m, ex, score) => perSampleScore(m, tok, ex, maxText, r.exp.eval.batchSize, score),
            rng: new Rng(r.seed).fork(`defense:${defense.id}`),
            progress: (detail) => ctx.progress({ stage, detail }),
            reportScores: scores.sink,
            reportRemoved: (ids) => (removed = [...ids]),
            freshModel: () => freshOnTower(mcfg, pre.model),
            restorePretrained,
            backdoored: probe?.model,
          })
        : fineTune(ctx, model, poisoned.examples, { ...r.exp.sft, hook, seed: r.seed + 1, stage });
      return { model, log, analysis: scores.analysis, split, removed };
    },
    tok,
  );
  if (probe) dispose(probe.model);
  dispose(pre.model);
  checkSavedSplit(sft.split, poisoned, ctx.store.dir(stageDir, key));
  const suspects = suspectTables(sft.analysis, poisoned.examples);
  const removal = sft.removed && removalQuality(sft.removed, poisoned.examples);
  return {
    ...sft,
    key,
    stage: stageDir,
    poisoned,
    suspects,
    suspicion: suspicionAuroc(suspects),
    removal,
    ...(probe ? { probe: { cached: probe.cached, seconds: probeSeconds } } : {}),
  };
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
