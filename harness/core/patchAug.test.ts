import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { patchAug } from './patchAug.js';

function gradientImage(size: number) {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set([i % 256, (i * 7) % 256, (i * 13) % 256], i * 3);
  return { height: size, width: size, data };
}

/** The image's g×g patches as strings, to compare as multisets. */
function patches(img: { width: number; data: Uint8Array }, g: number): string[] {
  const p = img.width / g;
  const out: string[] = [];
  for (let gy = 0; gy < g; gy++)
    for (let gx = 0; gx < g; gx++) {
      const px: number[] = [];
      for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) px.push(...img.data.slice(((gy * p + y) * img.width + gx * p + x) * 3, ((gy * p + y) * img.width + gx * p + x) * 3 + 3));
      out.push(px.join(','));
    }
  return out;
}

const base = { grid: 4, shuffle: 0, noiseFraction: 0, noiseSigma: 0, maskFraction: 0 };

describe('patchAug', () => {
  it('is the identity with every op off', () => {
    const img = gradientImage(8);
    expect(Array.from(patchAug(img, base, new Rng(1)).data)).toEqual(Array.from(img.data));
  });
  it('shuffle permutes whole patches (same multiset, different order)', () => {
    const img = gradientImage(16);
    const out = patchAug(img, { ...base, shuffle: 1 }, new Rng(1));
    expect(patches(out, 4).slice().sort()).toEqual(patches(img, 4).slice().sort());
    expect(patches(out, 4)).not.toEqual(patches(img, 4));
  });
  it('masking zeroes exactly round(fraction × g²) patches', () => {
    const img = { height: 8, width: 8, data: new Uint8Array(8 * 8 * 3).fill(100) };
    const out = patchAug(img, { ...base, maskFraction: 0.25 }, new Rng(3));
    expect(patches(out, 4).filter((p) => /^0(,0)*$/.test(p)).length).toBe(4);
  });
  it('noise stays inside the chosen patches and within [0,255]', () => {
    const img = { height: 8, width: 8, data: new Uint8Array(8 * 8 * 3).fill(250) };
    const out = patchAug(img, { ...base, noiseFraction: 0.5, noiseSigma: 0.2 }, new Rng(4));
    const changed = patches(out, 4).filter((p, i) => p !== patches(img, 4)[i]).length;
    expect(changed).toBe(8);
    expect(Math.max(...out.data)).toBeLessThanOrEqual(255);
  });
  it('is deterministic for a seed', () => {
    const img = gradientImage(16);
    const o = { ...base, shuffle: 0.5, noiseFraction: 0.3, noiseSigma: 0.1 };
    expect(Array.from(patchAug(img, o, new Rng(9)).data)).toEqual(Array.from(patchAug(img, o, new Rng(9)).data));
  });
  it('refuses a grid that does not divide the image', () => {
    expect(() => patchAug(gradientImage(10), { ...base, grid: 4 }, new Rng(1))).toThrow(/grid 4/);
  });

  it('keeps a float image float and unrounded: the same shuffle and mask, noise only clipped', () => {
    const img = gradientImage(8);
    const fl = { height: 8, width: 8, data: Float32Array.from(img.data, (v) => v * 0.999 + 0.3) };
    const o = { grid: 4, shuffle: 1, noiseFraction: 0, noiseSigma: 0, maskFraction: 0.25 };
    const outU = patchAug(img, o, new Rng(3));
    const outF = patchAug(fl, o, new Rng(3));
    expect(outF.data).toBeInstanceOf(Float32Array);
    // every float value is ≥ 0.3, so the zeros are exactly the 4 masked 2×2 patches
    expect(Array.from(outF.data).filter((v) => v === 0).length).toBe(4 * 4 * 3);
    expect(Array.from(outF.data)).toEqual(Array.from(outU.data, (v, i) => (outF.data[i] === 0 ? 0 : Math.fround(v * 0.999 + 0.3))));
    const noisy = patchAug(fl, { ...o, shuffle: 0, maskFraction: 0, noiseFraction: 1, noiseSigma: 0.1 }, new Rng(4));
    expect(Array.from(noisy.data).some((v) => v !== Math.round(v))).toBe(true);
    expect(Array.from(noisy.data).every((v) => v >= 0 && v <= 255)).toBe(true);
  });
});
