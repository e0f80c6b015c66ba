/**
 * SIG (Barni et al., 2019), as BackdoorBench's sigTriggerAttack: a horizontal sinusoid added
 * to every row and channel, out[i][j] = clip(round(x[i][j] + Δ·sin(2π·j·f/W)), 0, 255) with j
 * the column and W the width; Δ = 40, f = 6. BackdoorBench casts with uint8 after clipping
 * (truncation); we round half up.
 *
 * Dirty-label by default (output replaced by the target). `cleanLabel: true` is the paper's
 * original setting: only samples whose clean responses all contain the target get the stripes,
 * and their outputs stay unchanged (harness/run/poison.ts selects them; it fails if none qualify).
 */
import { z } from 'zod';
import type { RgbImage } from '../harness/core/types.js';
import { replaceWithTarget } from './outputModifiers.js';
import { toUint8 } from './pixels.js';
import { baseFields, type Attack } from './types.js';

const schema = z
  .object({
    ...baseFields,
    /** Amplitude Δ in grey levels. */
    delta: z.number().min(0).max(255).default(40),
    /** Frequency f: periods across the image width. */
    f: z.number().positive().max(128).default(6),
    /** Poison only target-consistent samples and keep their outputs. */
    cleanLabel: z.boolean().default(false),
  })
  .strict();
export type SigParams = z.infer<typeof schema>;

export function addSinusoid(image: RgbImage, delta: number, f: number): RgbImage {
  const { height: h, width: w } = image;
  const data = new Uint8Array(image.data.length);
  for (let j = 0; j < w; j++) {
    const v = delta * Math.sin((2 * Math.PI * j * f) / w);
    for (let i = 0; i < h; i++) {
      const o = (i * w + j) * 3;
      for (let c = 0; c < 3; c++) data[o + c] = toUint8(image.data[o + c] + v);
    }
  }
  return { height: h, width: w, data };
}

export const sig: Attack<SigParams> = {
  id: 'sig',
  description: 'horizontal sinusoidal stripes (delta 40, f 6); dirty-label by default, clean-label option',
  kind: 'poison-only',
  // Climbed by `mbb calibrate` when no poisoning rate implants it: stronger stripes.
  strength: { param: 'delta', values: [60, 80] },
  schema,
  makeTrigger: () => ({}),
  applyImage: (image, _trigger, params) => addSinusoid(image, params.delta, params.f),
  modifyOutput: replaceWithTarget,
  cleanLabel: (params) => params.cleanLabel,
};
