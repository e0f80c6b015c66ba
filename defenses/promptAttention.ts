/**
 * The text's attention to the image where BYE and CleanSight read it: at the last prompt
 * position (BOS here), the one that predicts the first response token, in every LM layer that
 * reads the image (models/types.ts VisualAttention: the self-attention's share on the visual
 * prefix for llava and blip2, the gated cross-attention for flamingo).
 */
import { encodeText, imagesToTensor } from '../harness/core/batch.js';
import type { RgbImage } from '../harness/core/types.js';
import { tf } from '../harness/core/engine.js';
import type { Tokenizer } from '../harness/core/tokenizer.js';
import type { MultimodalModel } from '../models/types.js';

export interface PromptAttention {
  /** [sample][layer][head]: the attention on each of the N visual tokens. */
  visual: Float32Array[][][];
  /** [sample][layer][head]: the attention on the text; absent for flamingo's cross-attention. */
  text?: number[][][];
}

/** Attention of row b at position at[b] (teacher-forced over tokens [B,L]). */
export function promptAttention(model: MultimodalModel, images: tf.Tensor4D, tokens: tf.Tensor2D, at: number[]): PromptAttention {
  if (!model.forwardWithFeatures) throw new Error(`model family "${model.config.family}" does not expose forwardWithFeatures: its attention cannot be read`);
  const [b, l] = tokens.shape;
  const maps = tf.tidy(() => {
    const f = model.forwardWithFeatures!(images, tokens, { attention: true });
    // A one-hot over positions picks each row's own position: [B,1,L,1] against [B,h,L,N].
    const pick = tf.oneHot(tf.tensor1d(at, 'int32'), l).reshape([b, 1, l, 1]);
    return f.attention!.map((a) => ({
      visual: tf.sum(tf.mul(a.visual, pick), 2),
      text: a.text && tf.sum(tf.mul(a.text, pick.reshape([b, 1, l])), 2),
    }));
  });
  const visual = maps.map((m) => m.visual.arraySync() as number[][][]);
  const text = maps[0]?.text ? maps.map((m) => m.text!.arraySync() as number[][]) : undefined;
  tf.dispose(maps.flatMap((m) => [m.visual, ...(m.text ? [m.text] : [])]));
  // [layer][sample][head] → [sample][layer][head]
  return {
    visual: Array.from({ length: b }, (_, s) => visual.map((layer) => layer[s].map((head) => Float32Array.from(head)))),
    ...(text ? { text: Array.from({ length: b }, (_, s) => text.map((layer) => layer[s])) } : {}),
  };
}

/** `promptAttention` over many (image, prompt) inputs in batches; `use` gets each batch's maps with its offset. */
export function eachPromptAttention(
  model: MultimodalModel,
  tok: Tokenizer,
  inputs: { image: RgbImage; prompt: string }[],
  batchSize: number,
  use: (maps: PromptAttention, offset: number) => void,
): void {
  for (let start = 0; start < inputs.length; start += batchSize) {
    const batch = inputs.slice(start, start + batchSize);
    const rows = batch.map((e) => encodeText(tok, e.prompt, '', model.config.maxText));
    const images = imagesToTensor(batch.map((e) => e.image));
    const tokens = tf.tensor2d(
      rows.flatMap((r) => Array.from(r.tokens)),
      [rows.length, model.config.maxText],
      'int32',
    );
    try {
      use(promptAttention(model, images, tokens, rows.map((r) => r.bosAt)), start);
    } finally {
      tf.dispose([images, tokens]);
    }
  }
}
