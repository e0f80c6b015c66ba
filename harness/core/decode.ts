/**
 * Greedy decoding for every model. A family with `startDecoding` encodes each image once and
 * keeps a key/value cache per LM block, so a new token costs one position; prompts of different
 * lengths share one batch, left-padded (the decoder masks the padding and keeps each row's own
 * positions). Other families fall back to repeated
 * teacher-forced passes over a fixed-length row, reading the argmax at each sample's current
 * position. Both give the same tokens (models/contract.test.ts).
 */
import { tf } from './engine.js';
import type { RgbImage } from './types.js';
import { encodeText, imagesToTensor } from './batch.js';
import { EOS, PAD, type Tokenizer } from './tokenizer.js';
import type { MultimodalModel } from '../../models/types.js';

export interface DecodeOptions {
  maxText: number;
  /**
   * Longest response in tokens (EOS excluded). Default maxText − 2, the evaluator's setting: a
   * response as long as the row leaves room for (the row's own length limit still applies).
   */
  maxNewTokens?: number;
  batchSize: number;
  /** Decode by repeated full forward passes even where the model has a cache (tests, benchmarks). */
  uncached?: boolean;
}

type ResolvedOptions = DecodeOptions & { maxNewTokens: number };

export function generate(
  model: MultimodalModel,
  tok: Tokenizer,
  inputs: { image: RgbImage; prompt: string }[],
  opts: DecodeOptions,
): string[] {
  const o: ResolvedOptions = { ...opts, maxNewTokens: opts.maxNewTokens ?? opts.maxText - 2 };
  const out: string[] = [];
  for (let start = 0; start < inputs.length; start += o.batchSize) {
    const chunk = inputs.slice(start, start + o.batchSize);
    out.push(...(model.startDecoding && !o.uncached ? generateCached(model, tok, chunk, o) : generateBatch(model, tok, chunk, o)));
  }
  return out;
}

function generateBatch(
  model: MultimodalModel,
  tok: Tokenizer,
  chunk: { image: RgbImage; prompt: string }[],
  opts: ResolvedOptions,
): string[] {
  const l = opts.maxText;
  const rows = chunk.map((c) => encodeText(tok, c.prompt, '', l));
  const ids = rows.map((r) => Array.from(r.tokens.slice(0, r.bosAt + 1)));
  const done = rows.map(() => false);
  const images = imagesToTensor(chunk.map((c) => c.image));
  try {
    for (let t = 0; t < opts.maxNewTokens + 1 && done.some((d) => !d); t++) {
      const flat = new Int32Array(chunk.length * l);
      ids.forEach((row, i) => flat.set(row.slice(0, l), i * l));
      const next = tf.tidy(() => {
        const logits = model.forward(images, tf.tensor2d(flat, [chunk.length, l], 'int32'));
        return tf.argMax(logits, -1);
      });
      const argmax = next.dataSync();
      next.dispose();
      ids.forEach((row, i) => {
        if (done[i]) return;
        const id = nextToken(row, t, argmax[i * l + row.length - 1], opts);
        row.push(id);
        if (id === EOS || row.length >= l) done[i] = true;
      });
    }
  } finally {
    images.dispose();
  }
  return ids.map((row, i) => tok.decode(row.slice(rows[i].bosAt + 1)));
}

/** The next token of a row that is still open, under the rules both decoders share. */
function nextToken(row: number[], t: number, argmax: number, opts: ResolvedOptions): number {
  return t === opts.maxNewTokens || row.length >= opts.maxText ? EOS : argmax;
}

function generateCached(model: MultimodalModel, tok: Tokenizer, chunk: { image: RgbImage; prompt: string }[], opts: ResolvedOptions): string[] {
  const l = opts.maxText;
  const rows = chunk.map((c) => encodeText(tok, c.prompt, '', l));
  const ids = rows.map((r) => Array.from(r.tokens.slice(0, r.bosAt + 1)));
  // One batch whatever the prompt lengths: shorter prompts are left-padded, so every row's next
  // token is read at the last column (the decoder hides the padding and keeps each row's positions).
  const width = Math.max(...ids.map((r) => r.length));
  const pad = ids.map((r) => width - r.length);
  const images = imagesToTensor(chunk.map((c) => c.image));
  const dec = model.startDecoding!(images);
  images.dispose();
  let input: tf.Tensor2D = tf.tensor2d(ids.flatMap((r, i) => [...Array<number>(pad[i]).fill(PAD), ...r]), [ids.length, width], 'int32');
  const done = ids.map(() => false);
  try {
    for (let t = 0; t < opts.maxNewTokens + 1 && done.some((d) => !d); t++) {
      const logits = dec.step(input, t === 0 ? pad : undefined);
      input.dispose();
      const next = tf.tidy(() => tf.argMax(logits.slice([0, logits.shape[1] - 1, 0], [ids.length, 1, logits.shape[2]]), -1));
      logits.dispose();
      const argmax = next.dataSync();
      next.dispose();
      ids.forEach((row, k) => {
        if (done[k]) return;
        const id = nextToken(row, t, argmax[k], opts);
        row.push(id);
        if (id === EOS || row.length >= l) done[k] = true;
      });
      // Closed rows are fed their last token to keep the batch whole; their outputs are ignored.
      input = tf.tensor2d(ids.map((row) => row[row.length - 1]), [ids.length, 1], 'int32');
    }
  } finally {
    input.dispose();
    dec.dispose();
  }
  return ids.map((row, i) => tok.decode(row.slice(rows[i].bosAt + 1)));
}
