/**
 * RobustIT, "Robust Anti-Backdoor Instruction Tuning in LVLMs" (Xun et al., arXiv 2506.05401):
 * a training hook on the (possibly poisoned) SFT.
 *
 * - Tune only the adapter (models/types.ts `adapter`: llava's projector, blip2's Q-Former,
 *   flamingo's visual projection and gated cross-attention) and the text embeddings; the
 *   vision tower and the LM's blocks stay frozen (`tuneOnly`).
 * - Input diversity regularisation: each training sample gets its own random spatial shift
 *   (up to `maxShift` px, edge replication), colour gain per RGB channel (uniform in
 *   [1 − `colorJitter`, 1 + `colorJitter`]) and textual perturbation (each prompt word replaced
 *   by the unknown token with probability `textDrop`), so a fixed trigger is never quite the
 *   same twice and a fixed trigger → response shortcut is harder to fit.
 * - Anomalous activation regularisation: per batch, each output channel c of the adapter (the
 *   visual tokens the LM reads) gets a sharpness s_c = max |a| / mean |a| over the batch's
 *   visual tokens; channels with s_c > mean(s) + `kappa`·sd(s) across channels are anomalous,
 *   and L_aar = Σ_{c anomalous} mean_i |W_out[i, c]| (the adapter's output weights feeding
 *   them) is added as λ_aar·L_aar: an L1 pull that sparsifies exactly those channels. The
 *   selection is recomputed every batch ("dynamic") and not differentiated.
 *
 * Decided here (the paper's method section was not available in full; its abstract and
 * OpenReview summary name the parts, not their constants):
 * - "text embeddings" are the LM's input and output embeddings (lm/tok, lm/head): the attack's
 *   target words sit in vocabulary slots pre-training never trained (harness/core/tokenizer.ts), so a
 *   frozen output head would block them and credit the defense with that artifact;
 * - the perturbation sizes (3 px of a 32-px image, ±20% gain, 10% word drop), κ = 3 (the
 *   three-sigma rule) and λ_aar = 0.01 are this project's guesses, to be settled by `mbb sweep`;
 * - flamingo's output weights (vis/proj) are followed by a LayerNorm, so the pull there acts on
 *   the channel before normalisation.
 */
import { z } from 'zod';
import type { TextBatch } from '../harness/core/batch.js';
import type { PixelImage } from '../harness/core/types.js';
import { tf } from '../harness/core/engine.js';
import { crossEntropy } from '../harness/core/losses.js';
import { storeAs } from '../harness/core/pixelImage.js';
import type { Rng } from '../harness/core/rng.js';
import { PAD, UNK } from '../harness/core/tokenizer.js';
import type { MultimodalModel } from '../models/types.js';
import { translate } from './translate.js';
import type { HookDefense } from './types.js';

const schema = z
  .object({
    /** Train only the adapter and the text embeddings (the paper's setting); false = every weight. */
    tuneOnly: z.boolean().default(true),
    /** Largest random shift in pixels along each axis. */
    maxShift: z.number().int().min(0).max(8).default(3),
    /** Colour gain per RGB channel, uniform in [1 − c, 1 + c]; 0 = off. */
    colorJitter: z.number().min(0).max(1).default(0.2),
    /** Probability of replacing each prompt word with the unknown token; 0 = off. */
    textDrop: z.number().min(0).max(1).default(0.1),
    /** Weight of the anomalous-activation L1 term; 0 = off. */
    lambdaAar: z.number().min(0).default(0.01),
    /** A channel is anomalous when its sharpness exceeds the channels' mean by kappa standard deviations. */
    kappa: z.number().positive().default(3),
  })
  .strict();
export type RobustItParams = z.infer<typeof schema>;

/** What RobustIT tunes: the adapter and the text embeddings. */
export function robustItTrainable(model: MultimodalModel): (name: string) => boolean {
  if (!model.adapter) throw new Error(`robustit: model family "${model.config.family}" does not name its adapter (MultimodalModel.adapter)`);
  const names = new Set([...model.adapter.params, 'lm/tok', 'lm/head/w', 'lm/head/b']);
  return (name) => names.has(name);
}

