/**
 * WaNet (Nguyen & Tran, 2021), as BackdoorBench's wanet at 32×32: a smooth, fixed warping field
 * resamples the image; the response is replaced by the target.
 *
 * The field (makeTrigger, seeded, saved in the trigger asset):
 *   control = uniform[−1, 1] of shape 2×k×k, divided by its mean absolute value;
 *   noise   = control upsampled to 2×H×W, **bicubic** with align_corners = true (PyTorch's
 *             F.interpolate/upsample: cubic convolution A = −0.75, border indices clamped);
 *   grid    = clamp((identity + s·noise/H)·gridRescale, −1, 1), identity = linspace(−1, 1)
 *             per axis; channel 0 is x (column), channel 1 is y (row), as in F.grid_sample.
 * Sampling is F.grid_sample(bilinear, zeros padding, align_corners = true): grid value g maps
 * to the source pixel (g + 1)/2·(size − 1). So the displacement is at most
 * s·max|noise|·(W − 1)/(2H) < s·max|noise|/2 pixels (gridRescale = 1).
 *
 * Noise mode (default on, cross ratio 2): an extra crossRatio × rate fraction of the split gets
 * the variant 'cross', a random warp, grid + uniform[−1, 1]/H, clamped, and keeps its clean
 * output (BackdoorBench's "cross" samples).
 *
 * Training-controlled (onTheFly, the default), as the paper and BackdoorBench train it: at
 * every training step the poisoned samples are warped in float (stepImage: no rounding between
 * the warp and the model) and each cross sample gets a fresh random warp from the step's rng.
 * The harness keeps its fixed seeded selection (harness/run/poison.ts says how BackdoorBench's
 * per-batch one differs). Test inputs are the fixed warp rounded to uint8 (applyImage): a
 * deployed attacker submits real 8-bit images, and BackdoorBench too stores its warped test
 * set as 8-bit images. onTheFly false is the former poison-only attack: one warp per sample,
 * stored as uint8 (applyImage, applyVariant round half up and clip).
 */
import { z } from 'zod';
import type { FloatImage, RgbImage } from '../harness/core/types.js';
import type { Rng } from '../harness/core/rng.js';
import { replaceWithTarget } from './outputModifiers.js';
import { checkSize, toUint8 } from './pixels.js';
import { baseFields, type Attack } from './types.js';

const schema = z
  .object({
    ...baseFields,
    /** Side k of the random control grid. */
    k: z.number().int().min(2).max(64).default(4),
    /** Warping strength s. */
    s: z.number().min(0).max(8).default(0.5),
    /** Multiplies the grid before clamping (1 = none); below 1 zooms out, above 1 zooms in. */
    gridRescale: z.number().positive().max(2).default(1),
    /** Add the 'cross' negative samples (random warps that keep clean outputs). */
    noiseMode: z.boolean().default(true),
    /** Cross samples per poisoned sample. */
    crossRatio: z.number().min(0).max(10).default(2),
    /** Warp in float at every training step, fresh cross warps each step (false: stored uint8, one warp per sample). */
    onTheFly: z.boolean().default(true),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.noiseMode && p.rate * (1 + p.crossRatio) > 1 + 1e-12) {
      ctx.addIssue({
        code: 'custom',
        path: ['crossRatio'],
        message: `rate × (1 + crossRatio) = ${p.rate * (1 + p.crossRatio)} exceeds 1: poisoned and cross samples must fit in the split`,
      });
    }
  });
export type WanetParams = z.infer<typeof schema>;

/** The trigger asset: control points (2·k·k, channel-major) and the sampling grid (H·W·2, [x, y] per pixel). */
export interface WanetTrigger {
  size: number;
  k: number;
  control: number[];
  grid: number[];
}

const A = -0.75;
const cubic1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1;
const cubic2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
function cubicCoefficients(t: number): [number, number, number, number] {
  return [cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)];
}

/** Bicubic upsampling of one k×k channel to n×n, align_corners = true (PyTorch's upsample_bicubic2d). */
export function upsampleBicubic(src: ArrayLike<number>, k: number, n: number): Float64Array {
  const scale = n > 1 ? (k - 1) / (n - 1) : 0;
  const at = (y: number, x: number) => src[Math.min(k - 1, Math.max(0, y)) * k + Math.min(k - 1, Math.max(0, x))];
  const out = new Float64Array(n * n);
  for (let oy = 0; oy < n; oy++) {
    const ry = scale * oy;
    const iy = Math.floor(ry);
    const cy = cubicCoefficients(ry - iy);
    for (let ox = 0; ox < n; ox++) {
      const rx = scale * ox;
      const ix = Math.floor(rx);
      const cx = cubicCoefficients(rx - ix);
      let v = 0;
      for (let a = 0; a < 4; a++) {
        let row = 0;
        for (let b = 0; b < 4; b++) row += cx[b] * at(iy - 1 + a, ix - 1 + b);
        v += cy[a] * row;
      }
      out[oy * n + ox] = v;
    }
  }
  return out;
}

