/**
 * Detect, drop, retrain: the machinery of the data-filtering training-stage defenses (`remove`,
 * `bye`). The probe may train ctx.model as it likes (ABL's LGA epochs, BYE's fine-tune) and
 * returns the indices of the examples to drop; then the pre-trained weights are restored and
 * the full SFT (the experiment's epochs and learning rate) runs on the rest. The retrain's log
 * is the stage's log, so it compares with no defense's SFT.
 */
import { tf } from '../harness/core/engine.js';
import type { EpochLog } from '../harness/core/record.js';
import type { SftContext } from './types.js';

export function probeDropRetrain(ctx: SftContext, probe: () => Iterable<number>): EpochLog[] {
  const n = ctx.examples.length;
  // The pre-trained weights, to start again from once the probe has ranked the examples.
  const start = new Map([...ctx.model.params.vars].map(([name, v]) => [name, tf.keep(v.clone())]));
  try {
    const dropped = new Set(probe());
    ctx.reportRemoved?.(ctx.examples.filter((_, i) => dropped.has(i)).map((e) => e.id));
    for (const [name, v] of ctx.model.params.vars) v.assign(start.get(name)!);
    const kept = ctx.examples.filter((_, i) => !dropped.has(i));
    ctx.progress(`removed ${dropped.size} of ${n} examples; SFT for ${ctx.epochs} epoch(s) on the ${kept.length} left, from the pre-trained weights`);
    return ctx.train(ctx.model, kept, { epochs: ctx.epochs, lr: ctx.lr });
  } finally {
    for (const t of start.values()) t.dispose();
  }
}
