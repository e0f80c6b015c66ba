/**
 * LLaVA-1.5 style: ViT patch encoder → MLP projector → visual tokens as a prefix to a causal
 * decoder LM. Scaled down; every size comes from ModelConfig.
 */
import { tf } from '../harness/engine.js';
import { Rng } from '../harness/rng.js';
import { block, causalMask, dense, gelu, layerNorm, mergeTokens, patchify } from './layers.js';
import { Params } from './params.js';
import type { MlpParamNames, ModelConfig, ModelFeatures, MultimodalModel, ModelFamily } from './types.js';

export function createLlava(config: ModelConfig): MultimodalModel {
  const { imageSize, patch, width: d, heads, mlpRatio, vocabSize, maxText } = config;
  const p = new Params(new Rng(config.seed));
  const grid = imageSize / patch;
  const merge = config.merge ?? 1;
  if (grid % merge) throw new Error(`llava: merge ${merge} does not divide the ${grid}x${grid} patch grid`);
  const nPatches = grid * grid;
  const nVisual = (grid / merge) ** 2;

  // Vision tower.
  const patchEmbed = dense(p, 'vit/patch', patch * patch * 3, d);
  const vitPos = p.normal('vit/pos', [1, nPatches, d]);
  const vitBlocks = Array.from({ length: config.encoderLayers }, (_, i) =>
    block(p, `vit/block${i}`, d, heads, mlpRatio),
  );
  const vitLn = layerNorm(p, 'vit/ln', d);
  // Projector: two-layer MLP, as LLaVA-1.5 (input: m×m merged patch tokens).
  const proj1 = dense(p, 'projector/fc1', d * merge * merge, d);
  const proj2 = dense(p, 'projector/fc2', d, d);
  // Language model.
  const tokEmbed = p.normal('lm/tok', [vocabSize, d]);
  const lmPos = p.normal('lm/pos', [1, nVisual + maxText, d]);
  const lmBlocks = Array.from({ length: config.decoderLayers }, (_, i) =>
    block(p, `lm/block${i}`, d, heads, mlpRatio),
  );
  const lmLn = layerNorm(p, 'lm/ln', d);
  const head = dense(p, 'lm/head', d, vocabSize);
  // Masks are constants per sequence length; kept outside tidy so they live with the model.
  const masks = new Map<number, tf.Tensor2D>();
  const maskFor = (s: number) => {
    if (!masks.has(s)) masks.set(s, tf.keep(causalMask(s)));
    return masks.get(s)!;
  };

  function encodeImage(images: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      // Pixels [0,1] → roughly zero-mean, unit-scale inputs.
      const pixels = tf.mul(tf.sub(images, 0.5), 4) as tf.Tensor4D;
      let x = tf.add(patchEmbed(patchify(pixels, patch)), vitPos);
      for (const b of vitBlocks) x = b(x);
      x = vitLn(x);
      if (merge > 1) x = mergeTokens(x, grid, merge);
      return proj2(gelu(proj1(x))) as tf.Tensor3D;
    });
  }

  /** The LM's input sequence [B, nVisual + L, d] (visual prefix, then text) and its causal mask. */
  function lmInput(images: tf.Tensor4D, tokens: tf.Tensor2D): { x: tf.Tensor; mask: tf.Tensor2D } {
    const [b, l] = tokens.shape;
    if (l > maxText) throw new Error(`text length ${l} exceeds model maxText ${maxText}`);
    const vis = encodeImage(images);
    const txt = tf.gather(tokEmbed, tokens.reshape([-1])).reshape([b, l, d]);
    const s = nVisual + l;
    return { x: tf.add(tf.concat([vis, txt], 1), lmPos.slice([0, 0, 0], [1, s, d])), mask: maskFor(s) };
  }

  /** Logits at the text positions of the last block's output. */
  function textLogits(x: tf.Tensor, b: number, l: number): tf.Tensor3D {
    return head(lmLn(x.slice([0, nVisual, 0], [b, l, d]))) as tf.Tensor3D;
  }

  function forward(images: tf.Tensor4D, tokens: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, l] = tokens.shape;
      let { x, mask } = lmInput(images, tokens);
      for (const blk of lmBlocks) x = blk(x, mask);
      return textLogits(x, b, l);
    });
  }

  function forwardWithFeatures(images: tf.Tensor4D, tokens: tf.Tensor2D): ModelFeatures {
    return tf.tidy(() => {
      const [b, l] = tokens.shape;
      let { x, mask } = lmInput(images, tokens);
      const blocks: tf.Tensor3D[] = [];
      let mlpHidden: tf.Tensor | undefined;
      lmBlocks.forEach((blk, i) => {
        if (i < lmBlocks.length - 1) x = blk(x, mask);
        else ({ out: x, mlpHidden } = blk.withMlpHidden(x, mask));
        blocks.push(x as tf.Tensor3D);
      });
      return { logits: textLogits(x, b, l), blocks, mlpHidden: mlpHidden as tf.Tensor3D };
    });
  }

  const last = `lm/block${config.decoderLayers - 1}/mlp`;
  const lastMlp: MlpParamNames = { fcW: `${last}/fc/w`, fcB: `${last}/fc/b`, projW: `${last}/proj/w`, hidden: d * mlpRatio };

  return { config, params: p, forward, encodeImage, forwardWithFeatures, lastMlp };
}

export const llava: ModelFamily = { id: 'llava', description: 'LLaVA-1.5 style: ViT → MLP projector → visual tokens as a prefix of the causal LM', create: createLlava };
