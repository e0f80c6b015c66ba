/**
 * An adaptive attacker against PCR: BadNets' corner square, poisoned so that the backdoor is
 * view-invariant by construction. PCR's cross-view term pulls the model's output on an image
 * toward its output on a patch-shuffled view of it (defenses/pcr.ts), and on BadNets it made the
 * backdoor view-dependent instead of removing it (docs/defenses.md: `ASR shuffled` near 0 while
 * the intact trigger still fires). A backdoor taught to fire on the shuffled view as well leaves
 * that term nothing to pull.
 *
 * The attacker uses PCR's own view: PatchAug with every patch moved, on a `grid`×`grid` grid
 * (set it to PCR's; 8 is the default model's patch grid, which PCR uses by default). It
 * controls its poisoned samples' pixels at each training step (a training-controlled attack,
 * as WaNet on the fly, harness/run/poison.ts): at each step a poisoned sample shows, with
 * probability `shuffled`, a freshly shuffled copy of its triggered image, else the triggered
 * image; both carry the target. Over the epochs each poisoned image is seen intact and shuffled,
 * as poisoning both copies would give, without adding samples to the split. Test inputs are
 * BadNets' intact trigger, so its ASR is read as BadNets' is.
 */
import { z } from 'zod';
import type { FloatImage, RgbImage } from '../harness/core/types.js';
import { patchAug } from '../harness/core/patchAug.js';
import { patchFields, stampSquare } from './badnets.js';
import { replaceWithTarget } from './outputModifiers.js';
import { baseFields, type Attack } from './types.js';

const schema = z
  .object({
    ...baseFields,
    ...patchFields,
    /** Side of the patch grid the shuffled views are cut on (PCR's `grid`, or the model's patch grid). */
    grid: z.number().int().min(2).max(64).default(8),
    /** Probability that a poisoned sample shows its shuffled view at a step. */
    shuffled: z.number().min(0).max(1).default(0.5),
  })
  .strict();
export type ViewInvariantParams = z.infer<typeof schema>;

function toFloat(image: RgbImage): FloatImage {
  return { height: image.height, width: image.width, data: Float32Array.from(image.data) };
}

export const viewInvariant: Attack<ViewInvariantParams> = {
  id: 'viewinv',
  description: "BadNets' square, poisoned intact and patch-shuffled (PCR's view) alike: an adaptive attack against PCR",
  adaptive: { base: 'badnets', against: ['pcr'] },
  kind: 'training-controlled',
  schema,
  makeTrigger: () => ({}),
  applyImage: (image, _trigger, params) => stampSquare(image, params),
  modifyOutput: replaceWithTarget,
  stepImage: (image, variant, _trigger, params, rng) => {
    if (variant !== undefined) throw new Error(`viewinv: unknown variant "${variant}"`);
    const triggered = stampSquare(image, params);
    if (rng.next() >= params.shuffled) return toFloat(triggered);
    return toFloat(patchAug(triggered, { grid: params.grid, shuffle: 1, noiseFraction: 0, noiseSigma: 0, maskFraction: 0 }, rng));
  },
};
