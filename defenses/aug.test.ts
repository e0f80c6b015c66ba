import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { Rng } from '../harness/core/rng.js';
import { solidImage, tinyModelConfig } from '../harness/core/testing.js';
import { aug, augmentImage, augSchema } from './aug.js';
import { translate } from './translate.js';

/** A 6×5 image whose pixel (y, x) is [10y + x, 100 + 10y + x, 7]: every pixel distinct. */
function indexImage(h = 6, w = 5) {
  const data = new Uint8Array(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set([10 * y + x, 100 + 10 * y + x, 7], (y * w + x) * 3);
  return { height: h, width: w, data };
}
const px = (img: { width: number; data: Uint8Array }, y: number, x: number) => Array.from(img.data.slice((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
const clamp = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));

/** The (dx, dy) for which `out` is an exact edge-replicated shift of `img`, if any. */
function findShift(img: ReturnType<typeof indexImage>, out: { width: number; data: Uint8Array }, max: number): [number, number] | undefined {
  for (let dy = -max; dy <= max; dy++)
    for (let dx = -max; dx <= max; dx++) {
      if (Array.from(translate(img, dx, dy).data).every((v, i) => v === out.data[i])) return [dx, dy];
    }
  return undefined;
}

describe('translate', () => {
  it('moves content by (dx, dy) and replicates the edges', () => {
    const img = indexImage();
    for (const [dx, dy] of [[2, 1], [-1, -3], [0, 0], [4, -1]]) {
      const out = translate(img, dx, dy);
      for (let y = 0; y < 6; y++)
        for (let x = 0; x < 5; x++) expect(px(out, y, x)).toEqual(px(img, clamp(y - dy, 6), clamp(x - dx, 5)));
    }
    // Spelled out: right by 2 → the first columns repeat column 0.
    const out = translate(img, 2, 0);
    expect(px(out, 3, 0)).toEqual([30, 130, 7]);
    expect(px(out, 3, 1)).toEqual([30, 130, 7]);
    expect(px(out, 3, 2)).toEqual([30, 130, 7]);
    expect(px(out, 3, 4)).toEqual([32, 132, 7]);
  });
  it('leaves the input untouched and refuses fractional offsets', () => {
    const img = indexImage();
    const copy = Array.from(img.data);
    translate(img, 1, 1);
    expect(Array.from(img.data)).toEqual(copy);
    expect(() => translate(img, 0.5, 0)).toThrow(/integers/);
  });
});

describe('aug', () => {
  it('refuses out-of-range knobs by name', () => {
    expect(() => parseWith(augSchema, { maxShift: -1 }, 'defense aug params')).toThrow(/maxShift/);
    expect(() => parseWith(augSchema, { maxShift: 1.5 }, 'defense aug params')).toThrow(/maxShift/);
    expect(() => parseWith(augSchema, { brightness: 2 }, 'defense aug params')).toThrow(/brightness/);
    expect(() => parseWith(augSchema, { flip: true }, 'defense aug params')).toThrow(/flip/);
    expect(parseWith(augSchema, {}, 'aug')).toEqual({ maxShift: 2, brightness: 0 });
  });

  it('each augmented image is an exact edge-replicated shift of at most maxShift, covering every offset', () => {
    const img = indexImage(8, 8);
    const rng = new Rng(5);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = findShift(img, augmentImage(img, { maxShift: 2, brightness: 0 }, rng), 3);
      expect(s).toBeDefined();
      expect(Math.max(Math.abs(s![0]), Math.abs(s![1]))).toBeLessThanOrEqual(2);
      seen.add(s!.join(','));
    }
    expect(seen.size).toBe(25);
  });

  it('is deterministic per seed, and the hook maps a batch image by image', () => {
    const hook = aug.trainingHook(parseWith(augSchema, {}, 'aug'), { task: 'caption', model: tinyModelConfig() });
    const batch = [indexImage(8, 8), indexImage(8, 8), indexImage(8, 8)];
    const a = hook.transformImages!(batch, new Rng(9)).map((im) => Array.from(im.data));
    const b = hook.transformImages!(batch, new Rng(9)).map((im) => Array.from(im.data));
    const c = hook.transformImages!(batch, new Rng(10)).map((im) => Array.from(im.data));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(hook.loss).toBeUndefined();
  });

  it('brightness jitter scales by one factor per image, uniform in [1 − b, 1 + b], rounded and clipped', () => {
    const img = solidImage(4, [100, 200, 250]);
    const rng = new Rng(2);
    const mirror = new Rng(2); // the documented draws: dx, dy, then the factor
    const factors: number[] = [];
    for (let i = 0; i < 50; i++) {
      const out = augmentImage(img, { maxShift: 0, brightness: 0.2 }, rng);
      mirror.next();
      mirror.next();
      const f = 1 + 0.2 * (2 * mirror.next() - 1);
      factors.push(f);
      for (let j = 0; j < out.data.length; j += 3) {
        expect(Array.from(out.data.slice(j, j + 3))).toEqual([100, 200, 250].map((v) => Math.min(255, Math.round(v * f))));
      }
    }
    expect(Math.min(...factors)).toBeGreaterThanOrEqual(0.8);
    expect(Math.max(...factors)).toBeLessThanOrEqual(1.2);
    expect(Math.min(...factors)).toBeLessThan(0.9);
    expect(Math.max(...factors)).toBeGreaterThan(1.1); // some clip at 255 in the blue channel
  });

  it('keeps a float image (from a training-controlled attack) float: the same shift, brightness clipped but not rounded', () => {
    const img = indexImage(8, 8);
    const fl = { height: 8, width: 8, data: Float32Array.from(img.data, (v) => v + 0.5) };
    const p = { maxShift: 2, brightness: 0.2 };
    const outU = augmentImage(img, { ...p, brightness: 0 }, new Rng(6));
    const outF = augmentImage(fl, p, new Rng(6));
    expect(outF.data).toBeInstanceOf(Float32Array);
    const f = outF.data[0] / (outU.data[0] + 0.5);
    expect(Math.abs(f - 1)).toBeGreaterThan(0.001);
    expect(Array.from(outF.data)).toEqual(Array.from(outU.data, (v) => Math.fround(Math.min(255, (v + 0.5) * f))).map((v) => expect.closeTo(v, 3)));
    expect(Array.from(outF.data).some((v) => v !== Math.round(v))).toBe(true);
  });
});
