/**
 * PCR (Fang et al., 2026): patch augmentation + cross-view regularisation + entropy constraint.
 * Per batch, both views (x and x̃ = PatchAug(x)) go through the model in one forward pass.
 *   L = CE(x) [+ CE(x̃)] + λ_cv·L_cv + λ_ent·L_ent
 *   D_i   = mean over response tokens of JS(p(·|x) ‖ p(·|x̃))
 *   L_cv  = −mean_{i∈S} min(D_i, m), S = the fraction q of the batch with the lowest D_i
 *           (abnormally invariant, likely poisoned)
 *   L_ent = mean over response tokens of max(0, H_min − H(p(·|x̃))) + max(0, H(p(·|x)) − H_max)
 * docs/defenses.md states these definitions. The defaults below start from a PyTorch prototype
 * of this setup (shuffle view on the model's patch grid, q = 1); λ_cv and viewFraction come from the
 * validation sweep (`mbb sweep --cross --vary lambdaCv=1,2,4,8 --vary viewFraction=0.5,1`,
 * caption, llava, BadNets 5%, 3 seeds, default profile) by the rule stated before it ran
 * (harness/exec/sweep.ts): the lowest validation ASR whose validation CIDEr-D keeps ≥ 95% of no
 * defense's. Only λ_cv = 1 with half the views kept 95% (val ASR 88.9% vs 97.7% undefended,
 * val CIDEr-D 2.357 vs 2.471); stronger settings cut ASR further at a clean cost (λ_cv = 4:
 * 53.6% at 92%). Other knobs were swept one at a time and changed nothing (q, λ_ent). The ablations are presets of this one defense with other
 * defaults (`pcrPreset`): `pcr-aug` (the patch view only: CE on both views, λ_cv = λ_ent = 0)
 * and `pcr-cv` (no entropy term: λ_ent = 0).
 */
import { z } from 'zod';
import { tf } from '../harness/core/engine.js';
import { imagesToTensor } from '../harness/core/batch.js';
import { crossEntropy } from '../harness/core/losses.js';
import type { BatchContext, TrainingHook } from '../harness/core/training.js';
import { patchAug } from '../harness/core/patchAug.js';
import type { HookDefense } from './types.js';

/** Knob values of the defaults below; a preset (`pcrPreset`) overrides some of them. */
export interface PcrDefaults {
  grid: number;
  shuffle: number;
  noiseFraction: number;
  noiseSigma: number;
  maskFraction: number;
  lambdaCv: number;
  lambdaEnt: number;
  margin: number;
  q: number;
  hMin: number;
  hMax: number;
  ceViews: 'orig' | 'both';
  viewFraction: number;
}

export const PCR_DEFAULTS: PcrDefaults = {
  grid: 0,
  shuffle: 1,
  noiseFraction: 0,
  noiseSigma: 0.2,
  maskFraction: 0,
  lambdaCv: 1,
  lambdaEnt: 0.5,
  margin: 0.5,
  q: 1,
  hMin: 0.5,
  hMax: 2.5,
  ceViews: 'orig',
  viewFraction: 0.5,
};

/** PCR's parameter schema with the given defaults (the ranges are the same for every preset). */
export function makePcrSchema(over: Partial<PcrDefaults> = {}) {
  const d = { ...PCR_DEFAULTS, ...over };
  return z
    .object({
      /** Grid side g of the patch view; 0 = the model's own patch grid. */
      grid: z.number().int().min(0).max(64).default(d.grid),
      shuffle: z.number().min(0).max(1).default(d.shuffle),
      noiseFraction: z.number().min(0).max(1).default(d.noiseFraction),
      noiseSigma: z.number().min(0).max(1).default(d.noiseSigma),
      maskFraction: z.number().min(0).max(1).default(d.maskFraction),
      lambdaCv: z.number().min(0).default(d.lambdaCv),
      lambdaEnt: z.number().min(0).default(d.lambdaEnt),
      /** Margin m on D_i (JS divergence in nats, at most ln 2). */
      margin: z.number().positive().default(d.margin),
      /** Fraction q of the batch treated as suspiciously invariant. */
      q: z.number().gt(0).max(1).default(d.q),
      hMin: z.number().min(0).default(d.hMin),
      hMax: z.number().min(0).default(d.hMax),
      ceViews: z.enum(['orig', 'both']).default(d.ceViews),
      /**
       * Fraction of each batch that gets a perturbed view (the first ⌈f·B⌉ of the shuffled batch,
       * so each sample gets one with probability f per epoch). 1 = the paper's reading; less cuts the
       * dual-view cost (~1 + f of an SFT step) and makes D_i, L_cv and L_ent estimates on a subset.
       */
      viewFraction: z.number().gt(0).max(1).default(d.viewFraction),
    })
    .strict()
    .refine((p) => p.hMin <= p.hMax, { message: 'hMin must not exceed hMax', path: ['hMin'] });
}

export const pcrSchema = makePcrSchema();
export type PcrParams = z.infer<typeof pcrSchema>;

/** Per-position entropy [B,L] of a distribution given by log-probs [B,L,V]. */
function entropy(lp: tf.Tensor3D): tf.Tensor2D {
  return tf.neg(tf.sum(tf.mul(tf.exp(lp), lp), -1)) as tf.Tensor2D;
}

/** Per-position Jensen–Shannon divergence [B,L] between two log-prob tensors [B,L,V]. */
export function jsDivergence(lpA: tf.Tensor3D, lpB: tf.Tensor3D): tf.Tensor2D {
  const pA = tf.exp(lpA);
  const pB = tf.exp(lpB);
  const logM = tf.log(tf.add(tf.mul(tf.add(pA, pB), 0.5), 1e-12));
  const klA = tf.sum(tf.mul(pA, tf.sub(lpA, logM)), -1);
  const klB = tf.sum(tf.mul(pB, tf.sub(lpB, logM)), -1);
  return tf.mul(tf.add(klA, klB), 0.5) as tf.Tensor2D;
}

