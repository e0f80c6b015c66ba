/**
 * Fused kernels on the wasm backend through the native addon (harness/native/fused.cc): GELU,
 * layer norm and softmax, forward and backward, and the Adam update of every parameter in one
 * call (the dense and attention layers' kernels are in harness/core/wasmLayers.ts). On wasm
 * each replaces a chain of elementwise kernels (4 to 12 passes over memory, plus the copies the
 * tape keeps). They are new kernel names, with gradients registered under those
 * names (so no other backend is touched): the ops of harness/core/fusedOps.ts and the optimizer of
 * harness/core/adam.ts call them when they are registered on the active backend, and compute the same
 * in TF.js ops otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, loadNativeKernels, type KernelArgs, type WasmBackendLike } from './nativeAddon.js';

export const FUSED_KERNELS = {
  gelu: 'MbbGelu',
  geluGrad: 'MbbGeluGrad',
  layerNorm: 'MbbLayerNorm',
  layerNormGrad: 'MbbLayerNormGrad',
  softmax: 'MbbSoftmax',
  softmaxGrad: 'MbbSoftmaxGrad',
  adam: 'MbbAdam',
  attnScores: 'MbbAttnScores',
  attnScoresGrad: 'MbbAttnScoresGrad',
  attnMix: 'MbbAttnMix',
  attnMixGrad: 'MbbAttnMixGrad',
  dense: 'MbbDense',
  denseGradX: 'MbbDenseGradX',
  denseGradW: 'MbbDenseGradW',
  denseGradB: 'MbbDenseGradB',
} as const;

/** Whether a fused kernel runs here: the active backend is wasm and the kernel's fix applied. */
export function fusedKernelActive(kernel: string): boolean {
  return tf.getBackend() === 'wasm' && tf.getKernel(kernel, 'wasm') !== undefined;
}

type Outputs = tf.TensorInfo | tf.TensorInfo[];
/** A kernel body given its float32 inputs, the backend, an output allocator and the heap (read after allocation). */
type Body = (inputs: Record<string, tf.TensorInfo>, attrs: Record<string, unknown>, io: HeapIo) => Outputs;
interface HeapIo {
  out(shape: number[]): tf.TensorInfo;
  off(t: tf.TensorInfo): number;
  /** The heap view: take it after the last `out`, since allocation may grow (and replace) the heap. */
  heap(): Float32Array;
}

export function register(name: string, body: Body): boolean {
  if (tf.getKernel(name, 'wasm')) return false;
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }: KernelArgs) => {
      const be = backend as unknown as WasmBackendLike;
      const ins = inputs as Record<string, tf.TensorInfo>;
      for (const [k, t] of Object.entries(ins)) if (t.dtype !== 'float32') throw new Error(`${name}: input ${k} is ${t.dtype}, not float32`);
      return body(ins, (attrs ?? {}) as Record<string, unknown>, {
        out: (shape) => be.makeOutput(shape, 'float32'),
        off: (t) => heapOffset(be, t),
        heap: () => be.wasm.HEAPF32,
      });
    },
  });
  return true;
}

/** The gradient of a fused kernel: `grads` runs the backward kernel once and names its outputs by input. */
export function registerGrad(
  kernelName: string,
  save: { inputsToSave?: string[]; outputsToSave?: boolean[] },
  grads: (dy: tf.Tensor, saved: tf.Tensor[], attrs: tf.NamedAttrMap) => Record<string, tf.Tensor>,
): void {
  if (tf.getGradient(kernelName)) return;
  tf.registerGradient({
    kernelName,
    ...save,
    gradFunc: (dy, saved, attrs) => {
      const g = grads(dy as tf.Tensor, saved, attrs);
      return Object.fromEntries(Object.entries(g).map(([k, t]) => [k, () => t]));
    },
  });
}

export const runKernel = (kernel: string, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}) => tf.engine().runKernel(kernel, inputs, attrs);

export const size = (t: tf.TensorInfo) => tf.util.sizeFromShape(t.shape);
export const lastDim = (t: tf.TensorInfo) => t.shape[t.shape.length - 1];

function registerGelu(): boolean {
  const native = loadNativeKernels();
  if (!native) return false;
  const { gelu, geluGrad } = native;
  registerGrad(FUSED_KERNELS.gelu, { inputsToSave: ['x'] }, (dy, [x]) => ({ x: runKernel(FUSED_KERNELS.geluGrad, { x, dy }) as tf.Tensor }));
  return [
    register(FUSED_KERNELS.gelu, ({ x }, _, io) => {
      const y = io.out(x.shape);
      gelu(io.heap(), io.off(x), io.off(y), size(x));
      return y;
    }),
    register(FUSED_KERNELS.geluGrad, ({ x, dy }, _, io) => {
      const dx = io.out(x.shape);
      geluGrad(io.heap(), io.off(x), io.off(dy), io.off(dx), size(x));
      return dx;
    }),
  ].every(Boolean);
}

