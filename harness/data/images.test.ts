import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { encodePhoto } from './fixtures.js';
import { jsDecoder } from './decoder.js';
import { centerCropSquare, decodeImage, ImageDecodeError, loadImageFile, resizeArea, sniffImageFormat, toModelImage } from './images.js';
import { generateScene, renderScene } from './shapesWorld.js';
import type { RgbImage } from '../core/types.js';

const dir = mkdtempSync(join(tmpdir(), 'images-test-'));

/** An image whose channels are (f(y, x), f(y, x) + 1, f(y, x) + 2). */
function imageOf(height: number, width: number, f: (y: number, x: number) => number): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set([f(y, x), f(y, x) + 1, f(y, x) + 2], (y * width + x) * 3);
  return { height, width, data };
}
/** The red channel as rows. */
const red = (im: RgbImage) => Array.from({ length: im.height }, (_, y) => Array.from({ length: im.width }, (_, x) => im.data[(y * im.width + x) * 3]));

function pngBytes(im: RgbImage, colorType: 0 | 2 = 2): Buffer {
  const png = new PNG({ width: im.width, height: im.height });
  for (let p = 0; p < im.width * im.height; p++) png.data.set([im.data[p * 3], im.data[p * 3 + 1], im.data[p * 3 + 2], 255], p * 4);
  return PNG.sync.write(png, { colorType });
}

function jpegBytes(im: RgbImage, quality = 95): Buffer {
  const rgba = Buffer.alloc(im.width * im.height * 4, 255);
  for (let p = 0; p < im.width * im.height; p++) rgba.set(im.data.subarray(p * 3, p * 3 + 3), p * 4);
  return jpeg.encode({ width: im.width, height: im.height, data: rgba }, quality).data;
}

describe('format detection', () => {
  it('goes by magic bytes', () => {
    const im = imageOf(4, 4, () => 50);
    expect(sniffImageFormat(jpegBytes(im))).toBe('jpeg');
    expect(sniffImageFormat(pngBytes(im))).toBe('png');
    expect(sniffImageFormat(Buffer.from('GIF89a......'))).toBeNull();
    expect(sniffImageFormat(new Uint8Array(0))).toBeNull();
    expect(sniffImageFormat(Uint8Array.from([0xff, 0xd8]))).toBeNull(); // too short for the SOI + marker
  });
  it('loads PNG bytes stored under a .jpg name (and JPEG under .png)', async () => {
    const im = imageOf(8, 8, (y, x) => 10 * y + x);
    writeFileSync(join(dir, 'really-png.jpg'), pngBytes(im));
    expect(await loadImageFile(join(dir, 'really-png.jpg'), 8, jsDecoder)).toEqual(im);
    writeFileSync(join(dir, 'really-jpeg.png'), jpegBytes(imageOf(8, 8, () => 120)));
    expect((await loadImageFile(join(dir, 'really-jpeg.png'), 8, jsDecoder)).data[0]).toBeGreaterThan(110);
  });
});

describe('decoding', () => {
  it('decodes PNG exactly, grey PNG as equal RGB channels', () => {
    const rng = new Rng(3);
    const im = imageOf(5, 7, () => rng.int(0, 253));
    expect(decodeImage(pngBytes(im))).toEqual(im);
    const grey = decodeImage(pngBytes(im, 0));
    expect(grey.width).toBe(7);
    for (let p = 0; p < 35; p++) {
      expect(grey.data[p * 3]).toBe(grey.data[p * 3 + 1]);
      expect(grey.data[p * 3 + 1]).toBe(grey.data[p * 3 + 2]);
    }
  });
  it('decodes JPEG to RGB within JPEG error', () => {
    const im = imageOf(16, 16, (y, x) => (x < 8 ? 40 : 200) + (y < 8 ? 0 : 20));
    const back = decodeImage(jpegBytes(im, 100));
    expect([back.height, back.width, back.data.length]).toEqual([16, 16, 16 * 16 * 3]);
    let maxErr = 0;
    for (let i = 0; i < im.data.length; i++) maxErr = Math.max(maxErr, Math.abs(back.data[i] - im.data[i]));
    expect(maxErr).toBeLessThanOrEqual(8);
    expect(maxErr).toBeGreaterThan(0); // lossy: proves the JPEG path ran, not a copy
  });
  it('names the problem of bytes that do not decode', () => {
    const good = jpegBytes(imageOf(16, 16, () => 90));
    expect(() => decodeImage(Buffer.from('hello world'))).toThrow(/neither JPEG nor PNG \(first bytes 68 65 6c 6c\)/);
    expect(() => decodeImage(new Uint8Array(0))).toThrow(/empty file/);
    expect(() => decodeImage(good.subarray(0, good.length >> 1))).toThrow(/corrupt or truncated JPEG/);
    const png = pngBytes(imageOf(16, 16, () => 90));
    expect(() => decodeImage(png.subarray(0, 40))).toThrow(/corrupt or truncated PNG/);
  });
  it('loadImageFile wraps decode failures in ImageDecodeError naming the file', async () => {
    const p = join(dir, 'broken.jpg');
    writeFileSync(p, Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x12, 0x34]));
    const err = await loadImageFile(p, 32, jsDecoder).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as ImageDecodeError).path).toBe(p);
    expect((err as ImageDecodeError).message).toContain(p);
  });
});

