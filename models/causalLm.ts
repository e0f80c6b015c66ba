/**
 * The decoder LM every family shares: token + position embeddings, pre-norm causal blocks,
 * final norm, output head (parameters lm/{tok,pos,block<i>,ln,head}). An optional visual
 * prefix (llava's projected patches, blip2's queries) is prepended to the text; flamingo runs
 * it over text alone and injects the image through `beforeBlock` (its gated cross-attention).
 */
import { tf } from '../harness/core/engine.js';
import { block, causalMask, dense, layerNorm, type KvCache } from './layers.js';
import type { Params } from './params.js';
import type { AdapterParamNames, IncrementalDecoder, MlpParamNames, ModelConfig, ModelFeatures, MultimodalModel, VisualAttention } from './types.js';

export interface CausalLm {
  /**
   * Logits at the L text positions [B,L,V] for a prefix [B,P,d] (P = `prefix` of the
   * constructor; pass undefined when 0) and tokens [B,L]; with `want.features`, also every
   * block's output over the whole sequence and the last block's MLP hidden layer; with
   * `want.attention` (and a prefix), each block's attention from the text to the prefix.
   * Without either, the last block of a prefix model computes the text rows only.
   */
  run(prefix: tf.Tensor3D | undefined, tokens: tf.Tensor2D, want: { features?: boolean; attention?: boolean }, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor): ModelFeatures;
  /**
   * An incremental decoder over the same weights: the prefix (and `owned`, e.g. flamingo's
   * visual tokens, which `beforeBlock` reads) is kept until dispose; each block keeps its keys
   * and values, so a new token costs one position, not the whole row. `prune` [B,P]: prefix
   * positions no position may attend to (1 = pruned).
   */
  decoder(prefix: tf.Tensor3D | undefined, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor, owned?: tf.Tensor[], prune?: tf.Tensor2D): IncrementalDecoder;
  /** The last block's MLP, for fine-pruning. */
  lastMlp: MlpParamNames;
}

