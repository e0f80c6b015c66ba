/**
 * Turning examples into tensors: images (uint8 or float on [0, 255]) to float [B,H,W,3] in [0,1], text to
 * `prompt <bos> response <eos>` token rows padded to a fixed length (constant shapes keep the
 * backend's memory reuse and the model's mask cache effective).
 */
import { tf } from './engine.js';
import type { FloatImage, PixelImage, RgbImage } from './types.js';
import type { Rng } from './rng.js';
import { BOS, EOS, PAD, type Tokenizer } from './tokenizer.js';

/** One supervised pair after any attack: the responses are alternatives (one drawn per epoch). */
export interface TrainExample {
  id: string;
  image: RgbImage;
  prompt: string;
  responses: string[];
  /**
   * Set by a training-controlled attack (harness/run/poison.ts) on its poisoned and negative
   * examples: the float image the training loop feeds at each step instead of `image`, drawn
   * from that step's rng (harness/core/training.ts). `image` then holds a stored uint8 stand-in for
   * what reads examples outside the loop (per-sample losses). Defenses that filter or copy
   * examples keep it by passing the objects on (spread or filter, never rebuilt field by field).
   */
  stepImage?: (rng: Rng) => FloatImage;
}

/** uint8 and float images alike: both are on the [0, 255] scale, so float ones stay unrounded. */
export function imagesToTensor(images: PixelImage[]): tf.Tensor4D {
  const { height: h, width: w } = images[0];
  const buf = new Float32Array(images.length * h * w * 3);
  images.forEach((img, i) => {
    if (img.height !== h || img.width !== w) throw new Error(`image ${i} is ${img.height}x${img.width}, expected ${h}x${w}`);
    const off = i * h * w * 3;
    for (let j = 0; j < img.data.length; j++) buf[off + j] = img.data[j] / 255;
  });
  return tf.tensor4d(buf, [images.length, h, w, 3]);
}

export interface EncodedText {
  /** [L] input ids. */
  tokens: Int32Array;
  /** [L] next-token targets (tokens shifted left). */
  targets: Int32Array;
  /** [L] 1 where the target is a response token or the closing EOS. */
  weights: Float32Array;
  /** Index of BOS: generation starts by predicting at this position. */
  bosAt: number;
}

/** Prompt is truncated from the left and the response from the right so the row fits. */
export function encodeText(tok: Tokenizer, prompt: string, response: string, length: number): EncodedText {
  let p = tok.encode(prompt);
  let r = tok.encode(response);
  const room = length - 2;
  if (p.length + r.length > room) {
    r = r.slice(0, Math.max(0, room - Math.min(p.length, Math.floor(room / 2))));
    p = p.slice(Math.max(0, p.length - (room - r.length)));
  }
  const ids = [...p, BOS, ...r, EOS];
  const tokens = new Int32Array(length).fill(PAD);
  const targets = new Int32Array(length).fill(PAD);
  const weights = new Float32Array(length);
  ids.forEach((id, i) => (tokens[i] = id));
  for (let i = 0; i < ids.length - 1; i++) {
    targets[i] = ids[i + 1];
    if (i >= p.length) weights[i] = 1;
  }
  return { tokens, targets, weights, bosAt: p.length };
}

export interface TextBatch {
  tokens: tf.Tensor2D;
  targets: tf.Tensor2D;
  weights: tf.Tensor2D;
}

export function textBatch(rows: EncodedText[]): TextBatch {
  const l = rows[0].tokens.length;
  const cat = <T extends Int32Array | Float32Array>(make: (n: number) => T, pick: (r: EncodedText) => T) => {
    const out = make(rows.length * l);
    rows.forEach((r, i) => out.set(pick(r), i * l));
    return out;
  };
  return {
    tokens: tf.tensor2d(cat((n) => new Int32Array(n), (r) => r.tokens), [rows.length, l], 'int32'),
    targets: tf.tensor2d(cat((n) => new Int32Array(n), (r) => r.targets), [rows.length, l], 'int32'),
    weights: tf.tensor2d(cat((n) => new Float32Array(n), (r) => r.weights), [rows.length, l], 'float32'),
  };
}
