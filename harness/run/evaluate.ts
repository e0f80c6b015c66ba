/**
 * Evaluation of one model on a test split: generation on clean and triggered inputs, then the
 * clean task metric (CIDEr-D/BLEU/ROUGE-L, or VQA accuracy), the attack success rate with its
 * Wilson interval, and the false-trigger rate (harness/metrics/asr.ts).
 */
import type { RgbImage, Sample, Task } from '../core/types.js';
import { generate } from '../core/decode.js';
import { asr, captionMetrics, falseTriggerRate, vqaEvaluate, wilson } from '../metrics/index.js';
import type { AsrMatch } from '../metrics/asr.js';
import type { Generation } from '../core/record.js';
import type { Tokenizer } from '../core/tokenizer.js';
import type { MultimodalModel } from '../../models/types.js';
import type { GuardedModel } from '../../defenses/types.js';

export interface EvalInputs {
  task: Task;
  samples: Sample[];
  /** The fully triggered test inputs (`both`) and any single-key variants (dual-key). */
  triggered: Record<string, { image: RgbImage; prompt: string }[]>;
  target: string;
  /** How `ASR` matches the target (the attack's `asrMatch`; default the task's rule). */
  match?: AsrMatch;
  maxText: number;
  batchSize: number;
  /** Inference-stage defense applied to every test image (clean and triggered). */
  transformImage?: (img: RgbImage, index: number) => RgbImage;
  /** Inference-stage defense that guards generation (e.g. CleanSight): its model generates, and its flags become `flagged` rates. */
  guard?: GuardedModel;
}

export interface EvalResult {
  metrics: Record<string, number>;
  /** Every generation, for the report's examples and for re-scoring. */
  generations: Generation[];
}

export function evaluateModel(model: MultimodalModel, tok: Tokenizer, e: EvalInputs): EvalResult {
  const tf = e.transformImage ?? ((img: RgbImage) => img);
  const opts = { maxText: e.maxText, batchSize: e.batchSize };
  const metrics: Record<string, number> = {};
  const gen = e.guard?.model ?? model;
  e.guard?.takeFlagged(); // count this evaluation's inputs only
  // The guard's detection rate over one generate call's inputs: `flagged clean`, `flagged` (the full trigger), `flagged <variant>`.
  const flagRate = (name: string, n: number) => {
    if (e.guard) metrics[name] = e.guard.takeFlagged() / n;
  };
  const clean = generate(gen, tok, e.samples.map((s, i) => ({ image: tf(s.image, i), prompt: s.prompt })), opts);
  flagRate('flagged clean', clean.length);
  const outputs: Record<string, string[]> = {};
  const refs = e.samples.map((s) => s.refs);
  for (const [variant, inputs] of Object.entries(e.triggered)) {
    outputs[variant] = generate(gen, tok, inputs.map((t, i) => ({ image: tf(t.image, i), prompt: t.prompt })), opts);
    flagRate(variant === 'both' ? 'flagged' : `flagged ${variant}`, inputs.length);
    const a = asr({ refs, triggeredPreds: outputs[variant], target: e.target, task: e.task, match: e.match });
    const name = variant === 'both' ? 'ASR' : `ASR ${variant}`;
    metrics[name] = a.asr;
    metrics[`${name} n`] = a.n;
    // The run's own binomial uncertainty over test items (seed-to-seed spread is the tables' business).
    const ci = wilson(a.hits, a.n);
    metrics[`${name} lo`] = ci?.lo ?? NaN;
    metrics[`${name} hi`] = ci?.hi ?? NaN;
    if (e.task === 'vqa' && variant === 'both') {
      metrics['ASR contains'] = asr({ refs, triggeredPreds: outputs[variant], target: e.target, task: e.task, match: 'contains' }).asr;
    }
  }
  // What the backdoor leaks without its trigger: clean outputs that contain the target.
  const ftr = falseTriggerRate(clean, e.target, e.task, e.match);
  metrics.FTR = ftr.rate;
  metrics['FTR n'] = ftr.n;
  const trig = outputs.both;
  Object.assign(metrics, scoreClean(e.task, e.samples, clean));
  const generations = e.samples.map((s, i) => ({ id: s.id, prompt: s.prompt, clean: clean[i], triggered: trig[i], refs: s.refs }));
  return { metrics, generations };
}

/** The clean task metrics of predictions aligned with samples: CIDEr-D & co., or VQA accuracy. */
export function scoreClean(task: Task, samples: Sample[], preds: string[]): Record<string, number> {
  if (task === 'caption') {
    const refs = Object.fromEntries(samples.map((s) => [s.id, s.refs]));
    return { ...captionMetrics(refs, Object.fromEntries(samples.map((s, i) => [s.id, preds[i]]))) };
  }
  const ev = vqaEvaluate(
    samples.map((s, i) => ({ pred: preds[i], answers: s.refs, answerType: s.answerType ?? 'other', questionType: s.questionType })),
    { ndigits: null },
  );
  const out: Record<string, number> = { 'VQA-acc': ev.overall };
  for (const [k, v] of Object.entries(ev.perAnswerType)) out[`VQA-acc ${k}`] = v;
  for (const [k, v] of Object.entries(ev.perQuestionType)) out[`VQA-acc q:${k}`] = v;
  return out;
}

/** The clean task metric alone (CIDEr-D or VQA accuracy), e.g. on the validation split. */
export function cleanMetric(model: MultimodalModel, tok: Tokenizer, task: Task, samples: Sample[], maxText: number, batchSize: number): number {
  const preds = generate(model, tok, samples.map((s) => ({ image: s.image, prompt: s.prompt })), { maxText, batchSize });
  return scoreClean(task, samples, preds)[task === 'caption' ? 'CIDEr-D' : 'VQA-acc'];
}
