/**
 * BLIP-2 style (also InstructBLIP, MiniGPT-4): ViT patch encoder → Q-Former → linear projection
 * → the query outputs as a visual prefix to the same causal decoder LM as llava. Scaled down;
 * every size comes from ModelConfig.
 *
 * The Q-Former compresses the image to a fixed number of tokens (`queries`, whatever the patch
 * grid): learned query tokens that, in each of `qformerLayers` layers, attend to each other,
 * cross-attend to the patch features, then pass an MLP. Pre-norm like our other blocks (BLIP-2's
 * BERT layers are post-norm and cross-attend every other layer; at 1–2 layers every layer must
 * see the image). BLIP-2's first-stage losses (contrastive, matching, captioning with the
 * Q-Former alone) are left out: the whole model trains end to end on the LM loss.
 */
import { tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';
import { causalLm, paramsUnder, prefixModel } from './causalLm.js';
import { attention, dense, layerNorm, mlp, VISION_TOWER, vit } from './layers.js';
import { Params } from './params.js';
import type { ModelConfig, ModelFamily, MultimodalModel } from './types.js';

/** 8 queries over the default 8×8 patch grid: BLIP-2's 32 queries for 256 patches, scaled. */
export const BLIP2_DEFAULTS = { queries: 8, qformerLayers: 2 };

/** One Q-Former layer: queries [B,Q,d] self-attend, cross-attend to the patches [B,N,d], MLP. */
function qformerLayer(p: Params, name: string, d: number, heads: number, mlpRatio: number) {
  const ln1 = layerNorm(p, `${name}/ln1`, d);
  const self = attention(p, `${name}/self`, d, heads);
  const ln2 = layerNorm(p, `${name}/ln2`, d);
  const cross = attention(p, `${name}/cross`, d, heads);
  const ln3 = layerNorm(p, `${name}/ln3`, d);
  const ff = mlp(p, `${name}/mlp`, d, d * mlpRatio);
  return (q: tf.Tensor, patches: tf.Tensor): tf.Tensor => {
    const h = ln1(q);
    q = tf.add(q, self(h, h));
    q = tf.add(q, cross(ln2(q), patches));
    return ff(ln3(q), q);
  };
}

export function createBlip2(config: ModelConfig): MultimodalModel {
  const { width: d, heads, mlpRatio } = config;
  const nQueries = config.queries ?? BLIP2_DEFAULTS.queries;
  const nLayers = config.qformerLayers ?? BLIP2_DEFAULTS.qformerLayers;
  if (!(Number.isInteger(nQueries) && nQueries >= 1)) throw new Error(`blip2: model.queries must be a whole number ≥ 1, got ${nQueries}`);
  if (!(Number.isInteger(nLayers) && nLayers >= 1)) throw new Error(`blip2: model.qformerLayers must be a whole number ≥ 1, got ${nLayers}`);
  const p = new Params(new Rng(config.seed));

  // Vision tower.
  const patchFeatures = vit(p, VISION_TOWER, config);
  // Q-Former, then BLIP-2's single linear projection into the LM's embedding space.
  const queries = p.normal('qformer/queries', [1, nQueries, d]);
  const qLayers = Array.from({ length: nLayers }, (_, i) => qformerLayer(p, `qformer/layer${i}`, d, heads, mlpRatio));
  const qLn = layerNorm(p, 'qformer/ln', d);
  const qProj = dense(p, 'qformer/proj', d, d);
  const lm = causalLm(p, config, nQueries);

  /** The visual prefix: the projected Q-Former outputs [B, queries, d]. */
  function encodeImage(images: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => {
      const patches = patchFeatures(images);
      let q: tf.Tensor = tf.broadcastTo(queries, [images.shape[0], nQueries, d]);
      for (const layer of qLayers) q = layer(q, patches);
      return qProj(qLn(q)) as tf.Tensor3D;
    });
  }

  // BLIP-2's adapter is the whole Q-Former (its queries, layers and projection).
  return prefixModel(config, p, encodeImage, lm, { params: paramsUnder(p, 'qformer/'), outW: 'qformer/proj/w' });
}

export const blip2: ModelFamily = { id: 'blip2', description: 'BLIP-2 style: ViT → Q-Former (learned queries cross-attending to patches) → prefix of the causal LM', create: createBlip2 };
