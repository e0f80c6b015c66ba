/**
 * Whole layers as single kernels on the wasm backend through the native addon: a dense layer
 * x·W + b (+ a residual) over the last axis of x of any rank (harness/native/kernels.cc's product
 * with its bias, no reshapes), and attention without head transposes (harness/native/attention.cc). TF.js
 * spends 3-30 µs of bookkeeping per kernel call, forward and backward, on top of the work: a
 * dense layer was 3 kernels forward and ~6 backward, an attention 9 forward. Like the fused
 * kernels of harness/core/wasmFused.ts these are new kernel names with their own gradients;
 * harness/core/fusedOps.ts calls them where registered and the same TF.js expression elsewhere.
 */
import * as tf from '@tensorflow/tfjs';
import { loadNativeKernels } from './nativeAddon.js';
import { FUSED_KERNELS, lastDim, register, registerGrad, runKernel, size } from './wasmFused.js';

/**
 * MbbDense (x [..., dIn], w [dIn, dOut], b [dOut], optional r [..., dOut]) → x·W + b (+ r): a
 * block's residual add in the same kernel. Its gradient is up to three kernels (dx, dW, db),
 * each run only when the tape asks for it (a frozen layer computes no dW); r's is dy itself.
 */
function registerDense(): boolean {
  const native = loadNativeKernels();
  if (!native) return false;
  const { bmm, sumRows } = native;
  if (!tf.getGradient(FUSED_KERNELS.dense)) {
    tf.registerGradient({
      kernelName: FUSED_KERNELS.dense,
      inputsToSave: ['x', 'w'],
      gradFunc: (dy, [x, w]) => ({
        x: () => runKernel(FUSED_KERNELS.denseGradX, { dy: dy as tf.Tensor, w }) as tf.Tensor,
        w: () => runKernel(FUSED_KERNELS.denseGradW, { x, dy: dy as tf.Tensor }) as tf.Tensor,
        b: () => runKernel(FUSED_KERNELS.denseGradB, { dy: dy as tf.Tensor }) as tf.Tensor,
        // A new handle on dy's data (as TF.js's own Add gradient gives), not dy itself.
        r: () => (dy as tf.Tensor).reshape((dy as tf.Tensor).shape),
      }),
    });
  }
  return [
    register(FUSED_KERNELS.dense, ({ x, w, b, r }, _, io) => {
      const [dIn, dOut] = w.shape;
      const outShape = [...x.shape.slice(0, -1), dOut];
      if (lastDim(x) !== dIn || size(b) !== dOut || (r && !tf.util.arraysEqual(r.shape, outShape)))
        throw new Error(`${FUSED_KERNELS.dense}: x ${x.shape}, w ${w.shape}, b ${b.shape}${r ? ` and r ${r.shape}` : ''} do not fit`);
      const y = io.out(outShape);
      bmm(io.heap(), io.off(x), io.off(w), io.off(y), io.off(b), r ? io.off(r) : -1, 1, 1, size(x) / dIn, dIn, dOut, false, false);
      return y;
    }),
    // dx = dy·Wᵀ
    register(FUSED_KERNELS.denseGradX, ({ dy, w }, _, io) => {
      const [dIn, dOut] = w.shape;
      const dx = io.out([...dy.shape.slice(0, -1), dIn]);
      bmm(io.heap(), io.off(dy), io.off(w), io.off(dx), -1, -1, 1, 1, size(dy) / dOut, dOut, dIn, false, true);
      return dx;
    }),
    // dW = xᵀ·dy (x read transposed in place)
    register(FUSED_KERNELS.denseGradW, ({ x, dy }, _, io) => {
      const [dIn, dOut] = [lastDim(x), lastDim(dy)];
      const dw = io.out([dIn, dOut]);
      bmm(io.heap(), io.off(x), io.off(dy), io.off(dw), -1, -1, 1, 1, dIn, size(x) / dIn, dOut, true, false);
      return dw;
    }),
    // db = Σ over rows of dy
    register(FUSED_KERNELS.denseGradB, ({ dy }, _, io) => {
      const db = io.out([lastDim(dy)]);
      sumRows(io.heap(), io.off(dy), io.off(db), size(dy) / lastDim(dy), lastDim(dy));
      return db;
    }),
  ].every(Boolean);
}

