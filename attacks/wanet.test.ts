import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import type { RgbImage } from '../harness/core/types.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { cleanExamples } from '../harness/run/examples.js';
import { poisonSplit } from '../harness/run/poison.js';
import { Rng } from '../harness/core/rng.js';
import { identityCoord, upsampleBicubic, wanet, warpFloat, warpImage, type WanetTrigger } from './wanet.js';

const defaults = parseWith(wanet.schema, {}, 'wanet');

function randomImage(size: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  return { height: size, width: size, data: Uint8Array.from({ length: size * size * 3 }, () => rng.int(0, 256)) };
}

/** Source-pixel displacement of every output pixel, in pixels (x and y). */
function displacements(grid: number[], size: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      out.push(((grid[p * 2] + 1) / 2) * (size - 1) - x, ((grid[p * 2 + 1] + 1) / 2) * (size - 1) - y);
    }
  return out;
}

describe('wanet', () => {
  it('defaults follow BackdoorBench (k 4, s 0.5, grid_rescale 1, cross ratio 2)', () => {
    expect(defaults).toEqual({ rate: 0.05, target: '', k: 4, s: 0.5, gridRescale: 1, noiseMode: true, crossRatio: 2, onTheFly: true });
  });

  it('s = 0 gives exactly the input', () => {
    const params = { ...defaults, s: 0 };
    const t = wanet.makeTrigger(params, { rng: new Rng(1), imageSize: 32 });
    for (const seed of [1, 2]) {
      const img = randomImage(32, seed);
      expect(Array.from(wanet.applyImage(img, t, params).data)).toEqual(Array.from(img.data));
    }
  });

  it('bicubic upsampling matches PyTorch align_corners=True (A = −0.75), hand-computed', () => {
    // rows [0, 1, 0, 0], 4 → 7: t = 0.5 coefficients (−0.09375, 0.59375, 0.59375, −0.09375), edges clamped
    const src = [0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0];
    const up = upsampleBicubic(src, 4, 7);
    const row = Array.from(up.slice(0, 7));
    expect(row).toEqual([0, 0.59375, 1, 0.59375, 0, -0.09375, 0].map((v) => expect.closeTo(v, 12)));
    for (let y = 1; y < 7; y++) expect(Array.from(up.slice(y * 7, y * 7 + 7))).toEqual(row.map((v) => expect.closeTo(v, 12)));
    // a constant stays constant; same size is the identity
    expect(Array.from(upsampleBicubic(new Array(16).fill(0.3), 4, 32)).every((v) => Math.abs(v - 0.3) < 1e-12)).toBe(true);
    expect(Array.from(upsampleBicubic(src, 4, 4))).toEqual(src);
  });

  it('bilinear grid sampling with zero padding: half-pixel shift, hand-computed', () => {
    // 1×4 rows shifted half a pixel right: source x + 0.5; the last pixel reads half outside (zero)
    const row = [0, 10, 20, 40];
    const image: RgbImage = { height: 1, width: 4, data: Uint8Array.from(row.flatMap((v) => [v, v, 255 - v])) };
    const grid = [0, 1, 2, 3].flatMap((x) => [identityCoord(x, 4) + 1 / 3, 0]); // 0.5 px = 0.5·2/(W−1)
    const out = warpImage(image, grid);
    expect(Array.from(out.data)).toEqual([5, 5, 250, 15, 15, 240, 30, 30, 225, 20, 20, 108]);
    // 255 − 40 = 215 → (215 + 0)/2 = 107.5 → rounds half up to 108
  });

  it('the seeded field is saved, normalised, and warps a ramp exactly as bilinear predicts', () => {
    const a = wanet.makeTrigger(defaults, { rng: new Rng(3), imageSize: 32 }) as WanetTrigger;
    const b = wanet.makeTrigger(defaults, { rng: new Rng(3), imageSize: 32 }) as WanetTrigger;
    const c = wanet.makeTrigger(defaults, { rng: new Rng(4), imageSize: 32 }) as WanetTrigger;
    expect(a).toEqual(b);
    expect(a.grid).not.toEqual(c.grid);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(a.control.length).toBe(2 * 4 * 4);
    expect(a.grid.length).toBe(32 * 32 * 2);
    expect(a.control.reduce((s, v) => s + Math.abs(v), 0) / a.control.length).toBeCloseTo(1, 12);
    expect(a.grid.every((g) => g >= -1 && g <= 1)).toBe(true);
    // a horizontal ramp v = 4x + 60 is linear, so bilinear sampling returns 4·sx + 60 exactly
    const ramp: RgbImage = { height: 32, width: 32, data: new Uint8Array(32 * 32 * 3) };
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) ramp.data.fill(4 * x + 60, (y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
    const out = wanet.applyImage(ramp, a, defaults);
    for (let p = 0; p < 32 * 32; p++) {
      const sx = ((a.grid[p * 2] + 1) / 2) * 31;
      expect(out.data[p * 3]).toBe(Math.round(4 * sx + 60));
    }
  });

  it('the float warp is the uint8 warp before rounding: exact on a ramp, rounds to it on a random image', () => {
    const t = wanet.makeTrigger(defaults, { rng: new Rng(3), imageSize: 32 }) as WanetTrigger;
    const ramp: RgbImage = { height: 32, width: 32, data: new Uint8Array(32 * 32 * 3) };
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) ramp.data.fill(4 * x + 60, (y * 32 + x) * 3, (y * 32 + x) * 3 + 3);
    const f = warpFloat(ramp, t.grid);
    expect(f.data).toBeInstanceOf(Float32Array);
    for (let p = 0; p < 32 * 32; p++) expect(f.data[p * 3]).toBeCloseTo(4 * ((t.grid[p * 2] + 1) / 2) * 31 + 60, 4);
    const img = randomImage(32, 9);
    const fl = warpFloat(img, t.grid).data;
    const u8 = warpImage(img, t.grid).data;
    let fractional = 0;
    for (let i = 0; i < fl.length; i++) {
      expect(Math.abs(fl[i] - u8[i])).toBeLessThanOrEqual(0.5 + 1e-4);
      // float32 storage may move a value across a .5 rounding boundary; away from one they agree
      if (Math.abs((fl[i] % 1) - 0.5) > 1e-3) expect(Math.round(fl[i])).toBe(u8[i]);
      if (Math.abs(fl[i] - Math.round(fl[i])) > 0.01) fractional++;
    }
    expect(fractional).toBeGreaterThan(fl.length / 2); // the float path really is unrounded
  });

  it('displacement is bounded by s·max|noise|·(W−1)/(2H) pixels and is not zero', () => {
    for (const s of [0.5, 2]) {
      const params = { ...defaults, s };
      for (const seed of [1, 2, 3]) {
        const t = wanet.makeTrigger(params, { rng: new Rng(seed), imageSize: 32 }) as WanetTrigger;
        const maxControl = Math.max(...t.control.map(Math.abs));
        const maxNoise = maxControl * 1.375 ** 2; // bicubic (A = −0.75) overshoots by at most 1.375 per axis
        const d = displacements(t.grid, 32).map(Math.abs);
        expect(Math.max(...d)).toBeLessThanOrEqual((s * maxNoise * 31) / (2 * 32) + 1e-9);
        expect(Math.max(...d)).toBeGreaterThan(0.05 * s);
      }
    }
  });

  it('refuses out-of-range values, naming the field', () => {
    const p = (v: unknown) => () => parseWith(wanet.schema, v, 'attack wanet params');
    expect(p({ s: -0.5 })).toThrow(/\bs\b/);
    expect(p({ k: 1 })).toThrow(/\bk\b/);
    expect(p({ k: 2.5 })).toThrow(/\bk\b/);
    expect(p({ gridRescale: 0 })).toThrow(/gridRescale/);
    expect(p({ crossRatio: -1 })).toThrow(/crossRatio/);
    expect(p({ rate: -0.1 })).toThrow(/rate/);
    expect(p({ rate: 0.5 })).toThrow(/crossRatio: rate × \(1 \+ crossRatio\) = 1.5 exceeds 1/);
    expect(p({ rate: 0.5, noiseMode: false })).not.toThrow();
    expect(() => wanet.makeTrigger({ ...defaults, k: 40 }, { rng: new Rng(1), imageSize: 32 })).toThrow(/k = 40/);
  });

  it('noise mode: 2×rate extra samples get a different random warp and keep clean outputs', () => {
    const ds = generateShapesWorld({ seed: 5, nTrain: 100, nVal: 1, nTest: 1 }, 'caption');
    const clean = cleanExamples(ds.train, 'caption');
    const params = { ...defaults, rate: 0.1 };
    const p = poisonSplit(ds.train, 'caption', wanet, params, 2, 32);
    const cross = p.negativeIndices.cross;
    expect(p.indices.length).toBe(10);
    expect(cross.length).toBe(20);
    expect(cross.filter((i) => p.indices.includes(i))).toEqual([]);
    expect(cross).toEqual([...cross].sort((a, b) => a - b));
    for (const i of p.indices) expect(p.examples[i].image).toEqual(wanet.applyImage(ds.train[i].image, p.trigger, params));
    for (const i of cross) {
      const ex = p.examples[i];
      expect(ex.responses).toEqual(clean[i].responses);
      expect(ex.poisoned).toBe(false);
      expect(ex.image).not.toEqual(ds.train[i].image);
      expect(ex.image).not.toEqual(wanet.applyImage(ds.train[i].image, p.trigger, params));
    }
    // the cross samples' warps differ from each other (per-sample noise): same image, two draws
    const v1 = wanet.applyVariant!({ image: ds.train[0].image, prompt: '' }, 'cross', p.trigger, params, new Rng(1));
    const v2 = wanet.applyVariant!({ image: ds.train[0].image, prompt: '' }, 'cross', p.trigger, params, new Rng(2));
    expect(v1.image).not.toEqual(v2.image);
    // seeded: the same seed gives the same split (stepImage closures aside, tested in wanetSteps.test.ts)
    const stored = (split: typeof p) => ({ ...split, examples: split.examples.map(({ stepImage: _, ...ex }) => ex) });
    expect(stored(poisonSplit(ds.train, 'caption', wanet, params, 2, 32))).toEqual(stored(p));
    // noise mode off: no negatives
    expect(poisonSplit(ds.train, 'caption', wanet, { ...params, noiseMode: false }, 2, 32).negativeIndices).toEqual({});
  });
});
