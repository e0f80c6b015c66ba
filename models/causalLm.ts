/**
 * The decoder LM every family shares: token + position embeddings, pre-norm causal blocks,
 * final norm, output head (parameters lm/{tok,pos,block<i>,ln,head}). An optional visual
 * prefix (llava's projected patches, blip2's queries) is prepended to the text; flamingo runs
 * it over text alone and injects the image through `beforeBlock` (its gated cross-attention).
 */
import { tf } from '../harness/engine.js';
import { block, causalMask, dense, layerNorm, type KvCache } from './layers.js';
import type { Params } from './params.js';
import type { IncrementalDecoder, MlpParamNames, ModelConfig, ModelFeatures, MultimodalModel } from './types.js';

export interface CausalLm {
  /**
   * Logits at the L text positions [B,L,V] for a prefix [B,P,d] (P = `prefix` of the
   * constructor; pass undefined when 0) and tokens [B,L]; with `features`, also every block's
   * output over the whole sequence and the last block's MLP hidden layer.
   */
  run(prefix: tf.Tensor3D | undefined, tokens: tf.Tensor2D, features: boolean, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor): ModelFeatures;
  /**
   * An incremental decoder over the same weights: the prefix (and `owned`, e.g. flamingo's
   * visual tokens, which `beforeBlock` reads) is kept until dispose; each block keeps its keys
   * and values, so a new token costs one position, not the whole row.
   */
  decoder(prefix: tf.Tensor3D | undefined, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor, owned?: tf.Tensor[]): IncrementalDecoder;
  /** The last block's MLP, for fine-pruning. */
  lastMlp: MlpParamNames;
}

export function causalLm(p: Params, config: ModelConfig, prefix: number): CausalLm {
  const { width: d, heads, mlpRatio, vocabSize, maxText } = config;
  const tokEmbed = p.normal('lm/tok', [vocabSize, d]);
  const pos = p.normal('lm/pos', [1, prefix + maxText, d]);
  const blocks = Array.from({ length: config.decoderLayers }, (_, i) => block(p, `lm/block${i}`, d, heads, mlpRatio));
  const ln = layerNorm(p, 'lm/ln', d);
  const head = dense(p, 'lm/head', d, vocabSize);
  // Masks are constants per sequence length; kept outside tidy so they live with the model.
  const masks = new Map<number, tf.Tensor2D>();
  const maskFor = (s: number) => {
    if (!masks.has(s)) masks.set(s, tf.keep(causalMask(s)));
    return masks.get(s)!;
  };

  function run(vis: tf.Tensor3D | undefined, tokens: tf.Tensor2D, features: boolean, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor): ModelFeatures {
    const [b, l] = tokens.shape;
    if (l > maxText) throw new Error(`text length ${l} exceeds model maxText ${maxText}`);
    const txt = tf.gather(tokEmbed, tokens.reshape([-1])).reshape([b, l, d]);
    const s = prefix + l;
    let x: tf.Tensor = tf.add(vis ? tf.concat([vis, txt], 1) : txt, pos.slice([0, 0, 0], [1, s, d]));
    const mask = maskFor(s);
    const outs: tf.Tensor3D[] = [];
    let mlpHidden: tf.Tensor | undefined;
    blocks.forEach((blk, i) => {
      if (beforeBlock) x = beforeBlock(i, x);
      if (features && i === blocks.length - 1) ({ out: x, mlpHidden } = blk.withMlpHidden(x, mask));
      else x = blk(x, mask);
      if (features) outs.push(x as tf.Tensor3D);
    });
    const logits = head(ln(prefix ? x.slice([0, prefix, 0], [b, l, d]) : x)) as tf.Tensor3D;
    return { logits, blocks: outs, mlpHidden: mlpHidden as tf.Tensor3D };
  }

  function decoder(vis: tf.Tensor3D | undefined, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor, owned: tf.Tensor[] = []): IncrementalDecoder {
    let caches: (KvCache | undefined)[] = blocks.map(() => undefined);
    let seen = 0; // sequence positions fed so far, the prefix included
    let text = 0;
    return {
      step(tokens) {
        const [b, n] = tokens.shape;
        const first = seen === 0;
        // The first call feeds the prompt (causal mask over prefix + prompt, as `run`); later
        // calls one token, which sees every cached position: no mask needed.
        if (!first && n !== 1) throw new Error(`incremental decoding: after the prompt, feed one token per step (got ${n})`);
        if (text + n > maxText) throw new Error(`text length ${text + n} exceeds model maxText ${maxText}`);
        const r = tf.tidy(() => {
          const txt = tf.gather(tokEmbed, tokens.reshape([-1])).reshape([b, n, d]);
          const seq = (first && vis ? tf.concat([vis, txt], 1) : txt) as tf.Tensor3D;
          const s = seq.shape[1];
          let x: tf.Tensor = tf.add(seq, pos.slice([0, seen, 0], [1, s, d]));
          const mask = first ? maskFor(s) : undefined;
          const next: KvCache[] = [];
          blocks.forEach((blk, i) => {
            if (beforeBlock) x = beforeBlock(i, x);
            const o = blk.cached(x, caches[i], mask);
            x = o.out;
            next.push(o.cache);
          });
          const logits = head(ln(first && vis ? x.slice([0, s - n, 0], [b, n, d]) : x)) as tf.Tensor3D;
          return { logits, k: next.map((c) => c.k), v: next.map((c) => c.v) };
        });
        caches.forEach((c) => c && tf.dispose([c.k, c.v]));
        caches = r.k.map((k, i) => ({ k, v: r.v[i] }));
        seen += first && vis ? vis.shape[1] + n : n;
        text += n;
        return r.logits;
      },
      dispose() {
        caches.forEach((c) => c && tf.dispose([c.k, c.v]));
        caches = [];
        tf.dispose([...(vis ? [vis] : []), ...owned]);
      },
    };
  }

  const last = `lm/block${config.decoderLayers - 1}/mlp`;
  return { run, decoder, lastMlp: { fcW: `${last}/fc/w`, fcB: `${last}/fc/b`, projW: `${last}/proj/w`, hidden: d * mlpRatio } };
}

/** A prefix model (llava, blip2): the image encoder's output is the LM's visual prefix. */
export function prefixModel(config: ModelConfig, params: Params, encodeImage: (images: tf.Tensor4D) => tf.Tensor3D, lm: CausalLm): MultimodalModel {
  return {
    config,
    params,
    encodeImage,
    forward: (images, tokens) => tf.tidy(() => lm.run(encodeImage(images), tokens, false).logits),
    // A literal copy: tidy's TensorContainer type rejects the ModelFeatures interface.
    forwardWithFeatures: (images, tokens) => tf.tidy(() => ({ ...lm.run(encodeImage(images), tokens, true) })),
    startDecoding: (images) => lm.decoder(encodeImage(images)),
    lastMlp: lm.lastMlp,
  };
}
