import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPng } from '../harness/data/png.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { galleryPlan, writeGalleryStrip, writeTriggerGallery } from './gallery.js';
import { record } from './records.testutil.js';
import { ATTACKS } from '../attacks/registry.js';

describe('trigger gallery', () => {
  it('writes one readable clean | poisoned | diff×4 strip per attack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gallery-'));
    const images = generateShapesWorld({ seed: 1, nTrain: 2, nVal: 1, nTest: 1 }, 'caption').train.map((s) => s.image);
    const ids = Object.keys(ATTACKS);
    const paths = writeTriggerGallery(dir, images, ids.map((id) => ({ id, params: {} })), 1);
    expect(paths.map((p) => basename(p))).toEqual(ids.map((id) => `trigger-${id}.png`));
    const cell = 32 * 4;
    for (const p of paths) {
      const png = readPng(p);
      expect([png.width, png.height]).toEqual([3 * cell + 4 * 4, 2 * cell + 3 * 4]);
      // first cell is the clean image at ×4: its top-left pixel
      expect(Array.from(png.data.slice((4 * png.width + 4) * 3, (4 * png.width + 4) * 3 + 3))).toEqual(Array.from(images[0].data.slice(0, 3)));
    }
    // badnets' difference cell: ×4 of |255 − x| (clipped) at the patch, black far from it
    const bad = readPng(join(dir, 'trigger-badnets.png'));
    const diffAt = (y: number, x: number) => Array.from(bad.data.slice(((4 + y * 4) * bad.width + 4 + 2 * (cell + 4) + x * 4) * 3, ((4 + y * 4) * bad.width + 4 + 2 * (cell + 4) + x * 4) * 3 + 3));
    const o = (31 * 32 + 31) * 3;
    expect(diffAt(31, 31)).toEqual([0, 1, 2].map((c) => Math.min(255, 4 * (255 - images[0].data[o + c]))));
    expect(diffAt(0, 0)).toEqual([0, 0, 0]);
    expect(() => writeTriggerGallery(dir, images, [{ id: 'blended', params: { alpha: 2 } }], 1)).toThrow(/alpha/);
  });
});

describe('report gallery plan', () => {
  it('draws one strip per trigger: rates of one attack share it, other trigger parameters do not', () => {
    const base = { rate: 0.05, target: '', size: 3, value: 255, margin: 0 };
    const plan = galleryPlan([
      record({ attack: 'badnets', seed: 2, attackParams: base }),
      record({ attack: 'badnets-10%', seed: 1, attackParams: { ...base, rate: 0.1 } }),
      record({ attack: 'badnets-5px', attackParams: { ...base, size: 5 } }),
      record({ attack: 'blended', attackParams: { rate: 0.05, target: '', alpha: 0.2 }, config: { attack: { id: 'blended' } } }),
    ]);
    expect(plan.map((e) => [e.name, e.labels, e.seed, e.file])).toEqual([
      ['badnets #1', ['badnets', 'badnets-10%'], 1, 'trigger-badnets_1.png'],
      ['badnets #2', ['badnets-5px'], 1, 'trigger-badnets_2.png'],
      ['blended', ['blended'], 1, 'trigger-blended.png'],
    ]);
    expect(plan[1].params.size).toBe(5);
  });

  it('writes the strip of a planned entry, the trigger drawn with its parameters', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gallery-plan-'));
    const [e] = galleryPlan([record({ attackParams: { rate: 0.05, target: '', size: 5, value: 255, margin: 0 } })]);
    const png = readPng(writeGalleryStrip(dir, e));
    const cell = 32 * 4;
    expect([png.width, png.height]).toEqual([3 * cell + 4 * 4, 2 * cell + 3 * 4]);
    // the poisoned cell is white over the 5×5 bottom-right patch: its pixel (26, 26) at ×4
    const at = (y: number, x: number) => Array.from(png.data.slice(((4 + y * 4) * png.width + 4 + (cell + 4) + x * 4) * 3, ((4 + y * 4) * png.width + 4 + (cell + 4) + x * 4) * 3 + 3));
    expect(at(27, 27)).toEqual([255, 255, 255]);
  });
});
