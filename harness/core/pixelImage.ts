/**
 * Image transforms that take uint8 and float images alike (training batches hold both: see
 * FloatImage) return the kind they were given, so a float image from a training-controlled
 * attack is never rounded on its way to the model.
 */
import type { PixelImage } from './types.js';

/** A zero image of the same size and kind. */
export function blankLike<T extends PixelImage>(image: T): T {
  const n = image.data.length;
  const data = image.data instanceof Float32Array ? new Float32Array(n) : new Uint8Array(n);
  return { height: image.height, width: image.width, data } as T;
}

/**
 * How a computed value is stored in an image of this kind: uint8 rounds half up and clips to
 * [0, 255] (as every transform did before float images existed); float only clips.
 */
export function storeAs(image: PixelImage): (v: number) => number {
  return image.data instanceof Float32Array
    ? (v) => (v < 0 ? 0 : v > 255 ? 255 : v)
    : (v) => {
        const r = Math.round(v);
        return r < 0 ? 0 : r > 255 ? 255 : r;
      };
}
