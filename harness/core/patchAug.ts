/**
 * PCR's perturbed view x̃ = PatchAug(x): the image is cut into a g×g grid of patches and
 * (1) a fraction of patch positions is shuffled, (2) Gaussian noise is added inside a fraction
 * of patches, (3) a fraction of patches is masked to zero. HWC in, the same kind out: uint8
 * noise is rounded and clipped, a float image (a training-controlled attack's) only clipped.
 */
import type { PixelImage } from './types.js';
import { blankLike, storeAs } from './pixelImage.js';
import type { Rng } from './rng.js';

export interface PatchAugOptions {
  grid: number;
  /** Fraction of patch positions permuted among themselves (1 = shuffle all). */
  shuffle: number;
  /** Fraction of patches receiving noise, and its σ on the [0,1] scale. */
  noiseFraction: number;
  noiseSigma: number;
  /** Fraction of patches set to zero. */
  maskFraction: number;
}

function pickPatches(rng: Rng, n: number, fraction: number): number[] {
  return rng.sample(n, Math.round(fraction * n));
}

export function patchAug<T extends PixelImage>(image: T, o: PatchAugOptions, rng: Rng): T {
  const { height: h, width: w } = image;
  if (h % o.grid || w % o.grid) throw new Error(`pcr: grid ${o.grid} does not divide the ${h}x${w} image`);
  const ph = h / o.grid;
  const pw = w / o.grid;
  const n = o.grid * o.grid;
  // Source patch of each destination patch.
  const source = Array.from({ length: n }, (_, i) => i);
  const moved = pickPatches(rng, n, o.shuffle);
  const perm = rng.shuffle(moved);
  moved.forEach((dst, k) => (source[dst] = perm[k]));
  const result = blankLike(image);
  const out = result.data;
  const store = storeAs(image);
  for (let dst = 0; dst < n; dst++) {
    const src = source[dst];
    const dy = Math.floor(dst / o.grid) * ph;
    const dx = (dst % o.grid) * pw;
    const sy = Math.floor(src / o.grid) * ph;
    const sx = (src % o.grid) * pw;
    for (let y = 0; y < ph; y++) {
      const from = ((sy + y) * w + sx) * 3;
      out.set(image.data.subarray(from, from + pw * 3), ((dy + y) * w + dx) * 3);
    }
  }
  const patchPixels = (p: number, f: (o: number) => void) => {
    const y0 = Math.floor(p / o.grid) * ph;
    const x0 = (p % o.grid) * pw;
    for (let y = y0; y < y0 + ph; y++) for (let x = x0; x < x0 + pw; x++) f((y * w + x) * 3);
  };
  if (o.noiseFraction > 0 && o.noiseSigma > 0) {
    for (const p of pickPatches(rng, n, o.noiseFraction)) {
      patchPixels(p, (off) => {
        for (let c = 0; c < 3; c++) {
          out[off + c] = store(out[off + c] + rng.normal() * o.noiseSigma * 255);
        }
      });
    }
  }
  if (o.maskFraction > 0) {
    for (const p of pickPatches(rng, n, o.maskFraction)) patchPixels(p, (off) => out.fill(0, off, off + 3));
  }
  return result;
}
