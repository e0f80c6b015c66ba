/**
 * Loading the images of one dataset at the model's size: each file once (VQA asks several
 * questions per image), a few in flight at a time, under the dataset's onBadImage policy.
 */
import { existsSync } from 'node:fs';
import { UserError } from '../core/errors.js';
import type { OnBadImage } from './datasetFiles.js';
import type { ImageDecoder } from './decoder.js';
import { ImageDecodeError, loadImageFile } from './images.js';
import type { RgbImage } from '../core/types.js';

export interface SkippedImage {
  path: string;
  reason: string;
}

/**
 * Decodes in flight at once: enough to overlap file reads with sharp's decoding on libuv's
 * thread pool (4 threads by default), few enough that a worker holds only a handful of
 * full-size photos in memory at a time.
 */
const IN_FLIGHT = 4;

/** An image file named by the dataset: the file, where the dataset names it, and the config field of its directory. */
export interface ImageRef {
  path: string;
  namedBy: string;
  dirField: string;
}

/**
 * A missing file is always a UserError (a wrong root or images dir, not a bad file); a file
 * that does not decode is skipped and recorded (onBadImage 'skip') or a UserError ('fail').
 */
export class ImageLoader {
  /** Every file asked for, in the order first asked: its image, or null when skipped (with the reason). */
  private readonly results = new Map<string, Promise<RgbImage | null>>();
  private readonly reasons = new Map<string, string>();

  constructor(
    readonly size: number,
    readonly onBadImage: OnBadImage,
    readonly decoder: ImageDecoder,
  ) {}

  /** The image of `ref`, or null when it was skipped. */
  load(ref: ImageRef): Promise<RgbImage | null> {
    let result = this.results.get(ref.path);
    if (!result) {
      result = this.decode(ref);
      this.results.set(ref.path, result);
    }
    return result;
  }

  /**
   * The images of `refs` in their order (null where skipped), at most IN_FLIGHT decodes at
   * once. On failures it throws the error of the earliest ref, whatever order decodes finished in.
   */
  async loadAll(refs: ImageRef[]): Promise<(RgbImage | null)[]> {
    const out = new Array<RgbImage | null>(refs.length);
    const errors = new Map<number, unknown>();
    let next = 0;
    const lane = async () => {
      while (next < refs.length && errors.size === 0) {
        const i = next++;
        out[i] = await this.load(refs[i]).catch((err: unknown) => (errors.set(i, err), null));
      }
    };
    await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, refs.length) }, lane));
    if (errors.size > 0) throw errors.get(Math.min(...errors.keys()));
    return out;
  }

  /** The skipped files in the order they were first asked for, so the summary does not depend on decode timing. */
  skipped(): SkippedImage[] {
    return [...this.results.keys()].filter((p) => this.reasons.has(p)).map((path) => ({ path, reason: this.reasons.get(path)! }));
  }

  private async decode({ path, namedBy, dirField }: ImageRef): Promise<RgbImage | null> {
    if (!existsSync(path)) {
      throw new UserError(`${path}: image not found (named by ${namedBy}); check data.root and ${dirField}, or remove the entry`);
    }
    try {
      return await loadImageFile(path, this.size, this.decoder);
    } catch (err) {
      if (!(err instanceof ImageDecodeError)) throw err;
      if (this.onBadImage === 'fail') {
        throw new UserError(`${path}: cannot decode image (${err.reason}); replace the file, or set data.onBadImage to "skip" to drop its samples`);
      }
      this.reasons.set(path, err.reason);
      return null;
    }
  }
}

/** One line for the skipped images of a dataset (first few named), or null when none were. */
export function skippedSummary(dataset: string, skipped: SkippedImage[]): string | null {
  if (skipped.length === 0) return null;
  const SHOWN = 3;
  const named = skipped.slice(0, SHOWN).map((s) => `${s.path} (${s.reason})`).join(', ');
  const more = skipped.length > SHOWN ? ` and ${skipped.length - SHOWN} more` : '';
  return `[data] ${dataset}: skipped ${skipped.length} image(s) that failed to decode, with their samples: ${named}${more}; set data.onBadImage to "fail" to stop on them instead`;
}
