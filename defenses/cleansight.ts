/**
 * CleanSight (Zhang et al., "Test-Time Attention Purification for Backdoored Large Vision
 * Language Models", arXiv 2603.12989; code github.com/zhangzf01/cleansight): training-free, at
 * inference. A trigger works by "attention stealing": its visual tokens draw the text's
 * attention away from the prompt. Per test input, at the last prompt position:
 *
 * 1. detection: in the chosen layers, each head's ratio of attention on the visual tokens to
 *    attention on the text; the vector of ratios is whitened by the mean and sd of clean
 *    inputs' vectors, and the input is flagged when its L2 norm exceeds the `percentile`-th
 *    percentile of the clean inputs' norms (the authors' code: 99th, on ~200 clean samples);
 * 2. purification: for a flagged input, the visual tokens on which any head of the last
 *    detection layer puts more than τ of its attention (the code: 0.02) are pruned: no position attends to them
 *    while the answer is generated (models/types.ts `startDecoding(images, prune)`).
 *
 * Constants carried over to this scale:
 * - layers: the code reads layers 10–24 of LLaVA-1.5-7B's 32, i.e. the image-reading layers
 *   at relative depth [10/32, 25/32) (`layerFrom`, `layerTo`); when none falls in the window
 *   (a 1-layer LM), the last layer;
 * - calibration: the defender's clean pool (5% of the clean training split by default, 150–300
 *   examples at the default sizes, near the code's ~200).
 * Decided here, where the paper is silent or its constant does not carry over:
 * - τ: the code's absolute 0.02 over 576 tokens is 11.5 times the uniform share 1/N; with our
 *   16–64 visual tokens that asks one token to hold 18–72% of a head's attention, which never
 *   happens here (a small llava run backdoored by BadNets, validation split: the most attended
 *   visual token gets 1.9–2.1 times the head's mean attention per visual token on average, p90
 *   3–4, clean and triggered alike), so pruning would never act. τ is therefore relative to each
 *   head's own mean attention per visual token: prune j when a_j > `pruneFactor` · (Σ_k a_k)/N,
 *   default 3 (about that p90), a guess for `mbb sweep` to settle;
 * - pruning hides the tokens in every LM layer (the code masks them from the last detection
 *   layer on; with 1–3 LM layers that would leave the earlier layers reading the trigger);
 * - flamingo's text reads the image only through its gated cross-attention, a softmax over the
 *   visual tokens alone, so no visual/text ratio exists; its per-head feature is the stolen
 *   share itself, N · max_j a_j (how many times uniform its most attended token is);
 * - the maps are read teacher-forced over the prompt, once per input, before decoding.
 * The record holds the flagged fraction of the clean (`flagged clean`) and triggered (`flagged`)
 * test inputs (harness/run/evaluate.ts).
 */
import { z } from 'zod';
import { tf } from '../harness/core/engine.js';
import type { IncrementalDecoder, MultimodalModel } from '../models/types.js';
import { eachPromptAttention, promptAttention, type PromptAttention } from './promptAttention.js';
import type { GuardDefense, GuardedModel } from './types.js';

const schema = z
  .object({
    /** Detection layers: the image-reading LM layers at relative depth i/L in [layerFrom, layerTo). */
    layerFrom: z.number().min(0).max(1).default(10 / 32),
    layerTo: z.number().min(0).max(1).default(25 / 32),
    /** Flag an input whose whitened distance exceeds this percentile of the clean pool's. */
    percentile: z.number().gt(0).max(100).default(99),
    /** Prune the visual tokens with more than pruneFactor times the head's mean attention per visual token. */
    pruneFactor: z.number().min(0).default(3),
    /** Fraction of the clean training split held for calibration. */
    cleanFraction: z.number().gt(0).max(1).default(0.05),
  })
  .strict()
  .refine((p) => p.layerFrom < p.layerTo, { message: 'layerFrom must be below layerTo', path: ['layerFrom'] });
export type CleanSightParams = z.infer<typeof schema>;

/** Indices of the detection layers among `count` image-reading layers; the last one when the window holds none. */
export function detectionLayers(count: number, from: number, to: number): number[] {
  const inside = Array.from({ length: count }, (_, i) => i).filter((i) => i / count >= from && i / count < to);
  return inside.length ? inside : [count - 1];
}

/** One input's detection features: per detection layer and head, visual / text attention (flamingo: N · max). */
export function stealingFeatures(maps: PromptAttention, sample: number, layers: number[]): number[] {
  return layers.flatMap((l) =>
    maps.visual[sample][l].map((head, h) => {
      if (!maps.text) return head.length * Math.max(...head);
      const visual = head.reduce((a, b) => a + b, 0);
      return visual / (maps.text[sample][l][h] + 1e-12);
    }),
  );
}

export interface Calibration {
  mean: number[];
  sd: number[];
  threshold: number;
}

