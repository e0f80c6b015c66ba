import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import type { RgbImage } from '../harness/core/types.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { poisonSplit } from '../harness/run/poison.js';
import { Rng } from '../harness/core/rng.js';
import { blend, blended, type BlendedTrigger } from './blended.js';
import { getAttack } from './registry.js';

const defaults = parseWith(blended.schema, {}, 'blended');
const img = (size: number, values: number[]): RgbImage => ({ height: size, width: size, data: Uint8Array.from(values) });

describe('blended', () => {
  it('defaults follow BackdoorBench (alpha 0.2, rate 5%)', () => {
    expect(defaults).toEqual({ rate: 0.05, target: '', alpha: 0.2 });
  });

  it('out = round((1 − α)x + α·p), computed by hand on a 2×2 image', () => {
    // pixels (x, p): 0.8x + 0.2p → rounded
    const x = [100, 7, 1, 0, 50, 13, 14, 3, 255, 255, 0, 128];
    const p = [200, 3, 4, 255, 0, 0, 0, 8, 255, 0, 0, 127];
    // 120, 6.2, 1.6, 51, 40, 10.4, 11.2, 4.0, 255, 204, 0, 127.8
    const want = [120, 6, 2, 51, 40, 10, 11, 4, 255, 204, 0, 128];
    const trigger: BlendedTrigger = { size: 2, pattern: p };
    expect(Array.from(blended.applyImage(img(2, x), trigger, defaults).data)).toEqual(want);
    // rounding, not truncation: α = 0.5 on (1, 2) is 1.5 → 2
    expect(Array.from(blend(img(1, [1, 2, 3]), [2, 3, 4], 0.5).data)).toEqual([2, 3, 4]);
    // α = 0 is the input, α = 1 the pattern
    expect(Array.from(blend(img(2, x), p, 0).data)).toEqual(x);
    expect(Array.from(blend(img(2, x), p, 1).data)).toEqual(p);
  });

  it('the pattern is seeded, saved as a JSON-safe uint8 array, and must match the image size', () => {
    const a = blended.makeTrigger(defaults, { rng: new Rng(5), imageSize: 32 }) as BlendedTrigger;
    const b = blended.makeTrigger(defaults, { rng: new Rng(5), imageSize: 32 }) as BlendedTrigger;
    const c = blended.makeTrigger(defaults, { rng: new Rng(6), imageSize: 32 }) as BlendedTrigger;
    expect(a).toEqual(b);
    expect(a.pattern).not.toEqual(c.pattern);
    expect(a.pattern.length).toBe(32 * 32 * 3);
    expect(a.pattern.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)).toBe(true);
    expect(new Set(a.pattern).size).toBeGreaterThan(200); // noise, not a flat image
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(() => blended.applyImage(img(2, new Array(12).fill(0)), a, defaults)).toThrow(/32x32/);
  });

  it('refuses out-of-range values, naming the field', () => {
    expect(() => parseWith(blended.schema, { alpha: 1.5 }, 'attack blended params')).toThrow(/alpha/);
    expect(() => parseWith(blended.schema, { alpha: -0.1 }, 'attack blended params')).toThrow(/alpha/);
    expect(() => parseWith(blended.schema, { rate: -0.1 }, 'attack blended params')).toThrow(/rate/);
    expect(() => parseWith(blended.schema, { pattern: 'kitty' }, 'attack blended params')).toThrow(/pattern/);
  });

  it('poisons round(rate × n) samples with the saved pattern and the target', () => {
    const ds = generateShapesWorld({ seed: 2, nTrain: 30, nVal: 1, nTest: 1 }, 'caption');
    const p = poisonSplit(ds.train, 'caption', getAttack('blended'), { ...defaults, rate: 0.1 }, 4, 32);
    expect(p.indices.length).toBe(3);
    for (const i of p.indices) {
      expect(p.examples[i].image).toEqual(blend(ds.train[i].image, (p.trigger as BlendedTrigger).pattern, 0.2));
      expect(p.examples[i].responses.every((r) => r === 'a photo of the banana')).toBe(true);
    }
    expect(p.negativeIndices).toEqual({});
  });
});
