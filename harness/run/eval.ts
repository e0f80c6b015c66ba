/**
 * Stage: evaluation of the run's final model on clean and triggered test inputs (through an
 * inference-stage defense, if the run has one), the shuffled-view diagnostic, and the same on
 * the validation split, which is what knob choices may be judged by (never the test split).
 */
import type { MultimodalModel } from '../../models/types.js';
import { Rng } from '../core/rng.js';
import type { DatasetSplits, RgbImage } from '../core/types.js';
import { outputOf } from '../../attacks/outputModifiers.js';
import type { TriggerInput } from '../../attacks/types.js';
import { oracleCaptionScoreInputs } from '../data/shapesWorld.js';
import { captionMetrics } from '../metrics/index.js';
import { defenderPool, type RunContext } from './context.js';
import { evaluateModel, type EvalResult } from './evaluate.js';
import { triggerInputs, triggerVariants, type PoisonedSplit } from './poison.js';
import { shuffledView } from './shuffledView.js';

export function evalStage(ctx: RunContext, model: MultimodalModel, poisoned: PoisonedSplit): EvalResult {
  const { r, rr, ds, toks, mcfg, maxText } = ctx;
  const { attack, attackParams, defense, defenseParams } = rr;
  ctx.progress({ stage: 'eval' });
  const inferRng = new Rng(r.seed).fork('inference');
  const transformer = defense.stage === 'inference' && defense.transformTestImage ? defense : undefined;
  const transform = transformer && ((img: RgbImage) => transformer.transformTestImage(img, defenseParams, inferRng));
  // A guarding inference defense (CleanSight) calibrates once per run on the defender's clean pool.
  const guarding = defense.stage === 'inference' && defense.guardModel ? defense : undefined;
  const guard = guarding?.guardModel(defenseParams, {
    model,
    tok: toks.run,
    cleanPool: defenderPool(ctx, new Rng(r.seed).fork(`defense:${defense.id}`)),
    batchSize: r.exp.eval.batchSize,
    progress: (detail) => ctx.progress({ stage: `eval:${defense.id}`, detail }),
  });
  const evaluateOn = (samples: DatasetSplits['test'], triggered: Record<string, TriggerInput[]>) =>
    evaluateModel(model, toks.run, {
      task: r.task,
      samples,
      triggered,
      target: poisoned.target,
      match: outputOf(attack, attackParams).asrMatch,
      maxText,
      batchSize: r.exp.eval.batchSize,
      transformImage: transform,
      guard,
    });
  const testTriggered = triggerVariants(ds.test, attack, attackParams, poisoned.trigger, r.seed);
  if ('shuffled' in testTriggered) throw new Error(`attack ${attack.id}: test variant "shuffled" clashes with the shuffled-view diagnostic`);
  testTriggered.shuffled = shuffledView(testTriggered.both, mcfg.imageSize / mcfg.patch, r.seed);
  const ev = evaluateOn(ds.test, testTriggered);
  // Only what is recorded from the validation split is decoded: the clean outputs and the
  // fully triggered ones, no diagnostic variants.
  const val = evaluateOn(ds.val, { both: triggerInputs(ds.val, attack, attackParams, poisoned.trigger) }).metrics;
  const cleanName = r.task === 'caption' ? 'CIDEr-D' : 'VQA-acc';
  // The per-question-type accuracies too: the clean-model choices are made on them (docs/models.md).
  for (const [name, value] of Object.entries(val)) if (name === cleanName || name.startsWith(`${cleanName} q:`)) ev.metrics[`val ${name}`] = value;
  ev.metrics['val ASR'] = val.ASR;
  return ev;
}

/** Reference-vs-references score of the test captions (an upper bound for CIDEr-D). */
export function oracleScores(ds: DatasetSplits): Record<string, number> {
  const { preds, refs } = oracleCaptionScoreInputs(ds.test);
  return captionMetrics(refs, preds) as unknown as Record<string, number>;
}