/** Whitened L2 distance of a feature vector from the clean mean. */
export function whitenedDistance(f: number[], c: Pick<Calibration, 'mean' | 'sd'>): number {
  return Math.sqrt(f.reduce((a, v, i) => a + ((v - c.mean[i]) / (c.sd[i] + 1e-8)) ** 2, 0));
}

/** The q-th percentile with linear interpolation between order statistics (numpy's default). */
export function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = ((s.length - 1) * q) / 100;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

/** The clean features' mean and sd, and the threshold: the percentile of their own distances. */
export function calibrate(features: number[][], q: number): Calibration {
  if (features.length < 2) throw new Error(`cleansight: calibration needs at least 2 clean inputs, got ${features.length}; raise cleanFraction`);
  const d = features[0].length;
  const mean = Array.from({ length: d }, (_, i) => features.reduce((a, f) => a + f[i], 0) / features.length);
  const sd = Array.from({ length: d }, (_, i) => Math.sqrt(features.reduce((a, f) => a + (f[i] - mean[i]) ** 2, 0) / features.length));
  return { mean, sd, threshold: percentile(features.map((f) => whitenedDistance(f, { mean, sd })), q) };
}

/** The visual tokens to prune: 1 where any head gives a token more than `factor` times its mean per visual token (the union over heads). */
export function pruneMask(heads: ArrayLike<number>[], factor: number): number[] {
  const tau = heads.map((h) => (factor * Array.from(h).reduce((a, b) => a + b, 0)) / h.length);
  return Array.from({ length: heads[0].length }, (_, j) => (heads.some((h, k) => h[j] > tau[k]) ? 1 : 0));
}

/** The model whose decoders flag and purify each input before generating. */
export function guard(model: MultimodalModel, cal: Calibration, layers: number[], pruneFactor: number): GuardedModel {
  const start = model.startDecoding?.bind(model);
  if (!start) throw new Error(`cleansight: model family "${model.config.family}" has no incremental decoder (startDecoding) to prune visual tokens in`);
  let flagged = 0;
  const startDecoding = (images: tf.Tensor4D): IncrementalDecoder => {
    // The caller may free the images once this returns; the detection pass needs them at the first step.
    const kept = images.clone();
    let inner: IncrementalDecoder | undefined;
    const open = (prompt: tf.Tensor2D, pad: number[] = []) => {
      const [b, n] = prompt.shape;
      // The detection pass reads each prompt as the model was trained on it, from column 0
      // (left padding moved to the end, where the causal mask hides it): at its last token.
      const rows = prompt.arraySync().map((r, i) => [...r.slice(pad[i] ?? 0), ...r.slice(0, pad[i] ?? 0)]);
      const aligned = tf.tensor2d(rows, [b, n], 'int32');
      try {
        const maps = promptAttention(model, kept, aligned, rows.map((_, i) => n - 1 - (pad[i] ?? 0)));
        const last = layers[layers.length - 1];
        const nVisual = maps.visual[0][last][0].length;
        const masks = maps.visual.map((_, s) => {
          if (whitenedDistance(stealingFeatures(maps, s, layers), cal) <= cal.threshold) return Array(nVisual).fill(0);
          flagged++;
          return pruneMask(maps.visual[s][last], pruneFactor);
        });
        const prune = tf.tensor2d(masks, [b, nVisual]);
        const dec = start(kept, prune);
        prune.dispose();
        return dec;
      } finally {
        tf.dispose([kept, aligned]);
      }
    };
    return {
      step: (tokens, pad) => (inner ??= open(tokens, pad)).step(tokens, pad),
      dispose: () => (inner ? inner.dispose() : kept.dispose()),
    };
  };
  return {
    model: { ...model, startDecoding },
    takeFlagged: () => {
      const n = flagged;
      flagged = 0;
      return n;
    },
  };
}

export const cleansight: GuardDefense<CleanSightParams> = {
  id: 'cleansight',
  stage: 'inference',
  description: 'CleanSight: flag inputs whose visual/text attention ratio is abnormal against clean calibration, prune their high-attention visual tokens before generating',
  schema: schema as unknown as z.ZodType<CleanSightParams>,
  cleanFraction: (p) => p.cleanFraction,
  guardModel(p, ctx) {
    const features: number[][] = [];
    let layers: number[] = [];
    eachPromptAttention(ctx.model, ctx.tok, ctx.cleanPool, ctx.batchSize, (maps) => {
      layers = detectionLayers(maps.visual[0].length, p.layerFrom, p.layerTo);
      features.push(...maps.visual.map((_, s) => stealingFeatures(maps, s, layers)));
    });
    const cal = calibrate(features, p.percentile);
    ctx.progress(`calibrated on ${features.length} clean inputs: layers ${layers.join(', ')}, threshold ${cal.threshold.toFixed(3)}`);
    return guard(ctx.model, cal, layers, p.pruneFactor);
  },
};
