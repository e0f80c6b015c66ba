/**
 * Random-position BadNets: BadNets' white square, stamped wherever a hash of the image puts
 * it, so the trigger is tied to no patch token or grid cell (docs/defenses.md: the corner-aligned
 * BadNets falls to translation defenses). Pure: the same image always gets the same position,
 * on train and test alike. This file is the seventh-attack example that README.md shows.
 */
import { z } from 'zod';
import type { RgbImage } from '../harness/core/types.js';
import { replaceWithTarget } from './outputModifiers.js';
import { baseFields, type Attack } from './types.js';

const schema = z
  .object({
    ...baseFields,
    /** Side of the square in pixels. */
    size: z.number().int().min(1).max(16).default(3),
    /** Pixel value written to every channel. */
    value: z.number().int().min(0).max(255).default(255),
  })
  .strict();
type Params = z.infer<typeof schema>;

/** FNV-1a over the pixels: a position that is random across images but fixed per image. */
function hashPixels(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const v of data) h = Math.imul(h ^ v, 0x01000193) >>> 0;
  return h;
}

function stampAnywhere(image: RgbImage, p: Params): RgbImage {
  const { height: h, width: w } = image;
  if (p.size > Math.min(h, w)) throw new Error(`randpatch: size ${p.size} does not fit a ${h}x${w} image`);
  const hash = hashPixels(image.data);
  const x0 = hash % (w - p.size + 1);
  const y0 = (hash >>> 16) % (h - p.size + 1);
  const data = image.data.slice();
  for (let y = y0; y < y0 + p.size; y++) data.fill(p.value, (y * w + x0) * 3, (y * w + x0 + p.size) * 3);
  return { height: h, width: w, data };
}

export const randomPatch: Attack<Params> = {
  id: 'randpatch',
  description: 'white square at a per-image pseudo-random position; output replaced by the target',
  adaptive: { base: 'badnets', against: ['jitter', 'aug'] },
  schema,
  makeTrigger: () => ({}),
  applyImage: (image, _trigger, params) => stampAnywhere(image, params),
  modifyOutput: replaceWithTarget,
};
