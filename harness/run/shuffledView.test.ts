import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../core/types.js';
import { shuffledView } from './shuffledView.js';

/** A 16×16 image whose 4×4 patches (grid 4) each have one distinct grey level. */
function patchedImage(): RgbImage {
  const data = new Uint8Array(16 * 16 * 3);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) data.fill(10 * (Math.floor(y / 4) * 4 + Math.floor(x / 4)), 3 * (16 * y + x), 3 * (16 * y + x) + 3);
  return { height: 16, width: 16, data };
}
const patchLevels = (im: RgbImage) => Array.from({ length: 16 }, (_, p) => im.data[3 * (16 * 4 * Math.floor(p / 4) + 4 * (p % 4))]);

describe('shuffled view', () => {
  const inputs = Array.from({ length: 5 }, () => ({ image: patchedImage(), prompt: 'q' }));

  it('permutes whole patches of the grid, keeps the prompt, and differs from the original arrangement', () => {
    const out = shuffledView(inputs, 4, 1);
    const original = patchLevels(inputs[0].image);
    for (const t of out) {
      expect(t.prompt).toBe('q');
      expect([...patchLevels(t.image)].sort((a, b) => a - b)).toEqual([...original].sort((a, b) => a - b));
      // Each patch stays uniform (moved whole, not cut).
      expect(new Set(t.image.data).size).toBe(16);
    }
    expect(out.filter((t) => patchLevels(t.image).join() !== original.join()).length).toBe(5);
    // Per-input permutations differ; the same seed gives the same views.
    expect(new Set(out.map((t) => patchLevels(t.image).join())).size).toBeGreaterThan(1);
    expect(shuffledView(inputs, 4, 1).map((t) => patchLevels(t.image))).toEqual(out.map((t) => patchLevels(t.image)));
  });
});
