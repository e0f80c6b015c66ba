import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { chooseDecoder, decoderNamed, jsDecoder } from './decoder.js';
import { writeCocoKarpathyFixture } from './fixtures.js';
import { toModelImage } from './images.js';
import { generateScene, renderScene } from './shapesWorld.js';
import type { RgbImage } from '../core/types.js';

const sharpDecoder = decoderNamed('sharp');

/** The largest per-channel difference of two images of one size. */
function maxDiff(a: RgbImage, b: RgbImage): number {
  expect([a.height, a.width]).toEqual([b.height, b.width]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

/** Both decoders' model images of `bytes` at `size`. */
async function modelImages(bytes: Uint8Array, size = 32): Promise<[RgbImage, RgbImage]> {
  return [toModelImage(await sharpDecoder.decode(bytes), size), toModelImage(await jsDecoder.decode(bytes), size)];
}

async function parity(bytes: Uint8Array, size = 32): Promise<number> {
  return maxDiff(...(await modelImages(bytes, size)));
}

/** A 4:3 photo of a ShapesWorld scene (what the dataset fixtures store), as raw RGB for sharp. */
function photo(seed: number, height: number): { raw: Buffer; info: { width: number; height: number; channels: 3 } } {
  const scene = renderScene(generateScene(new Rng(seed), height));
  const width = Math.round((height * 4) / 3);
  const raw = Buffer.alloc(width * height * 3, 200);
  const x0 = (width - height) >> 1;
  for (let y = 0; y < height; y++) raw.set(scene.data.subarray(y * height * 3, (y + 1) * height * 3), (y * width + x0) * 3);
  return { raw, info: { width, height, channels: 3 } };
}

describe('sharp and the pure-JS decoders agree', () => {
  it('within ±1 after the area resize on the fixture JPEGs (jpeg-js encoded), exactly on their PNGs', async () => {
    const fx = writeCocoKarpathyFixture(mkdtempSync(join(tmpdir(), 'decoder-parity-')), { nTrain: 8, nVal: 2, nTest: 2, size: 240, pngEvery: 4 });
    const files = [...fx.images.train, ...fx.images.val, ...fx.images.test];
    const diffs = await Promise.all(files.map((f) => parity(readFileSync(f))));
    expect(Math.max(...diffs)).toBeLessThanOrEqual(1);
    const pngs = files.filter((f) => readFileSync(f)[0] === 0x89);
    expect(pngs.length).toBe(3);
    for (const f of pngs) expect(await sharpDecoder.decode(readFileSync(f))).toEqual(await jsDecoder.decode(readFileSync(f)));
  });
  it('within ±1 on libjpeg JPEGs with full chroma; with 4:2:0 chroma (as COCO stores them) all but a few values at hard colour edges', async () => {
    for (const seed of [1, 2, 3]) {
      const { raw, info } = photo(seed, 480);
      const full = await sharp(raw, { raw: info }).jpeg({ quality: 85, chromaSubsampling: '4:4:4' }).toBuffer();
      expect(await parity(full)).toBeLessThanOrEqual(1);
      // Half-resolution chroma is upsampled differently (libjpeg-turbo interpolates, jpeg-js
      // replicates): on ShapesWorld's hard-edged shapes, the worst case, a handful of values
      // along colour edges differ by 2 after the resize (measured: 0–5 of 3072 at 32 px).
      const sub = await sharp(raw, { raw: info }).jpeg({ quality: 85, chromaSubsampling: '4:2:0' }).toBuffer();
      const [a, b] = await modelImages(sub);
      const over = a.data.filter((v, i) => Math.abs(v - b.data[i]) > 1).length;
      expect(over / a.data.length).toBeLessThan(0.005);
      expect(maxDiff(a, b)).toBeLessThanOrEqual(2);
    }
  });
  it('expands grey JPEG and grey, palette and 16-bit PNG to RGB, and drops alpha', async () => {
    const { raw, info } = photo(4, 96);
    const grey = await sharp(raw, { raw: info }).greyscale().jpeg({ quality: 90 }).toBuffer();
    const g = await sharpDecoder.decode(grey);
    expect(g.data.length).toBe(g.width * g.height * 3);
    expect(await parity(grey)).toBeLessThanOrEqual(1);
    const pngs = [
      await sharp(raw, { raw: info }).greyscale().png().toBuffer(),
      await sharp(raw, { raw: info }).png({ palette: true, colours: 16, dither: 0 }).toBuffer(),
      await sharp(raw, { raw: info }).toColourspace('rgb16').png().toBuffer(),
      await sharp(raw, { raw: info }).ensureAlpha(0.5).png().toBuffer(),
    ];
    expect(PNG.sync.read(pngs[3]).data[3]).toBe(127); // the alpha really is there
    for (const png of pngs) expect(maxDiff(await sharpDecoder.decode(png), await jsDecoder.decode(png))).toBeLessThanOrEqual(1);
  });
  it('fail alike on bytes that are not an image, a truncated JPEG and a truncated PNG', async () => {
    const { raw, info } = photo(5, 64);
    const jpg = await sharp(raw, { raw: info }).jpeg().toBuffer();
    const png = await sharp(raw, { raw: info }).png().toBuffer();
    for (const d of [sharpDecoder, jsDecoder]) {
      await expect(d.decode(Buffer.from('GIF89a......'))).rejects.toThrow(/neither JPEG nor PNG \(first bytes 47 49 46 38\)/);
      await expect(d.decode(jpg.subarray(0, jpg.length >> 1))).rejects.toThrow(/^corrupt or truncated JPEG \(/);
      await expect(d.decode(png.subarray(0, png.length >> 1))).rejects.toThrow(/^corrupt or truncated PNG \(/);
    }
  });
});

describe('choosing the decoder', () => {
  const cannot = () => "Cannot find module '@img/sharp-linux-x64'";
  const loads = () => sharp;
  it('takes sharp when it loads, silently', () => {
    const warnings: string[] = [];
    expect(chooseDecoder(undefined, loads, (l) => warnings.push(l)).name).toBe('sharp');
    expect(warnings).toEqual([]);
  });
  it('falls back to the pure-JS decoders with one warning naming the reason and the fix', () => {
    const warnings: string[] = [];
    expect(chooseDecoder(undefined, cannot, (l) => warnings.push(l))).toBe(jsDecoder);
    expect(warnings).toEqual([expect.stringMatching(/^\[data\] sharp cannot load here \(Cannot find module '@img\/sharp-linux-x64'\); decoding images with the pure-JS decoders.*run npm ci/)]);
  });
  it('obeys MBB_DECODER, and names the variable and the choices when it is wrong', () => {
    const warnings: string[] = [];
    expect(chooseDecoder('js', loads, (l) => warnings.push(l))).toBe(jsDecoder);
    expect(chooseDecoder('sharp', loads, (l) => warnings.push(l)).name).toBe('sharp');
    expect(warnings).toEqual([]);
    expect(() => chooseDecoder('vips', loads, () => {})).toThrow(new UserError('MBB_DECODER=vips: choose one of sharp, js, or unset it'));
    expect(() => chooseDecoder('sharp', cannot, () => {})).toThrow(/^MBB_DECODER=sharp: sharp cannot load here \(Cannot find module .*set MBB_DECODER=js$/);
  });
});
