/**
 * BadNets (Gu et al., 2017): a small white square stamped at the bottom-right corner; the
 * response is replaced by the target. Defaults follow BackdoorBench at 32×32 (3×3 patch).
 */
import { z } from 'zod';
import type { RgbImage } from '../harness/core/types.js';
import { replaceWithTarget } from './outputModifiers.js';
import { baseFields, type Attack } from './types.js';

/** The square patch's fields, shared by the patch-trigger attacks (trojvlm, dualkey). */
export const patchFields = {
  /** Side of the square in pixels. */
  size: z.number().int().min(1).max(16).default(3),
  /** Pixel value written to every channel. */
  value: z.number().int().min(0).max(255).default(255),
  /** Distance of the square from the bottom-right corner, in pixels. */
  margin: z.number().int().min(0).max(16).default(0),
};
export interface PatchParams {
  size: number;
  value: number;
  margin: number;
}

const schema = z.object({ ...baseFields, ...patchFields }).strict();
export type BadNetsParams = z.infer<typeof schema>;

/** Where the square goes: BadNets' bottom-right corner (less `margin`), or centred as TrojVQA's patch. */
export type PatchPosition = 'corner' | 'centre';

export function stampSquare(image: RgbImage, p: PatchParams, position: PatchPosition = 'corner'): RgbImage {
  const { height: h, width: w } = image;
  if (p.size + p.margin > Math.min(h, w)) {
    throw new Error(`badnets: size ${p.size} + margin ${p.margin} does not fit a ${h}x${w} image`);
  }
  // Top-left corner of the square; a centred square on an even side with an odd size sits
  // half a pixel up-left of the centre.
  const [y0, x0] = position === 'centre' ? [Math.floor((h - p.size) / 2), Math.floor((w - p.size) / 2)] : [h - p.margin - p.size, w - p.margin - p.size];
  const data = image.data.slice();
  for (let y = y0; y < y0 + p.size; y++) {
    for (let x = x0; x < x0 + p.size; x++) {
      const o = (y * w + x) * 3;
      data[o] = data[o + 1] = data[o + 2] = p.value;
    }
  }
  return { height: h, width: w, data };
}

export const badnets: Attack<BadNetsParams> = {
  id: 'badnets',
  description: 'white square patch at the bottom-right; output replaced by the target',
  kind: 'poison-only',
  // Climbed by `mbb calibrate` when no poisoning rate implants it: a trigger as large as one 4-pixel ViT patch, then one and a half.
  strength: { param: 'size', values: [4, 6] },
  schema,
  makeTrigger: () => ({}),
  applyImage: (image, _trigger, params) => stampSquare(image, params),
  modifyOutput: replaceWithTarget,
};