/** Heads, scale and mask strides of an attention call (harness/core/fusedOps.ts fills them). */
export interface AttnScoresAttrs {
  heads: number;
  scale: number;
  /** The mask's strides over batch, head and query row (0 where it broadcasts); unused without a mask. */
  maskStrides: [number, number, number];
}

/** b, h, s, skv, dh of q [B,S,h·dh] over k [B,S_kv,h·dh]. */
const attnDims = (q: tf.TensorInfo, k: tf.TensorInfo, heads: number) => {
  const [b, s, d] = q.shape;
  return [b, heads, s, k.shape[1], d / heads] as const;
};

/**
 * Attention without head transposes: MbbAttnScores (q, k [B,S,h·dh], optional additive mask
 * broadcast to [B,h,S,S_kv]) → softmax(scale·q_h k_hᵀ + mask) [B,h,S,S_kv], and MbbAttnMix
 * (p [B,h,S,S_kv], v [B,S_kv,h·dh]) → [B,S,h·dh]. The mask gets no gradient (masks are constants).
 */
function registerAttention(): boolean {
  const native = loadNativeKernels();
  if (!native) return false;
  const { attnScores, attnScoresGrad, attnMix, attnMixGrad } = native;
  // No gradient for the mask: a mask on the gradient's path fails in TF.js by name.
  registerGrad(FUSED_KERNELS.attnScores, { inputsToSave: ['q', 'k'], outputsToSave: [true] }, (dy, [q, k, y], attrs) => {
    const [dq, dk] = runKernel(FUSED_KERNELS.attnScoresGrad, { q, k, y, dy }, attrs) as tf.Tensor[];
    return { q: dq, k: dk };
  });
  registerGrad(FUSED_KERNELS.attnMix, { inputsToSave: ['p', 'v'] }, (dout, [p, v], attrs) => {
    const [dp, dv] = runKernel(FUSED_KERNELS.attnMixGrad, { p, v, dout }, attrs) as tf.Tensor[];
    return { p: dp, v: dv };
  });
  return [
    register(FUSED_KERNELS.attnScores, ({ q, k, mask }, attrs, io) => {
      const { heads, scale, maskStrides } = attrs as unknown as AttnScoresAttrs;
      const [b, h, s, skv, dh] = attnDims(q, k, heads);
      const y = io.out([b, h, s, skv]);
      attnScores(io.heap(), io.off(q), io.off(k), mask ? io.off(mask) : -1, io.off(y), b, h, s, skv, dh, ...maskStrides, scale);
      return y;
    }),
    register(FUSED_KERNELS.attnScoresGrad, ({ q, k, y, dy }, attrs, io) => {
      const { heads, scale } = attrs as unknown as AttnScoresAttrs;
      const [dq, dk] = [io.out(q.shape), io.out(k.shape)];
      attnScoresGrad(io.heap(), io.off(q), io.off(k), io.off(y), io.off(dy), io.off(dq), io.off(dk), ...attnDims(q, k, heads), scale);
      return [dq, dk];
    }),
    register(FUSED_KERNELS.attnMix, ({ p, v }, attrs, io) => {
      const [b, h, s, skv] = p.shape;
      const out = io.out([b, s, v.shape[2]]);
      attnMix(io.heap(), io.off(p), io.off(v), io.off(out), b, h, s, skv, v.shape[2] / h);
      return out;
    }),
    register(FUSED_KERNELS.attnMixGrad, ({ p, v, dout }, _, io) => {
      const [b, h, s, skv] = p.shape;
      const [dp, dv] = [io.out(p.shape), io.out(v.shape)];
      attnMixGrad(io.heap(), io.off(p), io.off(v), io.off(dout), io.off(dp), io.off(dv), b, h, s, skv, v.shape[2] / h);
      return [dp, dv];
    }),
  ].every(Boolean);
}

export const LAYER_FIXES = {
  'native-dense': registerDense,
  'native-attention': registerAttention,
} as const;
