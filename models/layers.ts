/**
 * Transformer building blocks shared by all model families (nanoGPT-style, functional):
 * each layer is created once on a Params store under a name prefix and applied as a function.
 */
import { tf } from '../harness/core/engine.js';
import { attentionMix, attentionScores, dense as denseOp, gelu, layerNorm as layerNormOp } from '../harness/core/fusedOps.js';
import { towerFeatures } from '../harness/core/frozenTower.js';
import type { Params } from './params.js';

export type Layer<I = tf.Tensor, O = tf.Tensor> = (x: I) => O;

/** A dense layer; with `residual`, residual + layer(x) (a block's skip connection, fused on wasm). */
export type Dense = (x: tf.Tensor, residual?: tf.Tensor) => tf.Tensor;

/**
 * y = x W + b over the last axis (one kernel each way on wasm, harness/core/fusedOps.ts).
 * Init N(0, 1/dIn) (LeCun): at our small widths GPT-2's fixed 0.02 shrinks signals through
 * each layer, and the visual prefix then drowns under the position embeddings.
 */
export function dense(p: Params, name: string, dIn: number, dOut: number, std = 1 / Math.sqrt(dIn)): Dense {
  const w = p.normal(`${name}/w`, [dIn, dOut], std);
  const b = p.constant(`${name}/b`, [dOut], 0);
  return (x, residual) => denseOp(x, w, b, residual);
}

export function layerNorm(p: Params, name: string, d: number, eps = 1e-5): Layer {
  const g = p.constant(`${name}/g`, [d], 1);
  const b = p.constant(`${name}/b`, [d], 0);
  return (x) => layerNormOp(x, g, b, eps);
}

// GELU, x·σ(1.702x) (harness/core/fusedOps.ts: one native kernel each way on wasm).
export { gelu };

/**
 * Two-layer MLP; `hidden` gives the activations gelu(fc(x)) and `project` the output layer. With
 * `residual`, residual + mlp(x).
 */
export interface Mlp {
  (x: tf.Tensor, residual?: tf.Tensor): tf.Tensor;
  hidden(x: tf.Tensor): tf.Tensor;
  project: Dense;
}

export function mlp(p: Params, name: string, d: number, hidden: number): Mlp {
  const fc = dense(p, `${name}/fc`, d, hidden);
  const proj = dense(p, `${name}/proj`, hidden, d);
  const act = (x: tf.Tensor) => gelu(fc(x));
  return Object.assign((x: tf.Tensor, residual?: tf.Tensor) => proj(act(x), residual), { hidden: act, project: proj });
}

/** Keys and values of one self-attention layer over the positions seen so far: [B,S,d] each. */
export interface KvCache {
  k: tf.Tensor;
  v: tf.Tensor;
}

/** Multi-head attention: `(x, kv, mask)` full, and `cached` for incremental decoding. */
export interface Attention {
  /**
   * Queries x over keys/values kv (self-attention when kv = x); mask: additive, broadcast to
   * the scores [B, heads, S, S_kv] (0 or -1e9: a causal [S, S_kv], a per-row [B, 1, 1, S_kv]), or none.
   */
  (x: tf.Tensor, kv: tf.Tensor, mask?: tf.Tensor): tf.Tensor;
  /**
   * The same, also returning the attention probabilities [B, heads, S, S_kv] (rows sum to 1);
   * with `residual`, `out` is residual + attention (the block's skip connection, fused on wasm).
   */
  withProbs(x: tf.Tensor, kv: tf.Tensor, mask?: tf.Tensor, residual?: tf.Tensor): { out: tf.Tensor; probs: tf.Tensor };
  /**
   * Self-attention of the new positions x [B,n,d] over the cached ones and themselves; returns
   * the output (+ `residual`) and the cache extended by x's keys and values (the caller disposes the old one).
   */
  cached(x: tf.Tensor, past: KvCache | undefined, mask?: tf.Tensor, residual?: tf.Tensor): { out: tf.Tensor; cache: KvCache };
  /** The keys and values of kv, computed once for queries that keep reading it (cross-attention). */
  keysValues(kv: tf.Tensor): KvCache;
  /** Queries x over precomputed keys and values: the same result as `(x, kv, mask)`. */
  over(x: tf.Tensor, kv: KvCache, mask?: tf.Tensor): tf.Tensor;
}

