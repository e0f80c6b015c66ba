/** Pixel maths shared by the attacks: uint8 HWC in [0, 255], explicit rounding and clipping. */
import type { RgbImage } from '../harness/core/types.js';

/** Round half up (Math.round), then clip to [0, 255]: the one float → uint8 step of every attack. */
export function toUint8(v: number): number {
  const r = Math.round(v);
  return r < 0 ? 0 : r > 255 ? 255 : r;
}

/** Throws unless the image is `h`×`w` (a trigger asset is built for one image size). */
export function checkSize(attack: string, image: RgbImage, h: number, w: number): void {
  if (image.height !== h || image.width !== w) {
    throw new Error(`${attack}: the trigger was made for ${h}x${w} images, got ${image.height}x${image.width}`);
  }
}