/** Layer norm over the last axis: x [..., d], gain g and bias b [d]; attrs { eps }. */
function registerLayerNorm(): boolean {
  const native = loadNativeKernels();
  if (!native) return false;
  const { layerNorm, layerNormGrad } = native;
  registerGrad(FUSED_KERNELS.layerNorm, { inputsToSave: ['x', 'g'] }, (dy, [x, g], attrs) => {
    const [dx, dg, db] = runKernel(FUSED_KERNELS.layerNormGrad, { x, g, dy }, attrs) as tf.Tensor[];
    return { x: dx, g: dg, b: db };
  });
  return [
    register(FUSED_KERNELS.layerNorm, ({ x, g, b }, { eps }, io) => {
      const y = io.out(x.shape);
      layerNorm(io.heap(), io.off(x), io.off(g), io.off(b), io.off(y), size(x) / lastDim(x), lastDim(x), eps as number);
      return y;
    }),
    register(FUSED_KERNELS.layerNormGrad, ({ x, g, dy }, { eps }, io) => {
      const [dx, dg, db] = [io.out(x.shape), io.out(g.shape), io.out(g.shape)];
      layerNormGrad(io.heap(), io.off(x), io.off(g), io.off(dy), io.off(dx), io.off(dg), io.off(db), size(x) / lastDim(x), lastDim(x), eps as number);
      return [dx, dg, db];
    }),
  ].every(Boolean);
}

/** Softmax over the last axis; its gradient from the output y and dy. */
function registerSoftmax(): boolean {
  const native = loadNativeKernels();
  if (!native) return false;
  const { softmax, softmaxGrad } = native;
  // The output is saved (not the input): the gradient needs only softmax(x).
  registerGrad(FUSED_KERNELS.softmax, { outputsToSave: [true] }, (dy, [y]) => ({ x: runKernel(FUSED_KERNELS.softmaxGrad, { y, dy }) as tf.Tensor }));
  return [
    register(FUSED_KERNELS.softmax, ({ x }, _, io) => {
      const y = io.out(x.shape);
      softmax(io.heap(), io.off(x), io.off(y), size(x) / lastDim(x), lastDim(x));
      return y;
    }),
    register(FUSED_KERNELS.softmaxGrad, ({ y, dy }, _, io) => {
      const dx = io.out(y.shape);
      softmaxGrad(io.heap(), io.off(y), io.off(dy), io.off(dx), size(y) / lastDim(y), lastDim(y));
      return dx;
    }),
  ].every(Boolean);
}

/** Scalars of one Adam step, as float32 values (harness/core/adam.ts rounds them as tfjs does). */
export interface AdamAttrs {
  b1: number;
  oneMinusB1: number;
  b2: number;
  oneMinusB2: number;
  oneMinusB1t: number;
  oneMinusB2t: number;
  eps: number;
  negLr: number;
}

/** Inputs w<i>, m<i>, v<i>, g<i> for parameters i < count; outputs [w'0, m'0, v'0, w'1, …]. */
function registerAdam(): boolean {
  const native = loadNativeKernels();
  if (!native) return false;
  const { adam } = native;
  return register(FUSED_KERNELS.adam, (ins, attrs, io) => {
    const a = attrs as unknown as AdamAttrs & { count: number };
    const outs: tf.TensorInfo[] = [];
    const table = new Float64Array(8 * a.count);
    for (let i = 0; i < a.count; i++) {
      const w = ins[`w${i}`];
      for (const k of 'mvg') if (size(ins[`${k}${i}`]) !== size(w)) throw new Error(`${FUSED_KERNELS.adam}: ${k}${i} and w${i} differ in size`);
      const next = [io.out(w.shape), io.out(w.shape), io.out(w.shape)];
      outs.push(...next);
      table.set([...[w, ins[`m${i}`], ins[`v${i}`], ins[`g${i}`], ...next].map(io.off), size(w)], 8 * i);
    }
    adam(io.heap(), table, a.b1, a.oneMinusB1, a.b2, a.oneMinusB2, a.oneMinusB1t, a.oneMinusB2t, a.eps, a.negLr);
    return outs;
  });
}

export const FUSED_FIXES = {
  'native-gelu': registerGelu,
  'native-layernorm': registerLayerNorm,
  'native-softmax': registerSoftmax,
  'native-adam': registerAdam,
} as const;