export function attention(p: Params, name: string, d: number, heads: number): Attention {
  if (d % heads !== 0) throw new Error(`${name}: width ${d} is not divisible by heads ${heads}`);
  const q = dense(p, `${name}/q`, d, d);
  const k = dense(p, `${name}/k`, d, d);
  const v = dense(p, `${name}/v`, d, d);
  const o = dense(p, `${name}/o`, d, d);
  const scale = 1 / Math.sqrt(d / heads);
  // Heads stay in the dense layers' [B,S,d] layout (harness/core/fusedOps.ts splits them).
  const attendWithProbs = (qx: tf.Tensor, kx: tf.Tensor, vx: tf.Tensor, mask?: tf.Tensor, residual?: tf.Tensor) => {
    const probs = attentionScores(qx, kx, heads, scale, mask);
    return { out: o(attentionMix(probs, vx), residual), probs };
  };
  const attend = (qx: tf.Tensor, kx: tf.Tensor, vx: tf.Tensor, mask?: tf.Tensor, residual?: tf.Tensor) => attendWithProbs(qx, kx, vx, mask, residual).out;
  const withProbs = (x: tf.Tensor, kv: tf.Tensor, mask?: tf.Tensor, residual?: tf.Tensor) => attendWithProbs(q(x), k(kv), v(kv), mask, residual);
  const full = (x: tf.Tensor, kv: tf.Tensor, mask?: tf.Tensor) => withProbs(x, kv, mask).out;
  const cached = (x: tf.Tensor, past: KvCache | undefined, mask?: tf.Tensor, residual?: tf.Tensor) => {
    const kNew = k(x);
    const vNew = v(x);
    const cache = past ? { k: tf.concat([past.k, kNew], 1), v: tf.concat([past.v, vNew], 1) } : { k: kNew, v: vNew };
    return { out: attend(q(x), cache.k, cache.v, mask, residual), cache };
  };
  const keysValues = (kv: tf.Tensor): KvCache => ({ k: k(kv), v: v(kv) });
  const over = (x: tf.Tensor, c: KvCache, mask?: tf.Tensor) => attend(q(x), c.k, c.v, mask);
  return Object.assign(full, { withProbs, cached, keysValues, over });
}

/**
 * A transformer block; `detailed` also returns its MLP's hidden activations and its attention
 * probabilities [B, heads, S, S] (at no extra compute: the call computes both), `cached` decodes
 * incrementally, `rowsFrom` computes the output rows from `from` on only.
 */
export interface Block {
  (x: tf.Tensor, mask?: tf.Tensor): tf.Tensor;
  detailed(x: tf.Tensor, mask?: tf.Tensor): { out: tf.Tensor; mlpHidden: tf.Tensor; probs: tf.Tensor };
  cached(x: tf.Tensor, past: KvCache | undefined, mask?: tf.Tensor): { out: tf.Tensor; cache: KvCache };
  /** Rows [from, S) of the output [B,S,d]: every row's keys and values, those rows' queries and MLP; `mask` holds the query rows [from, S) only. */
  rowsFrom(x: tf.Tensor, from: number, mask?: tf.Tensor): tf.Tensor;
}

/** Pre-norm transformer block: x + attn(ln(x)); x + mlp(ln(x)). MLP parameters: `${name}/mlp/{fc,proj}`. */
export function block(p: Params, name: string, d: number, heads: number, mlpRatio: number): Block {
  const ln1 = layerNorm(p, `${name}/ln1`, d);
  const attn = attention(p, `${name}/attn`, d, heads);
  const ln2 = layerNorm(p, `${name}/ln2`, d);
  const ff = mlp(p, `${name}/mlp`, d, d * mlpRatio);
  // x + attn(ln1(x)), then y + mlp(ln2(y)), each skip connection added by the layer's output projection.
  const apply = (x: tf.Tensor, mask?: tf.Tensor): tf.Tensor => {
    const h = ln1(x);
    const y = attn.withProbs(h, h, mask, x).out;
    return ff(ln2(y), y);
  };
  const detailed = (x: tf.Tensor, mask?: tf.Tensor) => {
    const h = ln1(x);
    const a = attn.withProbs(h, h, mask, x);
    const mlpHidden = ff.hidden(ln2(a.out));
    return { out: ff.project(mlpHidden, a.out), mlpHidden, probs: a.probs };
  };
  const cached = (x: tf.Tensor, past: KvCache | undefined, mask?: tf.Tensor) => {
    const { out: y, cache } = attn.cached(ln1(x), past, mask, x);
    return { out: ff(ln2(y), y), cache };
  };
  // Each row's queries, attention, projection and MLP are its own, so these rows equal apply's.
  const rowsFrom = (x: tf.Tensor, from: number, mask?: tf.Tensor) => {
    const [b, s, d] = x.shape;
    const rows = (t: tf.Tensor) => t.slice([0, from, 0], [b, s - from, d]);
    const h = ln1(x);
    const y = attn.withProbs(rows(h), h, mask, rows(x)).out;
    return ff(ln2(y), y);
  };
  return Object.assign(apply, { detailed, cached, rowsFrom });
}

