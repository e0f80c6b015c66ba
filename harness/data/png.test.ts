import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { readPng, writeContactSheet, writePng } from './png.js';
import type { RgbImage } from '../core/types.js';

const dir = mkdtempSync(join(tmpdir(), 'png-test-'));

function randomImage(h: number, w: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(h * w * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 256);
  return { height: h, width: w, data };
}

const px = (im: RgbImage, y: number, x: number) => Array.from(im.data.subarray((y * im.width + x) * 3, (y * im.width + x) * 3 + 3));

describe('png', () => {
  it('round-trips an image exactly', () => {
    const img = randomImage(7, 11, 1);
    const p = join(dir, 'a.png');
    writePng(p, img);
    const back = readPng(p);
    expect(back.height).toBe(7);
    expect(back.width).toBe(11);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
  });

  it('upscales by nearest neighbour', () => {
    const img = randomImage(5, 4, 2);
    const p = join(dir, 'b.png');
    writePng(p, img, 3);
    const back = readPng(p);
    expect([back.height, back.width]).toEqual([15, 12]);
    for (let y = 0; y < 15; y++)
      for (let x = 0; x < 12; x++) expect(px(back, y, x)).toEqual(px(img, Math.floor(y / 3), Math.floor(x / 3)));
    expect(() => writePng(p, img, 0)).toThrow();
  });

  it('drops alpha when reading', () => {
    const png = new PNG({ width: 2, height: 1 });
    png.data.set([10, 20, 30, 0, 40, 50, 60, 128]);
    const p = join(dir, 'c.png');
    writeFileSync(p, PNG.sync.write(png));
    const back = readPng(p);
    expect(Array.from(back.data)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('writes a contact sheet with images in a grid', () => {
    const imgs = [0, 1, 2, 3, 4].map((s) => randomImage(4, 4, 10 + s));
    const p = join(dir, 'sheet.png');
    writeContactSheet(p, imgs, 3, 2);
    expect(readFileSync(p).subarray(1, 4).toString()).toBe('PNG');
    const sheet = readPng(p);
    // 3 columns × 2 rows of 8×8 tiles with 2-pixel gaps
    expect(sheet.width).toBe(3 * 8 + 4 * 2);
    expect(sheet.height).toBe(2 * 8 + 3 * 2);
    expect(px(sheet, 0, 0)).toEqual([128, 128, 128]);
    // image 4 sits at row 1, column 1
    const oy = 2 + 1 * (8 + 2);
    const ox = 2 + 1 * (8 + 2);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) expect(px(sheet, oy + y, ox + x)).toEqual(px(imgs[4], y >> 1, x >> 1));
    // empty last cell stays grey
    expect(px(sheet, oy + 3, 2 + 2 * 10 + 3)).toEqual([128, 128, 128]);
  });
});
