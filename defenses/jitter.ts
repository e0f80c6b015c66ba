/**
 * `jitter` (inference stage): before generation, translate each test image by a random integer
 * offset (dx, dy) drawn uniformly from the offsets with minShift ≤ max(|dx|, |dy|) ≤ maxShift
 * (default 1–3 px: every direction, never the identity), with edge replication. A patch-aligned
 * trigger then lands off its patch grid, which a PyTorch prototype of this setup found to break BadNets
 * (ASR 97% → 5%). Draws come from the run's seeded inference rng, so results are reproducible.
 */
import { z } from 'zod';
import type { RgbImage } from '../harness/core/types.js';
import type { Rng } from '../harness/core/rng.js';
import { translate } from './translate.js';
import type { TransformDefense } from './types.js';

export const jitterSchema = z
  .object({
    minShift: z.number().int().min(1).max(8).default(1),
    maxShift: z.number().int().min(1).max(8).default(3),
  })
  .strict()
  .refine((p) => p.minShift <= p.maxShift, { message: 'minShift must not exceed maxShift', path: ['minShift'] });
export type JitterParams = z.infer<typeof jitterSchema>;

/** All integer offsets [dx, dy] with min ≤ max(|dx|, |dy|) ≤ max, in a fixed order. */
export function jitterOffsets(min: number, max: number): [number, number][] {
  const out: [number, number][] = [];
  for (let dy = -max; dy <= max; dy++)
    for (let dx = -max; dx <= max; dx++) {
      const r = Math.max(Math.abs(dx), Math.abs(dy));
      if (r >= min && r <= max) out.push([dx, dy]);
    }
  return out;
}

export const jitter: TransformDefense<JitterParams> = {
  id: 'jitter',
  stage: 'inference',
  description: 'inference-time random translation of the test image by 1–3 px (edge replication)',
  schema: jitterSchema as unknown as z.ZodType<JitterParams>,
  transformTestImage(image: RgbImage, params: JitterParams, rng: Rng): RgbImage {
    const [dx, dy] = rng.choice(jitterOffsets(params.minShift, params.maxShift));
    return translate(image, dx, dy);
  },
};
