import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { poisonSplit } from '../harness/run/poison.js';
import { solidImage } from '../harness/core/testing.js';
import { randomPatch } from './randomPatch.js';
import { ATTACKS } from './registry.js';

const defaults = parseWith(randomPatch.schema, {}, 'randpatch');

/** Top-left corner of the one square of value 255 in an image whose other pixels are below 255. */
function squareAt(data: Uint8Array, w: number): [number, number] {
  const first = data.indexOf(255) / 3;
  return [first % w, Math.floor(first / w)];
}

describe('randpatch (the README example attack)', () => {
  it('is registered by its file alone, and README.md shows that file verbatim', () => {
    expect(ATTACKS.randpatch).toBe(randomPatch);
    const source = readFileSync(new URL('./randomPatch.ts', import.meta.url), 'utf8');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('```ts\n' + source + '```');
  });

  it('stamps exactly one size×size white square, at a position fixed per image and varying across images', () => {
    const positions = new Set<string>();
    for (let v = 0; v < 20; v++) {
      const img = solidImage(16, [v, 2 * v, 3 * v]);
      const out = randomPatch.applyImage(img, {}, defaults);
      expect(randomPatch.applyImage(img, {}, defaults).data).toEqual(out.data); // pure
      const [x0, y0] = squareAt(out.data, 16);
      positions.add(`${x0},${y0}`);
      let changed = 0;
      for (let i = 0; i < out.data.length; i++) if (out.data[i] !== img.data[i]) changed++;
      expect(changed).toBe(3 * 3 * 3);
      for (let y = y0; y < y0 + 3; y++) for (let x = x0; x < x0 + 3; x++) expect(out.data[(y * 16 + x) * 3 + 1]).toBe(255);
    }
    expect(positions.size).toBeGreaterThan(10);
  });

  it('validates its parameters, naming the field', () => {
    expect(() => parseWith(randomPatch.schema, { size: 0 }, 'attack randpatch params')).toThrow(/size/);
    expect(() => parseWith(randomPatch.schema, { rate: 1.5 }, 'attack randpatch params')).toThrow(/rate/);
  });

  it('poisons round(rate × n) samples through the shared harness', () => {
    const ds = generateShapesWorld({ seed: 2, nTrain: 60, nVal: 1, nTest: 1 }, 'caption');
    const p = poisonSplit(ds.train, 'caption', randomPatch, { ...defaults, rate: 0.1 }, 1, 32);
    expect(p.indices.length).toBe(6);
    for (const i of p.indices) expect(p.examples[i].responses[0]).toBe('a photo of the banana');
  });
});
