/**
 * Integer image translation with edge replication, shared by `aug` (training) and `jitter`
 * (inference): out(y, x) = in(clamp(y − dy), clamp(x − dx)), so the content moves dx pixels
 * right and dy pixels down and the uncovered border repeats the nearest edge pixel (no black
 * bars that a model could learn as a cue). HWC in, the same kind out (uint8 or float: it only
 * moves pixels).
 */
import type { PixelImage } from '../harness/core/types.js';
import { blankLike } from '../harness/core/pixelImage.js';

export function translate<T extends PixelImage>(image: T, dx: number, dy: number): T {
  if (!Number.isInteger(dx) || !Number.isInteger(dy)) throw new Error(`translate: offsets must be integers (got ${dx}, ${dy})`);
  const { height: h, width: w, data } = image;
  const result = blankLike(image);
  const out = result.data;
  const clamp = (v: number, n: number) => (v < 0 ? 0 : v >= n ? n - 1 : v);
  for (let y = 0; y < h; y++) {
    const sy = clamp(y - dy, h);
    for (let x = 0; x < w; x++) {
      const from = (sy * w + clamp(x - dx, w)) * 3;
      const to = (y * w + x) * 3;
      out[to] = data[from];
      out[to + 1] = data[from + 1];
      out[to + 2] = data[from + 2];
    }
  }
  return result;
}
