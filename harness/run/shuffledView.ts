/**
 * The triggered test inputs with every patch position shuffled (PCR's PatchAug on the model's
 * patch grid, `harness/core/patchAug.ts`), measured as `ASR shuffled`. Beside the plain ASR it
 * tells a backdoor that was removed from one that was only made view-dependent: PCR's
 * cross-view term is satisfied as well by a model that keeps the target on the intact image
 * and drops it on the shuffled one as by a model without the backdoor.
 */
import { patchAug } from '../core/patchAug.js';
import type { TriggerInput } from '../../attacks/types.js';
import { Rng } from '../core/rng.js';

export function shuffledView(inputs: TriggerInput[], grid: number, seed: number): TriggerInput[] {
  const rng = new Rng(seed).fork('shuffled-view');
  const all = { grid, shuffle: 1, noiseFraction: 0, noiseSigma: 0, maskFraction: 0 };
  return inputs.map((t, i) => ({ ...t, image: patchAug(t.image, all, rng.fork(String(i))) }));
}
