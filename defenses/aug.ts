/**
 * `aug`: ordinary image augmentation during SFT on the (possibly poisoned) data, the baseline
 * that tells PCR's patch view apart from plain augmentation. Each training image is translated
 * by a random integer offset (dx, dy), each uniform in [−maxShift, maxShift] (zero included, as
 * torchvision's RandomCrop with padding), with edge replication; optionally its brightness is
 * scaled by a factor uniform in [1 − brightness, 1 + brightness] (torchvision ColorJitter's
 * brightness), rounded and clipped to [0, 255] (a float image from a training-controlled
 * attack is only clipped: it reaches the model unrounded, warped before it is augmented).
 * Defaults: maxShift 2 px, the translation a PyTorch prototype of this setup measured
 * (BackdoorBench's CIFAR RandomCrop pads by 4 px, but here a shift by a whole 4-px patch keeps
 * a patch trigger aligned to the patch grid, the alignment the prototype found the backdoor
 * binds to); brightness off.
 * No horizontal flips, although they are the standard CIFAR augmentation: captions and VQA
 * answers name left and right ("a red circle on the left"), and a flipped image would
 * contradict its text.
 */
import { z } from 'zod';
import type { PixelImage } from '../harness/core/types.js';
import { storeAs } from '../harness/core/pixelImage.js';
import type { Rng } from '../harness/core/rng.js';
import { translate } from './translate.js';
import type { HookDefense } from './types.js';

export const augSchema = z
  .object({
    /** Largest translation in pixels along each axis. */
    maxShift: z.number().int().min(0).max(8).default(2),
    /** Brightness jitter b: factor uniform in [1 − b, 1 + b]; 0 = off. */
    brightness: z.number().min(0).max(1).default(0),
  })
  .strict();
export type AugParams = z.infer<typeof augSchema>;

/** One augmented copy of an image (the draws: dx, dy, then the brightness factor if on). */
export function augmentImage<T extends PixelImage>(image: T, p: AugParams, rng: Rng): T {
  const dx = rng.int(-p.maxShift, p.maxShift + 1);
  const dy = rng.int(-p.maxShift, p.maxShift + 1);
  const out = translate(image, dx, dy);
  if (p.brightness > 0) {
    const f = 1 + p.brightness * (2 * rng.next() - 1);
    const d = out.data;
    const store = storeAs(out);
    for (let i = 0; i < d.length; i++) d[i] = store(d[i] * f);
  }
  return out;
}

export const aug: HookDefense<AugParams> = {
  id: 'aug',
  stage: 'training',
  description: 'ordinary augmentation during SFT: random translation (edge replication), optional brightness jitter',
  schema: augSchema,
  trainingHook(params) {
    return { transformImages: (images, rng) => images.map((im) => augmentImage(im, params, rng)) };
  },
};
