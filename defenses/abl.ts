/**
 * Anti-Backdoor Learning (Li et al., NeurIPS 2021), a training-stage defense run as the whole
 * SFT stage (`sft`), in three phases on the (possibly poisoned) training split:
 *
 * 1. isolation: `isolationEpochs` of SFT with the local gradient ascent (LGA) loss per batch,
 *    sign(L − γ)·L with L the batch's token cross-entropy: descend while L > γ, ascend when it
 *    falls below, so clean examples hover at γ while the easily learned backdoor examples fall
 *    far below. Then score every example by its loss (ctx.perSampleLoss) and isolate the
 *    `isolationFraction` with the lowest loss (`ablIsolate`);
 * 2. training: the rest of the SFT epochs (ctx.epochs − isolationEpochs) of plain SFT on the
 *    examples not isolated;
 * 3. unlearning: `unlearnEpochs` of gradient ascent on the isolated examples (loss = −CE) at
 *    ctx.lr × `unlearnLrFactor`.
 *
 * Defaults and their scaling:
 * - isolationEpochs 2: BackdoorBench isolates after 20 of 100 epochs (config/defense/abl:
 *   tuning_epochs 20; the ABL code's default is 10), i.e. the first 10–20% of training;
 *   scaled to our 6-epoch SFT from a clean pre-trained model, where a PyTorch prototype saw
 *   the backdoor's signal from epoch 2 on. The SFT budget is kept: isolation counts towards
 *   ctx.epochs (clipped to it), so ABL trains as many epochs as `none`, plus the unlearning.
 * - γ = 0.5, as ABL and BackdoorBench (gamma 0.5). Their L is a 10-class cross-entropy
 *   (2.3 nats at chance); ours is a per-token CE over the vocabulary, but on the same scale
 *   where it matters: clean training ends near 0.5 nats/token for VQA and 0.7 for captions
 *   (their five references per image keep the CE from reaching 0; last-epoch losses of
 *   6-epoch trainings of the default model seen in this repository's scratch logs), while a
 *   fixed target phrase is memorised to near 0.
 *   So γ = 0.5 sits at or just under the clean floor and well above the poisons' loss.
 * - isolationFraction 0.01 (BackdoorBench isolation_ratio 0.01): at our default 5% poison
 *   rate the isolated set is a fifth of the poisons, as in ABL's 1% of a 10% poison.
 *   At least one example is isolated; the count is ⌊fraction · n⌋ as in BackdoorBench.
 * - unlearnEpochs 2: BackdoorBench unlearns for 20 of its 100 epochs; 20% of our 6 epochs,
 *   rounded up. Note that 1% of 3000 examples is a single batch, so this is two optimizer steps.
 * - unlearnLrFactor 0.2: ABL unlearns at a small rate (5e-4 after 0.1; BackdoorBench 1e-4
 *   after 0.01–0.001, both SGD). Those ratios (1/10–1/200) do not carry over to Adam, whose step is
 *   ≈ lr whatever the gradient's scale: over a couple of steps they would change nothing.
 *   lr/5 is a guess to be settled by the validation sweep.
 *
 * The per-example losses after isolation are the defense's poison scores (low = suspected):
 * `ctx.reportScores` receives them (negated) for the AUROC of its isolation.
 */
import { z } from 'zod';
import { tf } from '../harness/core/engine.js';
import type { TrainExample } from '../harness/core/batch.js';
import type { EpochLog } from '../harness/core/record.js';
import { defaultLoss, type BatchContext, type TrainingHook } from '../harness/core/training.js';
import type { SftDefense, SftContext } from './types.js';

export const ablSchema = z
  .object({
    isolationEpochs: z.number().int().min(1).default(2),
    /** γ of the LGA loss, in nats per response token. */
    gamma: z.number().min(0).default(0.5),
    /** Fraction of the training split isolated as suspected poisons (lowest loss). */
    isolationFraction: z.number().gt(0).max(0.5).default(0.01),
    unlearnEpochs: z.number().int().min(0).default(2),
    /** Unlearning learning rate as a fraction of the SFT learning rate. */
    unlearnLrFactor: z.number().gt(0).max(1).default(0.2),
  })
  .strict();
export type AblParams = z.infer<typeof ablSchema>;

