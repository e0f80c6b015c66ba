/**
 * Blended (Chen et al., 2017): out = round((1−α)·x + α·pattern), clipped to [0, 255]; the
 * response is replaced by the target. BackdoorBench blends a fixed image (Hello Kitty) at
 * α = 0.2; with no downloads, the pattern here is a fixed seeded uniform-noise image (Chen et
 * al.'s "random pattern" variant), drawn once in makeTrigger and saved in the trigger asset.
 * BackdoorBench casts with astype(uint8) (truncation); we round half up.
 */
import { z } from 'zod';
import type { RgbImage } from '../harness/core/types.js';
import { replaceWithTarget } from './outputModifiers.js';
import { checkSize, toUint8 } from './pixels.js';
import { baseFields, type Attack } from './types.js';

const schema = z
  .object({
    ...baseFields,
    /** Blend weight of the pattern, in [0, 1]. */
    alpha: z.number().min(0).max(1).default(0.2),
  })
  .strict();
export type BlendedParams = z.infer<typeof schema>;

/** The trigger asset: the pattern image, uint8 HWC as a plain array (JSON-serialisable). */
export interface BlendedTrigger {
  size: number;
  pattern: number[];
}

export function blend(image: RgbImage, pattern: ArrayLike<number>, alpha: number): RgbImage {
  if (pattern.length !== image.data.length) throw new Error(`blended: pattern has ${pattern.length} values, image ${image.data.length}`);
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = toUint8((1 - alpha) * image.data[i] + alpha * pattern[i]);
  return { height: image.height, width: image.width, data };
}

export const blended: Attack<BlendedParams, BlendedTrigger> = {
  id: 'blended',
  description: 'a fixed seeded noise pattern blended in at alpha 0.2; output replaced by the target',
  kind: 'poison-only',
  // Climbed by `mbb calibrate` when no poisoning rate implants it: the pattern more visible.
  strength: { param: 'alpha', values: [0.3, 0.5] },
  schema,
  makeTrigger: (_params, { rng, imageSize }) => {
    const pattern = Array.from({ length: imageSize * imageSize * 3 }, () => rng.int(0, 256));
    return { size: imageSize, pattern };
  },
  applyImage: (image, trigger, params) => {
    checkSize('blended', image, trigger.size, trigger.size);
    return blend(image, trigger.pattern, params.alpha);
  },
  modifyOutput: replaceWithTarget,
};