/** One sample's spatial and colour perturbation (draws: dx, dy, then the three gains if on); uint8 or float in, the same kind out. */
export function diversify<T extends PixelImage>(image: T, p: Pick<RobustItParams, 'maxShift' | 'colorJitter'>, rng: Rng): T {
  const out = translate(image, rng.int(-p.maxShift, p.maxShift + 1), rng.int(-p.maxShift, p.maxShift + 1));
  if (p.colorJitter > 0) {
    const gain = [0, 1, 2].map(() => 1 + p.colorJitter * (2 * rng.next() - 1));
    const d = out.data;
    const store = storeAs(out);
    for (let i = 0; i < d.length; i++) d[i] = store(d[i] * gain[i % 3]);
  }
  return out;
}

/** Tokens [B,L] with each prompt word (before the first response target, never PAD or BOS) replaced by UNK with probability q. */
export function dropPromptWords(text: TextBatch, q: number, rng: Rng): tf.Tensor2D {
  const [b, l] = text.tokens.shape;
  const ids = text.tokens.dataSync().slice();
  const w = text.weights.dataSync();
  for (let r = 0; r < b; r++) {
    // The first weighted position is BOS (it predicts the first response token): the prompt precedes it.
    let bos = 0;
    while (bos < l && w[r * l + bos] === 0) bos++;
    for (let i = 0; i < bos; i++) if (ids[r * l + i] !== PAD && rng.next() < q) ids[r * l + i] = UNK;
  }
  return tf.tensor2d(ids, [b, l], 'int32');
}

/** Sharpness max|a| / mean|a| of each channel of activations [..., C] over every other axis. */
export function channelSharpness(acts: tf.Tensor): Float32Array {
  return tf.tidy(() => {
    const c = acts.shape[acts.shape.length - 1];
    const a = tf.abs(acts.reshape([-1, c]));
    return tf.div(tf.max(a, 0), tf.maximum(tf.mean(a, 0), 1e-12)).dataSync() as Float32Array;
  });
}

/** Channels whose sharpness exceeds mean + kappa·sd across channels. */
export function anomalousChannels(sharpness: ArrayLike<number>, kappa: number): number[] {
  const s = Array.from(sharpness);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  return s.flatMap((v, c) => (v > mean + kappa * sd ? [c] : []));
}

/** L_aar = Σ over the given output channels of the mean |W[i, c]| of their column in W [dIn, C]. */
export function aarPenalty(w: tf.Tensor, channels: number[]): tf.Scalar {
  return tf.tidy(() => {
    if (!channels.length) return tf.scalar(0);
    const cols = tf.gather(w, tf.tensor1d(channels, 'int32'), 1);
    return tf.sum(tf.mean(tf.abs(cols), 0)) as tf.Scalar;
  });
}

export const robustit: HookDefense<RobustItParams> = {
  id: 'robustit',
  stage: 'training',
  description: 'RobustIT: tune only the adapter and text embeddings, with per-sample input diversity and an L1 pull on abnormally sharp adapter channels',
  schema,
  trainingHook(p) {
    return {
      ...(p.tuneOnly ? { trainable: robustItTrainable } : {}),
      transformImages: (images, rng) => images.map((im) => diversify(im, p, rng)),
      loss: (ctx) =>
        tf.tidy(() => {
          const tokens = p.textDrop > 0 ? dropPromptWords(ctx.text, p.textDrop, ctx.rng) : ctx.text.tokens;
          const ce = crossEntropy(ctx.model.forward(ctx.imagesT, tokens), ctx.text.targets, ctx.text.weights);
          if (p.lambdaAar === 0) return ce;
          const out = ctx.model.adapter;
          if (!out) throw new Error(`robustit: model family "${ctx.model.config.family}" does not name its adapter (MultimodalModel.adapter)`);
          // The selection reads the activations only: it is not differentiated.
          const channels = anomalousChannels(channelSharpness(ctx.model.encodeImage(ctx.imagesT)), p.kappa);
          return tf.add(ce, tf.mul(aarPenalty(ctx.model.params.get(out.outW), channels), p.lambdaAar)) as tf.Scalar;
        }),
    };
  },
};