/** LGA loss sign(L − γ)·L on a batch, L = the batch's token cross-entropy. */
export function lgaLoss(ctx: BatchContext, gamma: number): tf.Scalar {
  return tf.tidy(() => {
    const ce = defaultLoss(ctx);
    return tf.mul(tf.sign(tf.sub(ce, gamma)), ce) as tf.Scalar;
  });
}

/** Gradient-ascent loss of the unlearning phase: −CE. */
export function unlearnLoss(ctx: BatchContext): tf.Scalar {
  return tf.tidy(() => tf.neg(defaultLoss(ctx)) as tf.Scalar);
}

/**
 * ABL's isolation phase, shared with `remove`'s probe: `epochs` of SFT on every example with
 * `hook` (none when 0), then each example's loss, reported as the suspicion score `name` at that
 * epoch (negated: low loss = suspect) and returned.
 */
export function lossProbe(ctx: SftContext, epochs: number, hook: TrainingHook | undefined, name: string): { logs: EpochLog[]; losses: Float32Array } {
  const logs = epochs > 0 ? ctx.train(ctx.model, ctx.examples, { epochs, lr: ctx.lr, hook }) : [];
  const losses = ctx.perSampleLoss(ctx.model, ctx.examples);
  ctx.reportScores?.(name, epochs, ctx.examples.map((e) => e.id), losses.map((l) => -l));
  return { logs, losses };
}

/** Example indices in increasing order of loss (ties by index): ABL's suspicion ranking. */
export function ablRanking(losses: ArrayLike<number>): number[] {
  return Array.from({ length: losses.length }, (_, i) => i).sort((a, b) => losses[a] - losses[b] || a - b);
}

/** The isolated examples: the max(1, ⌊fraction·n⌋) lowest-loss indices, lowest first. */
export function ablIsolate(losses: ArrayLike<number>, fraction: number): number[] {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`ablIsolate: fraction must be in (0, 1] (got ${fraction})`);
  if (losses.length === 0) return [];
  for (let i = 0; i < losses.length; i++) if (Number.isNaN(losses[i])) throw new Error(`ablIsolate: loss ${i} is NaN`);
  return ablRanking(losses).slice(0, Math.max(1, Math.floor(fraction * losses.length)));
}

export const abl: SftDefense<AblParams> = {
  id: 'abl',
  stage: 'training',
  description: 'anti-backdoor learning: LGA isolation of low-loss examples, training on the rest, unlearning the isolated',
  schema: ablSchema,
  sft(p, ctx) {
    const logs: EpochLog[] = [];
    const n = ctx.examples.length;
    const isolationEpochs = Math.min(p.isolationEpochs, ctx.epochs);
    if (isolationEpochs < p.isolationEpochs) ctx.progress(`isolation clipped to the ${ctx.epochs} SFT epochs`);
    if (isolationEpochs > 0) ctx.progress(`phase 1: isolation, ${isolationEpochs} epochs of LGA (γ = ${p.gamma}) on ${n} examples`);
    const probe = lossProbe(ctx, isolationEpochs, { loss: (b) => lgaLoss(b, p.gamma) }, 'abl.loss');
    logs.push(...probe.logs);
    const losses = probe.losses;
    const isolated = ablIsolate(losses, p.isolationFraction);
    const isolatedSet = new Set(isolated);
    const rest: TrainExample[] = ctx.examples.filter((_, i) => !isolatedSet.has(i));
    const threshold = isolated.length ? losses[isolated[isolated.length - 1]] : NaN;
    ctx.progress(`isolated ${isolated.length} of ${n} examples (loss ≤ ${threshold.toFixed(4)})`);
    const restEpochs = ctx.epochs - isolationEpochs;
    if (restEpochs > 0 && rest.length > 0) {
      ctx.progress(`phase 2: ${restEpochs} epochs of SFT on the ${rest.length} remaining examples`);
      logs.push(...ctx.train(ctx.model, rest, { epochs: restEpochs, lr: ctx.lr }));
    }
    if (p.unlearnEpochs > 0 && isolated.length > 0) {
      const lr = ctx.lr * p.unlearnLrFactor;
      ctx.progress(`phase 3: unlearning, ${p.unlearnEpochs} epochs of gradient ascent on ${isolated.length} examples (lr ${lr})`);
      logs.push(...ctx.train(ctx.model, isolated.map((i) => ctx.examples[i]), { epochs: p.unlearnEpochs, lr, hook: { loss: unlearnLoss } }));
    }
    return logs;
  },
};
