/**
 * `remove` (detect, then remove): a training-stage defense that asks whether a score which
 * *detects* the poisons can also *remove* the backdoor. In three steps, on the possibly
 * poisoned split:
 *
 * 1. probe: `probeEpochs` of SFT from the pre-trained model (or, `probeFrom: 'fresh'`, from a
 *    freshly initialised language model on the run's vision tower, as ABL trains from scratch),
 *    with ABL's local gradient ascent loss sign(L − γ)·L (`score: 'lga'`, the default: clean
 *    examples hover at γ while the easily learned poisons fall below it) or the plain loss
 *    (`score: 'loss'` and `'invariance'`). From the pre-trained model the poisons are the hard
 *    examples and the ranking inverts (docs/defenses.md, "What was measured");
 * 2. rank every training example by a suspicion score under the probe and drop the
 *    `removeFraction` most suspect (or, `cut: 'gmm'`, the lower mode of the scores when they
 *    have two, by BYE's test and threshold, whatever its size; or, `cut: 'union'`, both): its
 *    loss (`lga`, `loss`: low = suspect, as ABL's isolation),
 *    or PCR's D_i (`invariance`: the JS divergence between the outputs on the image and on its
 *    patch-shuffled view, PCR's default view on the model's patch grid; low = an output the
 *    trigger pins whatever the layout, PCR's own reading);
 * 3. restore the pre-trained weights and run the full SFT (the experiment's epochs) on the rest.
 *
 * The ranking is reported as a suspicion score (`remove.<score>`: AUROC per record, the full
 * ranking in suspects/), and the dropped ids through `reportRemoved`, so every record holds the
 * removed set's precision and recall against the poisoned ground truth the defense never sees.
 * Default removeFraction 0.1: twice the default 5% poisoning rate, since a removal that
 * misses a few poisons leaves enough of them to implant a backdoor.
 */
import { z } from 'zod';
import { imagesToTensor } from '../harness/core/batch.js';
import { patchAug } from '../harness/core/patchAug.js';
import { ablRanking, lgaLoss, lossProbe } from './abl.js';
import { lowerMode } from './gmm1d.js';
import { crossViewDivergence, PCR_DEFAULTS } from './pcr.js';
import { probeDropRetrain } from './retrain.js';
import type { SftContext, SftDefense } from './types.js';

const schema = z
  .object({
    /** Epochs of the probe's SFT before ranking. */
    probeEpochs: z.number().int().min(1).default(2),
    /** The suspicion score: 'lga' (loss under ABL's local gradient ascent probe), 'loss' (under plain SFT), 'invariance' (PCR's D_i under plain SFT). */
    score: z.enum(['lga', 'loss', 'invariance']).default('lga'),
    /** ABL's γ for the 'lga' probe. */
    gamma: z.number().min(0).default(0.5),
    /** Fraction of the training split removed, most suspect first. */
    removeFraction: z.number().gt(0).max(0.5).default(0.1),
    /**
     * What the probe starts from: the pre-trained model (unset, the default) or `fresh`, the
     * language side freshly initialised on the run's vision tower (ctx.freshModel), as ABL
     * trains from scratch. Optional without a default so that configs without it keep their hashes.
     */
    probeFrom: z.enum(['pretrained', 'fresh']).optional(),
    /**
     * How many to drop: `removeFraction` (unset, the default); `gmm`, the lower mode of the
     * scores when a two-component GMM finds two more than GMM_SEPARATION apart (nothing
     * otherwise), so that a defender need not know the poisoning rate; or `union`, both sets.
     * The two single cuts fail in opposite places on captions (docs/defenses.md): the fraction
     * where the poisons outnumber it, the GMM where its two modes split the clean examples.
     * Optional without a default, as probeFrom.
     */
    cut: z.enum(['fraction', 'gmm', 'union']).optional(),
  })
  .strict();
export type RemoveParams = z.infer<typeof schema>;

function checked(scores: ArrayLike<number>): ArrayLike<number> {
  for (let i = 0; i < scores.length; i++) if (Number.isNaN(scores[i])) throw new Error(`remove: score ${i} is NaN`);
  return scores;
}

/** The indices to drop: the ⌈fraction·n⌉ lowest-scoring examples (ABL's ranking), at least one. */
export function toRemove(scores: ArrayLike<number>, fraction: number): number[] {
  return ablRanking(checked(scores)).slice(0, Math.max(1, Math.ceil(fraction * scores.length)));
}

/** BYE's bimodality threshold (its code's default `separation`), reused by `cut: 'gmm'` rather than tuned here. */
export const GMM_SEPARATION = 2;

/** The indices the knobs drop for these scores (low = suspect). */
function pick(scores: ArrayLike<number>, p: RemoveParams, ctx: SftContext): number[] {
  if (p.cut === undefined || p.cut === 'fraction') return toRemove(scores, p.removeFraction);
  const cut = lowerMode(Array.from(checked(scores)), GMM_SEPARATION);
  ctx.progress(`GMM cut: modes ${cut.separation.toFixed(2)} (σ₁ + σ₂) apart (threshold ${GMM_SEPARATION}): ${cut.members.length ? `the lower, ${cut.members.length} examples, is dropped` : 'one mode, nothing is dropped'}`);
  if (p.cut === 'gmm') return cut.members;
  return [...new Set([...toRemove(scores, p.removeFraction), ...cut.members])];
}

/** PCR's D_i of each example under `ctx.model`, on PCR's default view (every patch shuffled on the model's grid). */
export function invarianceScores(ctx: SftContext): Float32Array {
  const { imageSize, patch } = ctx.model.config;
  const view = { ...PCR_DEFAULTS, grid: imageSize / patch };
  const rng = ctx.rng.fork('views');
  return ctx.perSampleScore(ctx.model, ctx.examples, (b) => {
    const views = imagesToTensor(b.images.map((img) => patchAug(img, view, rng)));
    return crossViewDivergence(b.model.forward(b.imagesT, b.text.tokens), b.model.forward(views, b.text.tokens), b.text.weights);
  });
}

export const remove: SftDefense<RemoveParams> = {
  id: 'remove',
  stage: 'training',
  description: 'detect then remove: probe SFT, drop the lowest-loss examples, retrain SFT from the pre-trained model on the rest',
  schema,
  sft(p, ctx) {
    return probeDropRetrain(ctx, () => {
      // The probe trains its own model when fresh, ctx.model (restored before the retrain) otherwise.
      const model = p.probeFrom === 'fresh' ? ctx.freshModel() : ctx.model;
      const probe: SftContext = { ...ctx, model };
      try {
        const from = p.probeFrom === 'fresh' ? 'a fresh language model' : 'the pre-trained model';
        ctx.progress(`probe: ${p.probeEpochs} epoch(s) of ${p.score === 'lga' ? `LGA SFT (γ = ${p.gamma})` : 'SFT'} from ${from} on ${ctx.examples.length} examples`);
        if (p.score !== 'invariance') {
          const { losses } = lossProbe(probe, p.probeEpochs, p.score === 'lga' ? { loss: (b) => lgaLoss(b, p.gamma) } : undefined, `remove.${p.score}`);
          return pick(losses, p, ctx);
        }
        ctx.train(model, ctx.examples, { epochs: p.probeEpochs, lr: ctx.lr });
        const d = invarianceScores(probe);
        ctx.reportScores?.('remove.invariance', p.probeEpochs, ctx.examples.map((e) => e.id), d.map((x) => -x));
        return pick(d, p, ctx);
      } finally {
        if (model !== ctx.model) model.params.dispose();
      }
    });
  },
};
