/**
 * Detect, drop, retrain: the machinery of the data-filtering training-stage defenses (`remove`,
 * `bye`). The probe may train ctx.model as it likes (ABL's LGA epochs, BYE's fine-tune) and
 * returns the indices of the examples to drop; then the pre-trained weights are restored
 * (`ctx.restorePretrained`) and the full SFT (the experiment's epochs and learning rate) runs
 * on the rest. The retrain's log is the stage's log, so it compares with no defense's SFT.
 */
import type { EpochLog } from '../harness/core/record.js';
import type { SftContext } from './types.js';

export function probeDropRetrain(ctx: SftContext, probe: () => Iterable<number>): EpochLog[] {
  const n = ctx.examples.length;
  const dropped = new Set(probe());
  ctx.reportRemoved?.(ctx.examples.filter((_, i) => dropped.has(i)).map((e) => e.id));
  ctx.restorePretrained(ctx.model);
  const kept = ctx.examples.filter((_, i) => !dropped.has(i));
  ctx.progress(`removed ${dropped.size} of ${n} examples; SFT for ${ctx.epochs} epoch(s) on the ${kept.length} left, from the pre-trained weights`);
  return ctx.train(ctx.model, kept, { epochs: ctx.epochs, lr: ctx.lr });
}