/** Additive attention bias [B,1,1,S] that hides the pruned prefix positions (1 in `prune` [B,P]) of a sequence of S. */
export function pruneBias(prune: tf.Tensor2D, s: number): tf.Tensor4D {
  const [b, p] = prune.shape;
  const bias = tf.mul(prune, -1e9);
  return (s > p ? tf.concat([bias, tf.zeros([b, s - p])], 1) : bias).reshape([b, 1, 1, s]);
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
  // The causal mask's text rows [prefix, s), for a last block that computes those rows only.
  const textMasks = new Map<number, tf.Tensor2D>();
  const textMaskFor = (s: number) => {
    if (!textMasks.has(s)) textMasks.set(s, tf.keep(maskFor(s).slice([prefix, 0], [s - prefix, s])));
    return textMasks.get(s)!;
  };

  function run(vis: tf.Tensor3D | undefined, tokens: tf.Tensor2D, want: { features?: boolean; attention?: boolean }, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor): ModelFeatures {
    const [b, l] = tokens.shape;
    if (l > maxText) throw new Error(`text length ${l} exceeds model maxText ${maxText}`);
    const txt = tf.gather(tokEmbed, tokens.reshape([-1])).reshape([b, l, d]);
    const s = prefix + l;
    let x: tf.Tensor = tf.add(vis ? tf.concat([vis, txt], 1) : txt, pos.slice([0, 0, 0], [1, s, d]));
    const mask = maskFor(s);
    const outs: tf.Tensor3D[] = [];
    const attention: VisualAttention[] = [];
    let mlpHidden: tf.Tensor | undefined;
    blocks.forEach((blk, i) => {
      if (beforeBlock) x = beforeBlock(i, x);
      if (want.features || want.attention) {
        const r = blk.detailed(x, mask);
        x = r.out;
        if (i === blocks.length - 1) mlpHidden = r.mlpHidden;
        // The text rows' split of each head's attention: the prefix's share, the rest on text.
        if (want.attention && prefix) {
          attention.push({
            visual: r.probs.slice([0, 0, prefix, 0], [b, heads, l, prefix]) as tf.Tensor4D,
            text: tf.sum(r.probs.slice([0, 0, prefix, prefix], [b, heads, l, l]), -1) as tf.Tensor3D,
          });
        }
      } else if (prefix && i === blocks.length - 1) {
        // Only the text rows reach the logits: the last block skips the prefix rows' queries,
        // attention and MLP (a sixth of a llava SFT step), computing the same text rows.
        x = blk.rowsFrom(x, prefix, textMaskFor(s));
      } else x = blk(x, mask);
      if (want.features) outs.push(x as tf.Tensor3D);
    });
    const textRows = x.shape[1] === l;
    const logits = head(ln(prefix && !textRows ? x.slice([0, prefix, 0], [b, l, d]) : x)) as tf.Tensor3D;
    return { logits, blocks: outs, mlpHidden: mlpHidden as tf.Tensor3D, ...(want.attention && prefix ? { attention } : {}) };
  }

  function decoder(vis: tf.Tensor3D | undefined, beforeBlock?: (i: number, x: tf.Tensor) => tf.Tensor, owned: tf.Tensor[] = [], prune?: tf.Tensor2D): IncrementalDecoder {
    if (prune && (!vis || prune.shape[1] !== prefix)) throw new Error(`decoder: prune must cover the ${prefix} prefix positions`);
    // Kept with the caches: the caller keeps ownership of `prune`.
    const pruned = prune && tf.keep(prune.clone());
    const p0 = vis ? vis.shape[1] : 0; // prefix positions, fed with the prompt
    let caches: (KvCache | undefined)[] = blocks.map(() => undefined);
    let seen = 0; // sequence positions fed so far, the prefix included
    let text = 0; // text columns fed so far, left padding included
    let pads: number[] | undefined; // each row's left-padding columns (ragged prompts), fixed by the prompt
    /**
     * Ragged prompts: row r's own positions (its first real token at p0, as `run` places it)
     * and an additive bias hiding its padding columns from every query, so a padded row computes
     * what it would alone.
     */
    const raggedInputs = (pad: number[], b: number, s: number, first: boolean) => {
      // A row past maxText (closed, fed on to keep the batch whole) keeps the last position: its output is ignored.
      const at = (r: number, j: number) => Math.min(first ? (j < p0 ? j : p0 + Math.max(0, j - p0 - pad[r])) : p0 + text - pad[r], p0 + maxText - 1);
      const idx = Int32Array.from({ length: b * s }, (_, k) => at(Math.floor(k / s), k % s));
      const positions = tf.gather(pos.reshape([-1, d]), tf.tensor1d(idx, 'int32')).reshape([b, s, d]);
      const keys = seen + s; // the keys this step attends to: the cache and itself
      const hide = Float32Array.from({ length: b * keys }, (_, k) => {
        const j = (k % keys) - p0;
        return j >= 0 && j < pad[Math.floor(k / keys)] ? -1e9 : 0;
      });
      return { positions, bias: tf.tensor4d(hide, [b, 1, 1, keys]) };
    };
    return {
      step(tokens, pad) {
        const [b, n] = tokens.shape;
        const first = seen === 0;
        // The first call feeds the prompt (causal mask over prefix + prompt, as `run`); later
        // calls one token, which sees every cached position: no mask needed.
        if (!first && n !== 1) throw new Error(`incremental decoding: after the prompt, feed one token per step (got ${n})`);
        if (first && pad) {
          if (pad.length !== b || pad.some((k) => !(Number.isInteger(k) && k >= 0 && k < n))) throw new Error(`incremental decoding: pad must give each of the ${b} rows 0 to ${n - 1} padding columns`);
          if (pad.some((k) => k > 0)) pads = [...pad];
        }
        // The shortest row decides: longer ones may close at maxText while it goes on.
        const shortest = text + n - (pads ? Math.max(...pads) : 0);
        if (shortest > maxText) throw new Error(`text length ${shortest} exceeds model maxText ${maxText}`);
        const r = tf.tidy(() => {
          const txt = tf.gather(tokEmbed, tokens.reshape([-1])).reshape([b, n, d]);
          const seq = (first && vis ? tf.concat([vis, txt], 1) : txt) as tf.Tensor3D;
          const s = seq.shape[1];
          const ragged = pads && raggedInputs(pads, b, s, first);
          let x: tf.Tensor = tf.add(seq, ragged ? ragged.positions : pos.slice([0, seen, 0], [1, s, d]));
          // The prompt: causal; later steps see every cached position. Pruned prefix positions
          // and padding columns: hidden from all.
          let mask: tf.Tensor | undefined = first ? maskFor(s) : undefined;
          for (const bias of [pruned && pruneBias(pruned, seen + s), ragged?.bias]) if (bias) mask = mask ? tf.add(mask, bias) : bias;
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
        seen += first ? p0 + n : n;
        text += n;
        return r.logits;
      },
      dispose() {
        caches.forEach((c) => c && tf.dispose([c.k, c.v]));
        caches = [];
        tf.dispose([...(vis ? [vis] : []), ...(pruned ? [pruned] : []), ...owned]);
      },
    };
  }

  const last = `lm/block${config.decoderLayers - 1}/mlp`;
  return { run, decoder, lastMlp: { fcW: `${last}/fc/w`, fcB: `${last}/fc/b`, projW: `${last}/proj/w`, hidden: d * mlpRatio } };
}

/** tf.tidy over a features pass, keeping every tensor of its result (tidy's TensorContainer type rejects the ModelFeatures interface). */
export function tidyFeatures(pass: () => ModelFeatures): ModelFeatures {
  return tf.tidy(() => pass() as unknown as tf.TensorContainer) as unknown as ModelFeatures;
}

/** A prefix model (llava, blip2): the image encoder's output is the LM's visual prefix. */
export function prefixModel(config: ModelConfig, params: Params, encodeImage: (images: tf.Tensor4D) => tf.Tensor3D, lm: CausalLm, adapter: AdapterParamNames): MultimodalModel {
  return {
    config,
    params,
    encodeImage,
    forward: (images, tokens) => tf.tidy(() => lm.run(encodeImage(images), tokens, {}).logits),
    forwardWithFeatures: (images, tokens, opts) => tidyFeatures(() => lm.run(encodeImage(images), tokens, { features: true, attention: opts?.attention })),
    startDecoding: (images, prune) => lm.decoder(encodeImage(images), undefined, [], prune),
    lastMlp: lm.lastMlp,
    adapter,
  };
}

/** The names of the parameters under the given prefixes (e.g. 'projector/'), in creation order. */
export function paramsUnder(params: Params, ...prefixes: string[]): string[] {
  return [...params.vars.keys()].filter((n) => prefixes.some((p) => n.startsWith(p)));
}
