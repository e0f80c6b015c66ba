/**
 * `mbb predict`: caption an image, or answer a question about it, with a saved checkpoint
 * (model.json + weights.bin, as written by harness/run/checkpoint.ts into every cached stage).
 * The image is brought to the model's input size as the real-dataset loaders do it
 * (harness/data/images.ts: centre square, area averaging), then greedy-decoded.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '../run/checkpoint.js';
import { imageDecoder } from '../data/decoder.js';
import { ImageDecodeError, loadImageFile } from '../data/images.js';
import { CAPTION_PROMPT, type RgbImage } from '../core/types.js';
import { generate } from '../core/decode.js';
import { initEngine, type BackendName } from '../core/engine.js';
import { UserError } from '../core/errors.js';
import { normalizeWords, UNK } from '../core/tokenizer.js';

export interface PredictOptions {
  /** Checkpoint directory holding model.json and weights.bin. */
  checkpoint: string;
  /** PNG (or JPEG) image file, any size. */
  image: string;
  /** VQA question; without it the model captions the image. */
  question?: string;
  backend?: BackendName;
  /** Where the prediction line goes (default stdout); notes go to stderr. */
  out?: (line: string) => void;
}

/**
 * Read and decode the image file (PNG or JPEG, by its magic bytes) at the model's input size,
 * preprocessed as the real-dataset loaders do (centre square, area averaging); errors name the file.
 */
export async function readImageFile(path: string, size: number): Promise<RgbImage> {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`--image ${path}: file not found`);
  try {
    return await loadImageFile(path, size, imageDecoder());
  } catch (e) {
    if (e instanceof ImageDecodeError) throw new UserError(`--image ${e.message}; predict reads PNG (or JPEG) files`);
    throw e;
  }
}

/** Load the checkpoint, read and resize the image, print and return the caption or answer. */
export async function predictMain(opts: PredictOptions): Promise<string> {
  const dir = opts.checkpoint;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`--checkpoint ${dir}: directory not found; give a directory holding model.json and weights.bin (e.g. .cache/backdoored/<key>)`);
  }
  for (const f of ['model.json', 'weights.bin']) {
    if (!existsSync(join(dir, f))) throw new UserError(`--checkpoint ${dir}: ${f} missing; a checkpoint directory holds model.json and weights.bin`);
  }
  // A mistyped path fails before the engine starts (seconds, and noise on stderr under auto).
  if (!existsSync(opts.image)) throw new UserError(`--image ${opts.image}: file not found`);
  await initEngine({ backend: opts.backend, quiet: true }); // unset: MBB_BACKEND, else auto
  const { model, tok } = loadCheckpoint(dir);
  try {
    const image = await readImageFile(opts.image, model.config.imageSize);
    const prompt = opts.question ?? CAPTION_PROMPT;
    const unknown = normalizeWords(prompt).filter((w) => tok.encode(w)[0] === UNK);
    if (unknown.length) process.stderr.write(`[predict] words the model never saw (read as <unk>): ${unknown.join(', ')}\n`);
    const { maxText } = model.config;
    const [text] = generate(model, tok, [{ image, prompt }], { maxText, batchSize: 1 });
    (opts.out ?? ((l: string) => process.stdout.write(`${l}\n`)))(text);
    return text;
  } finally {
    model.params.dispose();
  }
}
