/**
 * Image files of real datasets → RgbImage at the model's resolution.
 *
 * Decoding: sharp, or the pure-JS decoders here (jpeg-js, pngjs) where it cannot load
 * (decoder.ts). The format comes from the file's magic bytes, never from its extension
 * (datasets mislabel files: a few COCO ".jpg" files are not baseline JPEGs, and fixtures store
 * PNG bytes under ".jpg" names on purpose).
 *
 * Resizing: centre crop to the largest square, then area averaging to size×size.
 *  - Crop, not squash: the models take square inputs; squashing a 640×480 photo distorts every
 *    shape by 4:3, while the centre crop keeps aspect (the CLIP / LLaVA preprocessing does the
 *    same: shortest side, centre crop) and loses only the borders. Triggers are stamped after
 *    this step, so cropping never cuts a trigger.
 *  - Area averaging, not bilinear: shrinking 480 px to 32 px, bilinear reads 4 of every 15×15
 *    source pixels and aliases texture into noise; each output pixel here is the exact mean of
 *    the source area it covers (fractional edge pixels weighted by their overlap). It is
 *    separable, so the cost is two 1-D passes. When enlarging (a source smaller than the
 *    model's input) the same maths gives nearest-neighbour with blended seams.
 */
import { readFile } from 'node:fs/promises';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { ImageDecoder } from './decoder.js';
import type { RgbImage } from '../core/types.js';

export type ImageFormat = 'jpeg' | 'png';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The format from the first bytes (JPEG SOI marker FF D8 FF; the 8-byte PNG signature), or null. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  return null;
}

/** A file that is not a decodable JPEG/PNG; `reason` is short, for a warning list. */
export class ImageDecodeError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
    this.name = 'ImageDecodeError';
  }
}

/** A decoder's failure as the short reason the loaders report: the decoders' own messages ("unknown JPEG marker 0") do not say which format failed. */
export function decodeFailure(format: ImageFormat, err: unknown): Error {
  return new Error(`corrupt or truncated ${format === 'jpeg' ? 'JPEG' : 'PNG'} (${(err as Error).message ?? String(err)})`);
}

/**
 * Decode JPEG or PNG bytes at their own size with the pure-JS decoders. Grey and palette
 * images come out as RGB; PNG alpha is dropped (as readPng does): dataset photos are opaque.
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const format = sniffImageFormat(bytes);
  if (format === null) {
    const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new Error(`neither JPEG nor PNG (first bytes ${head || 'none: empty file'})`);
  }
  try {
    return format === 'jpeg' ? decodeJpeg(bytes) : decodePng(bytes);
  } catch (err) {
    throw decodeFailure(format, err);
  }
}

function decodeJpeg(bytes: Uint8Array): RgbImage {
  // formatAsRGBA false: jpeg-js writes 3 channels and replicates grey ones. The memory cap
  // guards against a corrupt header claiming a gigantic image.
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 256 });
  if (!(img.width > 0 && img.height > 0)) throw new Error('no pixels');
  return { width: img.width, height: img.height, data: img.data };
}

function decodePng(bytes: Uint8Array): RgbImage {
  // pngjs expands grey, palette and 16-bit images to 8-bit RGBA.
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const n = png.width * png.height;
  const data = new Uint8Array(n * 3);
  for (let p = 0, q = 0; p < n * 3; p += 3, q += 4) {
    data[p] = png.data[q];
    data[p + 1] = png.data[q + 1];
    data[p + 2] = png.data[q + 2];
  }
  return { width: png.width, height: png.height, data };
}

/** The centred square of side min(height, width) (the top/left gets the smaller margin). */
export function centerCropSquare(img: RgbImage): RgbImage {
  const s = Math.min(img.height, img.width);
  if (img.height === s && img.width === s) return img;
  const y0 = Math.floor((img.height - s) / 2);
  const x0 = Math.floor((img.width - s) / 2);
  const data = new Uint8Array(s * s * 3);
  for (let y = 0; y < s; y++) {
    const src = ((y0 + y) * img.width + x0) * 3;
    data.set(img.data.subarray(src, src + s * 3), y * s * 3);
  }
  return { height: s, width: s, data };
}

/** Per output index: the first source index it covers and the weights (summing to 1) of those it covers. */
function areaWeights(srcLen: number, dstLen: number): { start: number; weights: Float64Array }[] {
  const scale = srcLen / dstLen;
  const out: { start: number; weights: Float64Array }[] = [];
  for (let o = 0; o < dstLen; o++) {
    const a = o * scale;
    const b = (o + 1) * scale;
    const start = Math.floor(a);
    const end = Math.min(srcLen, Math.ceil(b - 1e-9));
    const weights = new Float64Array(end - start);
    for (let i = start; i < end; i++) weights[i - start] = (Math.min(b, i + 1) - Math.max(a, i)) / scale;
    out.push({ start, weights });
  }
  return out;
}

/** Area-averaging resize to height×width (see the file comment); rounds to nearest, exact on constant areas. */
export function resizeArea(img: RgbImage, height: number, width: number): RgbImage {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) {
    throw new Error(`resizeArea: size must be positive integers, got ${height}×${width}`);
  }
  if (img.height === height && img.width === width) return img;
  const wx = areaWeights(img.width, width);
  const wy = areaWeights(img.height, height);
  // Horizontal pass: every source row to `width` columns.
  const rows = new Float64Array(img.height * width * 3);
  for (let y = 0; y < img.height; y++) {
    const srcRow = y * img.width * 3;
    const dstRow = y * width * 3;
    for (let x = 0; x < width; x++) {
      const { start, weights } = wx[x];
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = 0; k < weights.length; k++) {
        const s = srcRow + (start + k) * 3;
        const w = weights[k];
        r += w * img.data[s];
        g += w * img.data[s + 1];
        b += w * img.data[s + 2];
      }
      rows[dstRow + x * 3] = r;
      rows[dstRow + x * 3 + 1] = g;
      rows[dstRow + x * 3 + 2] = b;
    }
  }
  // Vertical pass.
  const data = new Uint8Array(height * width * 3);
  const rowLen = width * 3;
  for (let y = 0; y < height; y++) {
    const { start, weights } = wy[y];
    for (let i = 0; i < rowLen; i++) {
      let v = 0;
      for (let k = 0; k < weights.length; k++) v += weights[k] * rows[(start + k) * rowLen + i];
      // 1e-7 absorbs float error so that e.g. 127.4999999 from an exact 127.5 rounds as 127.5 would.
      const q = Math.round(v + 1e-7);
      data[y * rowLen + i] = q < 0 ? 0 : q > 255 ? 255 : q;
    }
  }
  return { height, width, data };
}

/** A decoded image as the model sees it: centre square, area-averaged to size×size. */
export function toModelImage(img: RgbImage, size: number): RgbImage {
  return resizeArea(centerCropSquare(img), size, size);
}

/**
 * Read, decode and resize one image file. Throws ImageDecodeError for a file that exists but
 * does not decode (the caller's onBadImage policy decides); a missing file is the caller's
 * check, since it means a wrong path rather than a bad file.
 */
export async function loadImageFile(path: string, size: number, decoder: ImageDecoder): Promise<RgbImage> {
  const bytes = await readFile(path);
  let img: RgbImage;
  try {
    img = await decoder.decode(bytes);
  } catch (err) {
    throw new ImageDecodeError(path, (err as Error).message || String(err));
  }
  return toModelImage(img, size);
}