/** linspace(−1, 1, n)[i]: the identity grid coordinate of pixel i. */
export function identityCoord(i: number, n: number): number {
  return n > 1 ? -1 + (2 * i) / (n - 1) : 0;
}

const clamp1 = (v: number) => (v < -1 ? -1 : v > 1 ? 1 : v);

/** The warp field of BackdoorBench's WaNet from its control points (see the header). */
export function warpGrid(control: ArrayLike<number>, k: number, size: number, s: number, gridRescale: number): number[] {
  const nx = upsampleBicubic(Array.prototype.slice.call(control, 0, k * k), k, size);
  const ny = upsampleBicubic(Array.prototype.slice.call(control, k * k, 2 * k * k), k, size);
  const grid = new Array<number>(size * size * 2);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      grid[p * 2] = clamp1((identityCoord(x, size) + (s * nx[p]) / size) * gridRescale);
      grid[p * 2 + 1] = clamp1((identityCoord(y, size) + (s * ny[p]) / size) * gridRescale);
    }
  return grid;
}

/** F.grid_sample(image, grid, mode='bilinear', padding_mode='zeros', align_corners=True) in float64. */
function sample(image: RgbImage, grid: ArrayLike<number>): Float64Array {
  const { height: h, width: w } = image;
  if (grid.length !== h * w * 2) throw new Error(`wanet: grid has ${grid.length} values, expected ${h * w * 2}`);
  const src = image.data;
  const out = new Float64Array(src.length);
  const pix = (y: number, x: number, c: number) => (y < 0 || y >= h || x < 0 || x >= w ? 0 : src[(y * w + x) * 3 + c]);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const sx = ((grid[p * 2] + 1) / 2) * (w - 1);
      const sy = ((grid[p * 2 + 1] + 1) / 2) * (h - 1);
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        out[p * 3 + c] =
          (1 - fy) * ((1 - fx) * pix(y0, x0, c) + fx * pix(y0, x0 + 1, c)) +
          fy * ((1 - fx) * pix(y0 + 1, x0, c) + fx * pix(y0 + 1, x0 + 1, c));
      }
    }
  return out;
}

/** The warped image stored as uint8: the grid_sample values rounded half up and clipped. */
export function warpImage(image: RgbImage, grid: ArrayLike<number>): RgbImage {
  return { height: image.height, width: image.width, data: Uint8Array.from(sample(image, grid), toUint8) };
}

/**
 * The warped image in float, unrounded (a convex mix of pixels and zero padding, so within
 * [0, 255] without clipping): what the training loop feeds when the attack is on the fly.
 */
export function warpFloat(image: RgbImage, grid: ArrayLike<number>): FloatImage {
  return { height: image.height, width: image.width, data: Float32Array.from(sample(image, grid)) };
}

/** A 'cross' sample's grid: the trigger's grid plus uniform[−1, 1]/H noise per value, clamped. */
export function crossGrid(grid: readonly number[], size: number, rng: Rng): number[] {
  return grid.map((g) => clamp1(g + (rng.next() * 2 - 1) / size));
}

export const wanet: Attack<WanetParams, WanetTrigger> = {
  id: 'wanet',
  description: 'smooth warping field (k 4, s 0.5), bilinear, in float at every training step; noise mode adds fresh random-warp samples with clean outputs',
  kind: (params) => (params.onTheFly ? 'training-controlled' : 'poison-only'),
  // Climbed by `mbb calibrate` when no poisoning rate implants it: a warp two and four times as strong (the paper's s = 0.5 moves pixels by well under one 4-pixel patch).
  strength: { param: 's', values: [1, 2] },
  schema,
  makeTrigger: (params, { rng, imageSize }) => {
    if (params.k > imageSize) throw new Error(`wanet: k = ${params.k} exceeds the image size ${imageSize}`);
    const raw = Array.from({ length: 2 * params.k * params.k }, () => rng.next() * 2 - 1);
    const meanAbs = raw.reduce((a, v) => a + Math.abs(v), 0) / raw.length;
    const control = raw.map((v) => v / meanAbs);
    const grid = warpGrid(control, params.k, imageSize, params.s, params.gridRescale);
    return { size: imageSize, k: params.k, control, grid };
  },
  applyImage: (image, t) => {
    checkSize('wanet', image, t.size, t.size);
    return warpImage(image, t.grid);
  },
  modifyOutput: replaceWithTarget,
  negatives: (params) => (params.noiseMode && params.crossRatio > 0 ? [{ variant: 'cross', rate: params.crossRatio * params.rate }] : []),
  applyVariant: (input, variant, t, _params, rng) => {
    if (variant !== 'cross') throw new Error(`wanet: unknown variant "${variant}"`);
    checkSize('wanet', input.image, t.size, t.size);
    return { image: warpImage(input.image, crossGrid(t.grid, t.size, rng)), prompt: input.prompt };
  },
  stepImage: (image, variant, t, _params, rng) => {
    checkSize('wanet', image, t.size, t.size);
    if (variant === undefined) return warpFloat(image, t.grid);
    if (variant !== 'cross') throw new Error(`wanet: unknown variant "${variant}"`);
    return warpFloat(image, crossGrid(t.grid, t.size, rng));
  },
};
