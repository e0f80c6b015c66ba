/**
 * The ops of the models that run as fused kernels on wasm when the native addon provides them:
 * GELU, layer norm and softmax (harness/core/wasmFused.ts), dense layers and attention
 * (harness/core/wasmLayers.ts), each one kernel forward and its own backward. Everywhere else
 * (cpu, tensorflow, wasm without the addon or with the fix switched off) each is the same
 * expression in TF.js ops, with TF.js's gradients.
 */
import { tf } from './engine.js';
import { FUSED_KERNELS as K, fusedKernelActive } from './wasmFused.js';
import type { AttnScoresAttrs } from './wasmLayers.js';

const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: object = {}) => tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;

const GELU_SCALE = 1.702; // also in harness/native/fused.cc

/** GELU, sigmoid approximation x·σ(1.702x): no erf kernel needed on any backend. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (fusedKernelActive(K.gelu)) return run(K.gelu, { x });
  return tf.mul(x, tf.sigmoid(tf.mul(x, GELU_SCALE)));
}

/** (x − mean)/sqrt(var + eps)·g + b over the last axis of x, with gain g and bias b [d]. */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number): tf.Tensor {
  if (fusedKernelActive(K.layerNorm)) return run(K.layerNorm, { x, g, b }, { eps });
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), g), b);
}

/**
 * x·W + b over the last axis of x [..., dIn], with w [dIn, dOut] and b [dOut]; with `residual`
 * (x's leading shape × dOut), residual + (x·W + b): a block's skip connection in the same kernel.
 */
export function dense(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, residual?: tf.Tensor): tf.Tensor {
  if (fusedKernelActive(K.dense)) return run(K.dense, residual ? { x, w, b, r: residual } : { x, w, b });
  const [dIn, dOut] = w.shape as number[];
  const y = tf.add(tf.matMul(x.reshape([-1, dIn]) as tf.Tensor2D, w as tf.Tensor2D), b).reshape([...x.shape.slice(0, -1), dOut]);
  return residual ? tf.add(residual, y) : y;
}

/** Softmax over the last axis. */
export function softmax(x: tf.Tensor): tf.Tensor {
  return fusedKernelActive(K.softmax) ? run(K.softmax, { x }) : tf.softmax(x);
}

/** [B,S,h·dh] → [B,h,S,dh] */
function splitHeads(x: tf.Tensor, heads: number): tf.Tensor {
  const [b, s, d] = x.shape;
  return x.reshape([b, s, heads, d / heads]).transpose([0, 2, 1, 3]);
}

/**
 * The fused kernel's strides of an additive mask broadcast to [B,h,S,S_kv] over batch, head and
 * query row (0 where it broadcasts), or undefined when the kernel cannot take it (its last axis
 * is not the keys', or a leading axis neither 1 nor the scores').
 */
function maskStrides(mask: tf.Tensor, scores: number[]): [number, number, number] | undefined {
  if (mask.rank > 4 || mask.shape[mask.rank - 1] !== scores[3]) return undefined;
  const shape = [...Array(4 - mask.rank).fill(1), ...mask.shape];
  const strides = [0, 0, 0];
  let stride = scores[3];
  for (let i = 2; i >= 0; i--) {
    if (shape[i] !== 1 && shape[i] !== scores[i]) return undefined;
    strides[i] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i];
  }
  return strides as [number, number, number];
}

/**
 * Attention probabilities softmax(scale·q_h k_hᵀ + mask) [B,h,S,S_kv] of queries q [B,S,h·dh]
 * over keys k [B,S_kv,h·dh], per head h; mask: additive, broadcast to the scores.
 */
export function attentionScores(q: tf.Tensor, k: tf.Tensor, heads: number, scale: number, mask?: tf.Tensor): tf.Tensor {
  const scores: number[] = [q.shape[0], heads, q.shape[1], k.shape[1]] as number[];
  const strides = mask ? maskStrides(mask, scores) : [0, 0, 0];
  if (fusedKernelActive(K.attnScores) && strides && q.shape[0] === k.shape[0]) {
    const attrs: AttnScoresAttrs = { heads, scale, maskStrides: strides as [number, number, number] };
    return run(K.attnScores, mask ? { q, k, mask } : { q, k }, attrs);
  }
  let s = tf.mul(tf.matMul(splitHeads(q, heads), splitHeads(k, heads), false, true), scale);
  if (mask) s = tf.add(s, mask);
  return softmax(s);
}

/** The heads' outputs p_h·v_h of probabilities p [B,h,S,S_kv] over values v [B,S_kv,h·dh], merged: [B,S,h·dh]. */
export function attentionMix(p: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const [b, heads, s] = p.shape as number[];
  if (fusedKernelActive(K.attnMix) && p.shape[0] === v.shape[0]) return run(K.attnMix, { p, v }, { heads });
  return tf.matMul(p, splitHeads(v, heads)).transpose([0, 2, 1, 3]).reshape([b, s, v.shape[2] as number]);
}
