/**
 * LLaVA-1.5 style: ViT patch encoder → MLP projector → visual tokens as a prefix to a causal
 * decoder LM. Scaled down; every size comes from ModelConfig.
 */
import { tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { causalLm, paramsUnder, prefixModel } from './causalLm.js';
import { dense, gelu, mergeTokens, VISION_TOWER, vit } from './layers.js';
import { Params } from './params.js';
import type { ModelConfig, ModelFamily, MultimodalModel } from './types.js';

export function createLlava(config: ModelConfig): MultimodalModel {
  const { imageSize, patch, width: d, merge = 1 } = config;
  const grid = imageSize / patch;
  if (grid % merge) throw new Error(`llava: merge ${merge} does not divide the ${grid}x${grid} patch grid`);
  const p = new Params(new Rng(config.seed));
  const patchFeatures = vit(p, VISION_TOWER, config);
  // Projector: two-layer MLP, as LLaVA-1.5 (input: m×m merged patch tokens).
  const proj1 = dense(p, 'projector/fc1', d * merge * merge, d);
  const proj2 = dense(p, 'projector/fc2', d, d);
  const lm = causalLm(p, config, (grid / merge) ** 2);

  /** The visual prefix: projected (merged) patch features [B, (grid/merge)², d]. */
  function encodeImage(images: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      let x: tf.Tensor = patchFeatures(images);
      if (merge > 1) x = mergeTokens(x, grid, merge);
      return proj2(gelu(proj1(x))) as tf.Tensor3D;
    });
  }

  return prefixModel(config, p, encodeImage, lm, { params: paramsUnder(p, 'projector/'), outW: 'projector/fc2/w' });
}

export const llava: ModelFamily = { id: 'llava', description: 'LLaVA-1.5 style: ViT → MLP projector → visual tokens as a prefix of the causal LM', create: createLlava };