/** Weighted mean over positions, per sample: [B,L] → [B]. */
function meanOverResponse(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor1D {
  return tf.div(tf.sum(tf.mul(x, w), -1), tf.maximum(tf.sum(w, -1), 1)) as tf.Tensor1D;
}

/** D_i per sample [B]: the JS divergence between the outputs on the image and on its view, averaged over the response tokens. */
export function crossViewDivergence(logitsOrig: tf.Tensor3D, logitsView: tf.Tensor3D, weights: tf.Tensor2D): tf.Tensor1D {
  return meanOverResponse(jsDivergence(tf.logSoftmax(logitsOrig) as tf.Tensor3D, tf.logSoftmax(logitsView) as tf.Tensor3D), weights);
}

export interface PcrLossParts {
  total: tf.Scalar;
  /** D_i of the first `invariance.length` samples of the batch (those with a view), detached (low = suspected poison). */
  invariance: Float32Array;
}

export function pcrLoss(ctx: BatchContext, p: PcrParams, grid: number): PcrLossParts {
  let invariance = new Float32Array(0);
  const total = tf.tidy(() => {
    const b = ctx.images.length;
    // The first v samples get a view; both views go through one forward pass of B + v.
    const v = Math.max(1, Math.ceil(p.viewFraction * b));
    const views = ctx.images.slice(0, v).map((img) => patchAug(img, { ...p, grid }, ctx.rng));
    const both = tf.concat([ctx.imagesT, imagesToTensor(views)], 0) as tf.Tensor4D;
    const tokens2 = tf.concat([ctx.text.tokens, ctx.text.tokens.slice(0, v)], 0) as tf.Tensor2D;
    const logits = ctx.model.forward(both, tokens2);
    const [lo, lv] = tf.split(logits, [b, v], 0) as [tf.Tensor3D, tf.Tensor3D];
    const { targets, weights } = ctx.text;
    const [tv, wv] = [targets.slice(0, v), weights.slice(0, v)];
    const ce =
      p.ceViews === 'both'
        ? tf.add(crossEntropy(lo, targets, weights), crossEntropy(lv, tv, wv)) // CE(x) + CE(x̃), as docs/defenses.md writes it
        : crossEntropy(lo, targets, weights);
    const lpO = tf.logSoftmax(lo) as tf.Tensor3D;
    const lpV = tf.logSoftmax(lv) as tf.Tensor3D;
    const lpOv = v === b ? lpO : (lpO.slice(0, v) as tf.Tensor3D);
    const d = meanOverResponse(jsDivergence(lpOv, lpV), wv); // [v]
    invariance = Float32Array.from(d.dataSync());
    // S: the ⌈q·v⌉ samples with the lowest D_i (selection is not differentiated).
    const k = Math.max(1, Math.round(p.q * v));
    const order = Array.from(invariance.keys()).sort((i, j) => invariance[i] - invariance[j]);
    const sel = new Float32Array(v);
    order.slice(0, k).forEach((i) => (sel[i] = 1));
    const lcv = tf.neg(tf.div(tf.sum(tf.mul(tf.minimum(d, p.margin), tf.tensor1d(sel))), k));
    let loss = tf.add(ce, tf.mul(lcv, p.lambdaCv));
    if (p.lambdaEnt > 0) {
      // Each term is a mean over the response tokens of the samples it applies to.
      const tokenMean = (x: tf.Tensor2D, w: tf.Tensor2D) => tf.div(tf.sum(tf.mul(x, w)), tf.maximum(tf.sum(w), 1));
      const lowView = tokenMean(tf.relu(tf.sub(p.hMin, entropy(lpV))) as tf.Tensor2D, wv);
      const highOrig = tokenMean(tf.relu(tf.sub(entropy(lpO), p.hMax)) as tf.Tensor2D, weights);
      const lent = tf.add(lowView, highOrig);
      loss = tf.add(loss, tf.mul(lent, p.lambdaEnt));
    }
    return loss as tf.Scalar;
  });
  return { total, invariance };
}

/** A PCR defense with its own id and defaults: the ablations are presets, not copies. */
export function pcrPreset(id: string, description: string, over: Partial<PcrDefaults>): HookDefense<PcrParams> {
  const schema = makePcrSchema(over);
  return {
    id,
    stage: 'training',
    description,
    schema: schema as unknown as z.ZodType<PcrParams>,
    trainingHook(params, ctx): TrainingHook {
      const grid = params.grid || ctx.model.imageSize / ctx.model.patch;
      return {
        loss: (batch) => {
          const { total, invariance } = pcrLoss(batch, params, grid);
          // Low D_i = abnormally invariant = suspected poison.
          ctx.reportScores?.('pcr.invariance', batch.epoch, batch.ids.slice(0, invariance.length), invariance.map((d) => -d));
          return total;
        },
      };
    },
  };
}

export const pcr = pcrPreset('pcr', 'patch-augmented view + cross-view JS regularisation + entropy constraint (the paper)', {});

/** Ablation: the patch-augmented view alone (CE on both views, no cross-view or entropy term). */
export const pcrAug = pcrPreset('pcr-aug', 'PCR ablation: patch augmentation only (CE on both views, λ_cv = λ_ent = 0)', {
  ceViews: 'both',
  lambdaCv: 0,
  lambdaEnt: 0,
});

/** Ablation: the cross-view term without the entropy constraint. */
export const pcrCv = pcrPreset('pcr-cv', 'PCR ablation: cross-view regularisation without the entropy term (λ_ent = 0)', { lambdaEnt: 0 });
