import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { Rng } from '../harness/core/rng.js';
import { jitter, jitterOffsets, jitterSchema } from './jitter.js';
import { translate } from './translate.js';

function indexImage(size = 8) {
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < size * size; i++) data.set([i, 255 - i, (3 * i) % 256], i * 3);
  return { height: size, width: size, data };
}

function shiftOf(img: ReturnType<typeof indexImage>, out: { data: Uint8Array }): [number, number] | undefined {
  for (let dy = -4; dy <= 4; dy++)
    for (let dx = -4; dx <= 4; dx++) if (Array.from(translate(img, dx, dy).data).every((v, i) => v === out.data[i])) return [dx, dy];
  return undefined;
}

describe('jitter', () => {
  it('refuses out-of-range knobs by name', () => {
    expect(() => parseWith(jitterSchema, { minShift: 0 }, 'defense jitter params')).toThrow(/minShift/);
    expect(() => parseWith(jitterSchema, { maxShift: 9 }, 'defense jitter params')).toThrow(/maxShift/);
    expect(() => parseWith(jitterSchema, { minShift: 3, maxShift: 2 }, 'defense jitter params')).toThrow(/minShift/);
    expect(parseWith(jitterSchema, {}, 'jitter')).toEqual({ minShift: 1, maxShift: 3 });
  });

  it('offsets: every direction with Chebyshev length 1–3, never the identity', () => {
    const o = jitterOffsets(1, 3);
    expect(o.length).toBe(7 * 7 - 1);
    expect(o.some(([dx, dy]) => dx === 0 && dy === 0)).toBe(false);
    expect(jitterOffsets(2, 2).length).toBe(25 - 9);
  });

  it('the test image becomes an exact edge-replicated shift of 1–3 px, deterministic per seed', () => {
    const p = parseWith(jitterSchema, {}, 'jitter');
    const img = indexImage();
    const run = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 100 }, () => jitter.transformTestImage(img, p, rng));
    };
    const a = run(4);
    const seen = new Set<string>();
    for (const out of a) {
      const s = shiftOf(img, out);
      expect(s).toBeDefined();
      const r = Math.max(Math.abs(s![0]), Math.abs(s![1]));
      expect(r).toBeGreaterThanOrEqual(1);
      expect(r).toBeLessThanOrEqual(3);
      seen.add(s!.join(','));
    }
    expect(seen.size).toBeGreaterThan(30); // many directions and lengths
    expect(run(4).map((o) => Array.from(o.data))).toEqual(a.map((o) => Array.from(o.data)));
    expect(run(5).map((o) => Array.from(o.data))).not.toEqual(a.map((o) => Array.from(o.data)));
    expect(jitter.stage).toBe('inference');
  });
});
