/**
 * Which decoder turns image file bytes into pixels at their own size:
 *  - `sharp` (libvips with libjpeg-turbo and libpng), the default: 4–6× faster than the
 *    pure-JS decoders on COCO-sized JPEGs (`npm run bench -- loading`). Its prebuilt libvips
 *    comes from the npm registry as one @img/* package per platform, with no install script.
 *  - `js` (jpeg-js, pngjs; images.ts `decodeImage`): the fallback where sharp cannot load (an
 *    install without optional dependencies, a platform without a prebuilt package), announced
 *    by one warning per process, or chosen with MBB_DECODER=js.
 * Both read only what the magic bytes say is JPEG or PNG, drop alpha, expand grey to RGB and
 * ignore EXIF orientation. They differ in JPEG's IDCT and chroma upsampling rounding; after
 * the area resize to the model's size (images.ts) their pixels agree within ±1
 * (decoder.test.ts), PNGs exactly.
 */
import { createRequire } from 'node:module';
import type { FailOnOptions } from 'sharp';
import { UserError } from '../core/errors.js';
import { decodeFailure, decodeImage, sniffImageFormat } from './images.js';
import type { RgbImage } from '../core/types.js';
import type { DataConfig } from './config.js';

export const DECODER_NAMES = ['sharp', 'js'] as const;
export type DecoderName = (typeof DECODER_NAMES)[number];

export interface ImageDecoder {
  name: DecoderName;
  /** Pixels at the file's own size; throws an Error whose message is the short reason. */
  decode(bytes: Uint8Array): Promise<RgbImage>;
}

export const jsDecoder: ImageDecoder = { name: 'js', decode: async (bytes) => decodeImage(bytes) };

/** The ESM typings' default export is the CommonJS module itself (sharp's `export =`). */
type SharpModule = typeof import('sharp').default;

/**
 * libvips' "warnings" include recoverable oddities (extraneous bytes before a marker) that
 * jpeg-js decodes through: fail on real errors and truncation only, as the fallback does.
 */
const FAIL_ON: FailOnOptions = 'error';

function sharpDecoderOf(sharp: SharpModule): ImageDecoder {
  // Each image is decoded once (the loaders memoise), so libvips' operation cache only holds memory.
  sharp.cache(false);
  return {
    name: 'sharp',
    async decode(bytes) {
      // Same acceptance as the fallback: by magic bytes, JPEG and PNG only (libvips would also
      // read GIF, WebP, TIFF…, which the pure-JS path cannot, so results would depend on the install).
      const format = sniffImageFormat(bytes);
      if (format === null) return decodeImage(bytes); // throws the "neither JPEG nor PNG" reason
      try {
        const { data, info } = await sharp(bytes, { failOn: FAIL_ON })
          .removeAlpha()
          .toColourspace('srgb')
          .raw({ depth: 'uchar' })
          .toBuffer({ resolveWithObject: true });
        if (info.channels !== 3) throw new Error(`${info.channels} channels after conversion to RGB`);
        return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
      } catch (err) {
        throw decodeFailure(format, err);
      }
    },
  };
}

/** sharp's module, or the reason it does not load here. */
function requireSharp(): SharpModule | string {
  try {
    // require, not import: a missing native binding then fails here, synchronously and catchably.
    return createRequire(import.meta.url)('sharp') as SharpModule;
  } catch (err) {
    return ((err as Error).message ?? String(err)).split('\n')[0];
  }
}

/** The named decoder; `sharp` throws (with the reason) where it cannot load. */
export function decoderNamed(name: DecoderName, loadSharp: () => SharpModule | string = requireSharp): ImageDecoder {
  if (name === 'js') return jsDecoder;
  const sharp = loadSharp();
  if (typeof sharp === 'string') throw new UserError(`MBB_DECODER=sharp: sharp cannot load here (${sharp}); run npm ci with optional dependencies, or set MBB_DECODER=js`);
  return sharpDecoderOf(sharp);
}

/**
 * The decoder to use: MBB_DECODER if set ("sharp" or "js"), else sharp when `loadSharp` gets
 * it, else the pure-JS one, announced on `warn`.
 */
export function chooseDecoder(env: string | undefined, loadSharp: () => SharpModule | string, warn: (line: string) => void): ImageDecoder {
  if (env !== undefined && env !== '') {
    if (!(DECODER_NAMES as readonly string[]).includes(env)) throw new UserError(`MBB_DECODER=${env}: choose one of ${DECODER_NAMES.join(', ')}, or unset it`);
    return decoderNamed(env as DecoderName, loadSharp);
  }
  const sharp = loadSharp();
  if (typeof sharp !== 'string') return sharpDecoderOf(sharp);
  warn(`[data] sharp cannot load here (${sharp}); decoding images with the pure-JS decoders, several times slower: run npm ci with optional dependencies on this platform to get it`);
  return jsDecoder;
}

let chosen: ImageDecoder | undefined;

/** The decoder of this process, chosen once (so a fallback warns once). */
export function imageDecoder(): ImageDecoder {
  chosen ??= chooseDecoder(process.env.MBB_DECODER, requireSharp, (l) => process.stderr.write(`${l}\n`));
  return chosen;
}

/**
 * The decoder a run's images go through: none for the generated ShapesWorld. Files of a real
 * dataset decode to pixels that differ by 1–2 levels between sharp and the pure-JS decoders
 * (docs/data.md): the decoder is an input of every stage that reads them.
 */
export function imageDecoderFor(data: DataConfig): DecoderName | undefined {
  return data.kind === 'shapes' ? undefined : imageDecoder().name;
}
