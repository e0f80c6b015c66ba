/**
 * The elementwise-heavy ops of the models (GELU, layer norm, softmax), each one fused kernel
 * forward and one backward on wasm when the native addon provides them (harness/core/wasmFused.ts
 * registers the kernels and their gradients). Everywhere else (cpu, tensorflow, wasm without the addon or with
 * the fix switched off) each is the same expression in TF.js ops, with TF.js's gradients.
 */
import { tf } from './engine.js';
import { FUSED_KERNELS as K, fusedKernelActive } from './wasmFused.js';

const run = (kernel: string, inputs: tf.NamedTensorMap, attrs: Record<string, number> = {}) => tf.engine().runKernel(kernel, inputs, attrs) as tf.Tensor;

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

/** Softmax over the last axis. */
export function softmax(x: tf.Tensor): tf.Tensor {
  return fusedKernelActive(K.softmax) ? run(K.softmax, { x }) : tf.softmax(x);
}