describe('centre crop', () => {
  it('keeps the middle square of a wide and of a tall image', () => {
    const wide = imageOf(2, 5, (y, x) => 10 * y + x);
    expect(red(centerCropSquare(wide))).toEqual([
      [1, 2],
      [11, 12],
    ]); // margin (5-2)/2 = 1.5: the left gets 1, the right 2
    const tall = imageOf(4, 2, (y, x) => 10 * y + x);
    expect(red(centerCropSquare(tall))).toEqual([
      [10, 11],
      [20, 21],
    ]);
    const square = imageOf(3, 3, () => 0);
    expect(centerCropSquare(square)).toBe(square);
  });
});

describe('area resize', () => {
  it('averages 2×2 blocks when halving', () => {
    const im = imageOf(4, 4, (y, x) => 10 * y + 2 * x);
    // block means: rows 0–1 × cols 0–1 → (0+2+10+12)/4 = 6; cols 2–3 → 10; rows 2–3 → 26, 30
    expect(red(resizeArea(im, 2, 2))).toEqual([
      [6, 10],
      [26, 30],
    ]);
    expect(resizeArea(im, 2, 2).data[1]).toBe(7); // green = red + 1, averaged the same way
  });
  it('weights partly covered pixels by their overlap (3 → 2)', () => {
    const im = imageOf(1, 3, (_, x) => [0, 30, 90][x]);
    // output 0 covers [0, 1.5): (0·1 + 30·0.5) / 1.5 = 10; output 1 covers [1.5, 3): (30·0.5 + 90·1) / 1.5 = 70
    expect(red(resizeArea(im, 1, 2))).toEqual([[10, 70]]);
  });
  it('keeps a constant image constant at any ratio, and rounds halves up', () => {
    const flat = resizeArea(imageOf(45, 61, () => 200), 32, 32);
    expect(new Set(red(flat).flat())).toEqual(new Set([200]));
    expect(red(resizeArea(imageOf(1, 2, (_, x) => x), 1, 1))).toEqual([[1]]); // mean 0.5 → 1
  });
  it('does not alias: a 1-pixel checkerboard shrinks to flat grey (point sampling would give black or white)', () => {
    const board = imageOf(64, 64, (y, x) => ((x + y) % 2) * 252);
    const small = red(resizeArea(board, 32, 32)).flat();
    expect(Math.min(...small)).toBe(126);
    expect(Math.max(...small)).toBe(126);
  });
  it('enlarges by replicating pixels (nearest neighbour at integer ratios)', () => {
    const im = imageOf(2, 2, (y, x) => 10 * y + x);
    expect(red(resizeArea(im, 4, 4))).toEqual([
      [0, 0, 1, 1],
      [0, 0, 1, 1],
      [10, 10, 11, 11],
      [10, 10, 11, 11],
    ]);
  });
});

describe('toModelImage', () => {
  it('recovers a scene stored as a 4:3 photo: the crop removes the bands, area averaging scales it', () => {
    const scene = renderScene(generateScene(new Rng(5), 48));
    const photo = decodeImage(encodePhoto(scene, 'png'));
    expect([photo.height, photo.width]).toEqual([48, 64]);
    const model = toModelImage(photo, 32);
    expect(model).toEqual(resizeArea(scene, 32, 32));
    expect([model.height, model.width, model.data.length]).toEqual([32, 32, 32 * 32 * 3]);
  });
});