/** Additive causal mask [S,S]: position i sees j ≤ i. */
export function causalMask(s: number): tf.Tensor2D {
  const m = new Float32Array(s * s);
  for (let i = 0; i < s; i++) for (let j = i + 1; j < s; j++) m[i * s + j] = -1e9;
  return tf.tensor2d(m, [s, s]);
}

/** Images [B,H,W,C] → patch vectors [B, (H/P)(W/P), P·P·C] by reshape/transpose (no conv). */
export function patchify(images: tf.Tensor4D, patch: number): tf.Tensor3D {
  const [b, h, w, c] = images.shape;
  if (h % patch || w % patch) throw new Error(`image ${h}x${w} is not divisible by patch ${patch}`);
  const gh = h / patch;
  const gw = w / patch;
  return images
    .reshape([b, gh, patch, gw, patch, c])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([b, gh * gw, patch * patch * c]);
}

/** Tokens on a g×g grid [B, g², d] → [B, (g/m)², m²·d], concatenating each m×m block. */
export function mergeTokens(x: tf.Tensor, grid: number, m: number): tf.Tensor3D {
  const [b, , d] = x.shape;
  const g = grid / m;
  return x
    .reshape([b, g, m, g, m, d])
    .transpose([0, 1, 3, 2, 4, 5])
    .reshape([b, g * g, m * m * d]);
}

/** Every family names its vision tower so: the tower's pre-training and freezing find it by name. */
export const VISION_TOWER = 'vit';
export const isVisionWeight = (name: string): boolean => name.startsWith(`${VISION_TOWER}/`);
/** The `trainable` filter of a frozen tower: every parameter but the tower's. */
export const outsideVisionTower = (name: string): boolean => !isVisionWeight(name);

/** The sizes a ViT patch encoder reads from a ModelConfig. */
export interface VitSizes {
  imageSize: number;
  patch: number;
  width: number;
  heads: number;
  mlpRatio: number;
  encoderLayers: number;
}

/**
 * ViT patch encoder, the vision tower of every family:
 * pixels in [0,1] → patchify → dense → + learned positions → pre-norm blocks → final norm,
 * giving patch features [B, (imageSize/patch)², width]. Parameters `${name}/{patch,pos,block<i>,ln}`.
 */
export function vit(p: Params, name: string, s: VitSizes): (images: tf.Tensor4D) => tf.Tensor3D {
  if (s.imageSize % s.patch) throw new Error(`${name}: patch ${s.patch} does not divide imageSize ${s.imageSize}`);
  const d = s.width;
  const nPatches = (s.imageSize / s.patch) ** 2;
  const embed = dense(p, `${name}/patch`, s.patch * s.patch * 3, d);
  const pos = p.normal(`${name}/pos`, [1, nPatches, d]);
  const blocks = Array.from({ length: s.encoderLayers }, (_, i) => block(p, `${name}/block${i}`, d, s.heads, s.mlpRatio));
  const ln = layerNorm(p, `${name}/ln`, d);
  const compute = (images: tf.Tensor4D): tf.Tensor3D => {
    // Pixels [0,1] → roughly zero-mean, unit-scale inputs.
    const pixels = tf.mul(tf.sub(images, 0.5), 4) as tf.Tensor4D;
    let x = tf.add(embed(patchify(pixels, s.patch)), pos);
    for (const b of blocks) x = b(x);
    return ln(x) as tf.Tensor3D;
  };
  // A training loop that trains none of these weights computes each image's features once (frozenTower.ts).
  const weights = [...p.vars].filter(([n]) => n.startsWith(`${name}/`)).map(([, v]) => v);
  return (images) => towerFeatures(compute, weights, images);
}
