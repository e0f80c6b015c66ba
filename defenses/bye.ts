/**
 * BYE, "Believe Your Eyes" (Rong et al., arXiv 2505.16916; code github.com/XuankunRong/BYE): a
 * data-filtering training-stage defense that needs no clean data. A backdoor trigger makes the
 * text's attention collapse onto a few visual tokens (the trigger's), so a poisoned example's
 * attention over the image has a low entropy in some layers.
 *
 * 1. probe: fine-tune the pre-trained model on the (possibly poisoned) split, as asked
 *    (`probeEpochs`, default the experiment's SFT epochs: BYE reads the model it was asked to train,
 *    so at the default the probe is the backdoored model's cache entry, trained once for the grid);
 * 2. per example and per LM layer that reads the image, the entropy of the attention from the
 *    last prompt position (the one predicting the first answer token) to the visual tokens,
 *    averaged over heads and renormalised over the visual tokens (BYE's code: −Σ p log(p + 1e-8));
 * 3. sensitive layers: those whose entropies a 2-component GMM splits into two modes with
 *    |μ₁ − μ₂| > `separation`·(σ₁ + σ₂) (BYE's code: 2);
 * 4. each example's score is its mean entropy over the sensitive layers; a 2-component GMM on
 *    the scores; the cluster with the lower mean (collapsed attention) is dropped, whatever its size;
 * 5. restore the pre-trained weights and run the full SFT on the rest (defenses/retrain.ts, as `remove`).
 *
 * Decided here, where the paper or its code is silent or does not carry over:
 * - no sensitive layer (BYE's code then stops without filtering): nothing is dropped and SFT
 *   runs again on everything; the reported score is then the mean over all layers;
 * - a score GMM that does not split (one empty component) drops nothing;
 * - flamingo: the "attention to the visual tokens" is its gated cross-attention (its text reads
 *   the image only there); blip2: the LM's attention to the query prefix (what BYE's InstructBLIP runs read);
 * - the attention is read teacher-forced over the prompt (BYE generates one token with
 *   `output_attentions`: the same position, the same map).
 * The score (negated entropy: low entropy = suspect) goes to `reportScores` as `bye.entropy`,
 * the dropped ids to `reportRemoved`.
 */
import { z } from 'zod';
import { eachPromptAttention } from './promptAttention.js';
import { gmm2, separationOf } from './gmm1d.js';
import { probeDropRetrain } from './retrain.js';
import type { SftDefense } from './types.js';

const schema = z
  .object({
    /** Epochs of the probe's fine-tune; 0 = the experiment's SFT epochs. */
    probeEpochs: z.number().int().min(0).default(0),
    /** A layer is bimodal when its GMM's means differ by more than this many (σ₁ + σ₂). */
    separation: z.number().positive().default(2),
  })
  .strict();
export type ByeParams = z.infer<typeof schema>;

/** Forward passes of the attention read, per batch: memory only, the result does not depend on it. */
const READ_BATCH = 32;

/** Entropy of an attention map renormalised to sum to 1 (BYE's: −Σ p log(p + 1e-8)). */
export function attentionEntropy(map: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < map.length; i++) total += map[i];
  if (!(total > 0)) throw new Error('attentionEntropy: the map has no mass');
  let h = 0;
  for (let i = 0; i < map.length; i++) {
    const p = map[i] / total;
    h -= p * Math.log(p + 1e-8);
  }
  return h;
}

/** The entropy of the head-averaged map of each layer: heads [layer][head] → [layer]. */
export function layerEntropies(heads: ArrayLike<number>[][]): number[] {
  return heads.map((layer) => {
    const avg = new Float64Array(layer[0].length);
    for (const h of layer) for (let j = 0; j < avg.length; j++) avg[j] += h[j] / layer.length;
    return attentionEntropy(avg);
  });
}

/** Per layer, its 2-component GMM's |μ₁ − μ₂| / (σ₁ + σ₂) over the examples. entropies: [example][layer]. */
export function layerSeparations(entropies: number[][]): number[] {
  const layers = entropies[0]?.length ?? 0;
  return Array.from({ length: layers }, (_, l) => separationOf(gmm2(entropies.map((e) => e[l]))));
}

/** Layers whose entropies over the examples split into two modes separated by more than `separation`. */
export function bimodalLayers(entropies: number[][], separation: number): number[] {
  return layerSeparations(entropies).flatMap((r, l) => (r > separation ? [l] : []));
}

export interface ByeSelection {
  /** The sensitive layers (all layers' mean is the score when there are none). */
  layers: number[];
  /** Each example's mean entropy over the sensitive layers. */
  scores: number[];
  /** The examples of the low-entropy cluster: those dropped. */
  drop: number[];
}

export function byeSelect(entropies: number[][], separation: number): ByeSelection {
  const layers = bimodalLayers(entropies, separation);
  const over = layers.length ? layers : entropies[0].map((_, l) => l);
  const scores = entropies.map((e) => over.reduce((a, l) => a + e[l], 0) / over.length);
  if (!layers.length) return { layers, scores, drop: [] };
  const g = gmm2(scores);
  if (g.weights[0] === 0 || g.weights[1] === 0) return { layers, scores, drop: [] };
  return { layers, scores, drop: g.labels.flatMap((c, i) => (c === 0 ? [i] : [])) };
}

export const bye: SftDefense<ByeParams> = {
  id: 'bye',
  stage: 'training',
  description: 'BYE: fine-tune, score each example by its attention entropy over the image in bimodal layers, drop the low-entropy GMM cluster, retrain',
  schema,
  // At the SFT's own epochs the probe is the backdoored model itself: the harness hands it over.
  probesBackdoored: (p) => p.probeEpochs === 0,
  sft(p, ctx) {
    return probeDropRetrain(ctx, () => {
      const epochs = p.probeEpochs || ctx.epochs;
      const probe = ctx.backdoored ?? ctx.model;
      if (ctx.backdoored) ctx.progress(`probe: the backdoored model (plain SFT, ${epochs} epoch(s), from the stage cache)`);
      else {
        ctx.progress(`probe: ${epochs} epoch(s) of SFT on ${ctx.examples.length} examples`);
        ctx.train(probe, ctx.examples, { epochs, lr: ctx.lr });
      }
      const entropies: number[][] = [];
      eachPromptAttention(probe, ctx.tok, ctx.examples, READ_BATCH, (maps) => entropies.push(...maps.visual.map(layerEntropies)));
      const sel = byeSelect(entropies, p.separation);
      ctx.reportScores?.('bye.entropy', epochs, ctx.examples.map((e) => e.id), sel.scores.map((s) => -s));
      ctx.progress(
        sel.layers.length
          ? `sensitive layers ${sel.layers.join(', ')} of ${entropies[0].length}; the low-entropy cluster holds ${sel.drop.length} examples`
          : `no layer's entropies are bimodal (separation ${p.separation}; per layer ${layerSeparations(entropies).map((r) => r.toFixed(2)).join(', ')}): nothing is dropped`,
      );
      return sel.drop;
    });
  },
};
