/** PNG input/output for RgbImage (uint8 HWC), for looking at data and loading image files. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import type { RgbImage } from '../core/types.js';

/** RGBA buffer of an image upscaled by an integer factor (nearest neighbour). */
function toPng(img: RgbImage, scale: number): PNG {
  checkScale(scale);
  const W = img.width * scale;
  const H = img.height * scale;
  const png = new PNG({ width: W, height: H });
  for (let y = 0; y < H; y++) {
    const sy = Math.floor(y / scale);
    for (let x = 0; x < W; x++) {
      const s = (sy * img.width + Math.floor(x / scale)) * 3;
      const d = (y * W + x) * 4;
      png.data[d] = img.data[s];
      png.data[d + 1] = img.data[s + 1];
      png.data[d + 2] = img.data[s + 2];
      png.data[d + 3] = 255;
    }
  }
  return png;
}

function checkScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`png: scale must be a positive integer, got ${scale}`);
}

function writeFile(path: string, png: PNG): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, PNG.sync.write(png));
}

/** Write an image as an RGB(A) PNG, upscaled `scale` times by nearest neighbour. */
export function writePng(path: string, img: RgbImage, scale = 1): void {
  writeFile(path, toPng(img, scale));
}

/**
 * Write a grid of images (row-major, `cols` per row) separated by a `scale`-pixel grey gap.
 * Images may differ in size; each cell is as large as the largest image.
 */
export function writeContactSheet(path: string, images: RgbImage[], cols = 8, scale = 4): void {
  checkScale(scale);
  if (images.length === 0) throw new Error('writeContactSheet: no images');
  const c = Math.max(1, Math.min(cols, images.length));
  const rows = Math.ceil(images.length / c);
  const cellW = Math.max(...images.map((im) => im.width)) * scale;
  const cellH = Math.max(...images.map((im) => im.height)) * scale;
  const gap = scale;
  const W = c * cellW + (c + 1) * gap;
  const H = rows * cellH + (rows + 1) * gap;
  const sheet = new PNG({ width: W, height: H });
  sheet.data.fill(128);
  for (let i = 0; i < sheet.data.length; i += 4) sheet.data[i + 3] = 255;
  images.forEach((img, i) => {
    const tile = toPng(img, scale);
    const ox = gap + (i % c) * (cellW + gap);
    const oy = gap + Math.floor(i / c) * (cellH + gap);
    for (let y = 0; y < tile.height; y++) {
      const src = y * tile.width * 4;
      tile.data.copy(sheet.data, ((oy + y) * W + ox) * 4, src, src + tile.width * 4);
    }
  });
  writeFile(path, sheet);
}

/** Read a PNG file as an RgbImage (alpha dropped, no compositing). */
export function readPng(path: string): RgbImage {
  const png = PNG.sync.read(readFileSync(path));
  const { width, height } = png;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < width * height; p++, q += 4) {
    data[p * 3] = png.data[q];
    data[p * 3 + 1] = png.data[q + 1];
    data[p * 3 + 2] = png.data[q + 2];
  }
  return { height, width, data };
}
