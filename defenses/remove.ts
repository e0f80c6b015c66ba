/**
 * `remove` (detect, then remove): a training-stage defense that asks whether a score which
 * *detects* the poisons can also *remove* the backdoor. In three steps, on the possibly
 * poisoned split:
 *
 * 1. probe: `probeEpochs` of SFT from the pre-trained model, with the plain loss (`score:
 *    'loss'`) or ABL's local gradient ascent loss sign(L − γ)·L (`score: 'lga'`, the default:
 *    clean examples hover at γ while the easily learned poisons fall below it);
 * 2. rank every training example by its loss under the probe (low loss = suspect, as ABL's
 *    isolation) and drop the `removeFraction` most suspect;
 * 3. restore the pre-trained weights and run the full SFT (the experiment's epochs) on the rest.
 *
 * The ranking is reported as a suspicion score (`remove.<score>`: AUROC per record, the full
 * ranking in suspects/), and the dropped ids through `reportRemoved`, so every record holds the
 * removed set's precision and recall against the poisoned ground truth the defense never sees.
 * Default removeFraction 0.1: twice the default 5% poisoning rate, since a removal that
 * misses a few poisons leaves enough of them to implant a backdoor.
 */
import { z } from 'zod';
import { ablRanking, lgaLoss, lossProbe } from './abl.js';
import { probeDropRetrain } from './retrain.js';
import type { SftDefense } from './types.js';

const schema = z
  .object({
    /** Epochs of the probe's SFT before ranking. */
    probeEpochs: z.number().int().min(1).default(2),
    /** The probe's loss: 'lga' (ABL's local gradient ascent) or 'loss' (plain SFT). */
    score: z.enum(['lga', 'loss']).default('lga'),
    /** ABL's γ for the 'lga' probe. */
    gamma: z.number().min(0).default(0.5),
    /** Fraction of the training split removed, most suspect first. */
    removeFraction: z.number().gt(0).max(0.5).default(0.1),
  })
  .strict();
export type RemoveParams = z.infer<typeof schema>;

/** The indices to drop: the ⌈fraction·n⌉ lowest-loss examples (ABL's ranking), at least one. */
export function toRemove(losses: ArrayLike<number>, fraction: number): number[] {
  for (let i = 0; i < losses.length; i++) if (Number.isNaN(losses[i])) throw new Error(`remove: loss ${i} is NaN`);
  return ablRanking(losses).slice(0, Math.max(1, Math.ceil(fraction * losses.length)));
}

export const remove: SftDefense<RemoveParams> = {
  id: 'remove',
  stage: 'training',
  description: 'detect then remove: probe SFT, drop the lowest-loss examples, retrain SFT from the pre-trained model on the rest',
  schema,
  sft(p, ctx) {
    return probeDropRetrain(ctx, () => {
      ctx.progress(`probe: ${p.probeEpochs} epoch(s) of ${p.score === 'lga' ? `LGA SFT (γ = ${p.gamma})` : 'SFT'} on ${ctx.examples.length} examples`);
      const { losses } = lossProbe(ctx, p.probeEpochs, p.score === 'lga' ? { loss: (b) => lgaLoss(b, p.gamma) } : undefined, `remove.${p.score}`);
      return toRemove(losses, p.removeFraction);
    });
  },
};
