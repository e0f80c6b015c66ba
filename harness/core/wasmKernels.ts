/**
 * Kernel fixes for the wasm backend, registered as TF.js kernels so model code is unchanged
 * (the fused kernels of harness/core/wasmFused.ts are the exception: model code calls them through
 * harness/core/fusedOps.ts).
 *
 * - BatchMatMul with transposeA/transposeB runs ~10x slower than a plain product in the wasm
 *   build; every dense layer's gradient uses both flags, so we transpose explicitly first.
 * - UnsortedSegmentSum (the gradient of gather, i.e. of an embedding lookup) has no wasm
 *   kernel; we add one that computes on the wasm heap in place.
 * - Every product (attention, dense layers and their gradients) and every sum over leading
 *   axes (bias gradients) go to an optional native addon (harness/native, built at install
 *   when a C++ toolchain is there) that reads and writes the wasm heap in place; without it
 *   the two fixes above still apply.
 * - Identity and a Cast to the same dtype share their input's data instead of copying it.
 * - A gather of whole rows (embedding lookups) copies rows on the addon, and a tile along the
 *   first axis only copies the tensor as a block.
 */
import * as tf from '@tensorflow/tfjs';
import { heapOffset, loadNativeKernels, type KernelArgs, type WasmBackendLike } from './nativeAddon.js';
import { FUSED_FIXES } from './wasmFused.js';
import { LAYER_FIXES } from './wasmLayers.js';

function runKernel(name: string, args: KernelArgs): tf.TensorInfo {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} missing`);
  return k.kernelFunc(args) as tf.TensorInfo;
}

/**
 * Replace a registered wasm kernel by a wrapper that may delegate to the previous one, so
 * fixes stack (the native matmul falls back to the explicit-transpose one, which falls back
 * to the stock kernel).
 */
function wrapKernel(name: string, wrapper: (args: KernelArgs, previous: tf.KernelFunc) => tf.TensorInfo | tf.TensorInfo[]): boolean {
  const previous = tf.getKernel(name, 'wasm');
  if (!previous) return false;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({
    kernelName: name,
    backendName: 'wasm',
    setupFunc: previous.setupFunc,
    disposeFunc: previous.disposeFunc,
    kernelFunc: (args) => wrapper(args, previous.kernelFunc),
  });
  return true;
}

function transposeLastTwo(x: tf.TensorInfo, backend: KernelArgs['backend']): tf.TensorInfo {
  const r = x.shape.length;
  const perm = Array.from({ length: r }, (_, i) => i);
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return runKernel('Transpose', { inputs: { x }, backend, attrs: { perm } });
}

function registerExplicitTransposeMatMul(): boolean {
  return wrapKernel('BatchMatMul', (args, previous) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    if (!transposeA && !transposeB) return previous(args);
    const be = args.backend as unknown as WasmBackendLike;
    const aT = transposeA ? transposeLastTwo(a, args.backend) : a;
    const bT = transposeB ? transposeLastTwo(b, args.backend) : b;
    const out = previous({
      ...args,
      inputs: { a: aT, b: bT },
      attrs: { ...args.attrs, transposeA: false, transposeB: false },
    });
    if (aT !== a) be.disposeData(aT.dataId);
    if (bT !== b) be.disposeData(bT.dataId);
    return out;
  });
}

/** out[segmentIds[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as in TF. */
function registerUnsortedSegmentSum(): boolean {
  if (tf.getKernel('UnsortedSegmentSum', 'wasm')) return false;
  tf.registerKernel({
    kernelName: 'UnsortedSegmentSum',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
      const { numSegments } = attrs as { numSegments: number };
      if (x.dtype !== 'float32') throw new Error('UnsortedSegmentSum (wasm): only float32 supported');
      const be = backend as unknown as WasmBackendLike;
      const nIds = tf.util.sizeFromShape(segmentIds.shape);
      const inner = tf.util.sizeFromShape(x.shape.slice(segmentIds.shape.length));
      const out = be.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], 'float32');
      // Heap views are taken after makeOutput: allocation may grow (and replace) the heap.
      const heapF = be.wasm.HEAPF32;
      const heapI = be.wasm.HEAP32;
      const xOff = heapOffset(be, x);
      const idOff = heapOffset(be, segmentIds);
      const oOff = heapOffset(be, out);
      heapF.fill(0, oOff, oOff + numSegments * inner);
      for (let i = 0; i < nIds; i++) {
        const s = heapI[idOff + i];
        if (s < 0 || s >= numSegments) continue;
        const src = xOff + i * inner;
        const dst = oOff + s * inner;
        for (let j = 0; j < inner; j++) heapF[dst + j] += heapF[src + j];
      }
      return out;
    },
  });
  return true;
}

/**
 * Every float32 BatchMatMul through the native addon: batched products (attention, which the
 * wasm build runs at ~1/10 of its 2-D speed) and 2-D ones alike, since the addon's
 * register-blocked kernel also beats wasm's XNNPACK path on our shapes (`npm run bench`).
 */
function registerNativeMatMul(): boolean {
  const native = loadNativeKernels();
  if (!native) return false;
  return wrapKernel('BatchMatMul', (args, previous) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchA = tf.util.sizeFromShape(a.shape.slice(0, -2));
    const batchB = tf.util.sizeFromShape(b.shape.slice(0, -2));
    const simpleBroadcast = batchA === batchB || batchA === 1 || batchB === 1;
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || !simpleBroadcast) {
      return previous(args);
    }
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    if (k !== kb) throw new Error(`matMul: inner dimensions ${k} and ${kb} of shapes ${a.shape} and ${b.shape} differ`);
    const outer = (batchA >= batchB ? a : b).shape.slice(0, -2);
    const be = args.backend as unknown as WasmBackendLike;
    const out = be.makeOutput([...outer, m, n], 'float32');
    // The heap view is read after makeOutput: allocation may grow (and replace) the heap.
    native.bmm(be.wasm.HEAPF32, heapOffset(be, a), heapOffset(be, b), heapOffset(be, out), -1, -1, batchA, batchB, m, k, n, transposeA, transposeB);
    return out;
  });
}

/**
 * Sum over leading axes (x [..., n] → [n], e.g. every bias gradient) through the addon: the
 * wasm build transposes the reduced axes to the end first. Other reductions keep the stock kernel.
 */
function registerNativeSum(): boolean {
  const sumRows = loadNativeKernels()?.sumRows;
  if (!sumRows) return false;
  return wrapKernel('Sum', (args, previous) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return previous(args);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const kept = x.shape.slice(axes.length);
    const be = args.backend as unknown as WasmBackendLike;
    const out = be.makeOutput(keepDims ? [...axes.map(() => 1), ...kept] : kept, 'float32');
    // The heap view is read after makeOutput: allocation may grow (and replace) the heap.
    sumRows(be.wasm.HEAPF32, heapOffset(be, x), heapOffset(be, out), rows, tf.util.sizeFromShape(kept));
    return out;
  });
}

/**
 * A gather of whole rows (axis 0, no batch dims: every embedding lookup) through the addon; the
 * wasm build's kernel walks generic strides per element, 12 ms for a decoding batch's position
 * rows. Other gathers keep the stock kernel.
 */
function registerNativeGather(): boolean {
  const gatherRows = loadNativeKernels()?.gatherRows;
  if (!gatherRows) return false;
  return wrapKernel('GatherV2', (args, previous) => {
    const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
    const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
    if (x.dtype !== 'float32' || indices.dtype !== 'int32' || axis !== 0 || batchDims !== 0 || x.shape.length < 1) return previous(args);
    const be = args.backend as unknown as WasmBackendLike;
    const inner = tf.util.sizeFromShape(x.shape.slice(1));
    const out = be.makeOutput([...indices.shape, ...x.shape.slice(1)], 'float32');
    // The heap view is read after makeOutput: allocation may grow (and replace) the heap.
    gatherRows(be.wasm.HEAPF32, heapOffset(be, x), heapOffset(be, indices), heapOffset(be, out), x.shape[0], inner, tf.util.sizeFromShape(indices.shape));
    return out;
  });
}

/**
 * A tile that repeats the whole tensor along its first axis only (`broadcastTo` of blip2's
 * learned queries over the batch) as block copies on the heap: the wasm build's Tile computes
 * every element's source index, 4.7 ms for a decoding batch's [100, 32, 64]. Other tiles keep
 * the stock kernel.
 */
function registerLeadingTile(): boolean {
  return wrapKernel('Tile', (args, previous) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { reps } = args.attrs as { reps: number[] };
    if (x.dtype !== 'float32' || reps.length !== x.shape.length || reps.slice(1).some((r) => r !== 1)) return previous(args);
    const be = args.backend as unknown as WasmBackendLike;
    const out = be.makeOutput([x.shape[0] * reps[0], ...x.shape.slice(1)], 'float32');
    // The heap view is read after makeOutput: allocation may grow (and replace) the heap.
    const heap = be.wasm.HEAPF32;
    const [src, dst, n] = [heapOffset(be, x), heapOffset(be, out), tf.util.sizeFromShape(x.shape)];
    for (let r = 0; r < reps[0]; r++) heap.copyWithin(dst + r * n, src, src + n);
    return out;
  });
}

/**
 * Identity (every tensor the tape keeps for the backward pass is cloned) and a Cast to the same
 * dtype (every Mul gradient casts its operand) copy the data on wasm; the cpu backend shares it
 * by reference count, and so do these. Safe because no kernel writes into its inputs: outputs
 * are always new buffers (the wasm backend's own Reshape shares data the same way).
 */
function registerAliasCopies(): boolean {
  const alias = (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  const identity = wrapKernel('Identity', (args, previous) => ((args.inputs.x as tf.TensorInfo).dtype === 'string' ? previous(args) : alias(args)));
  const cast = wrapKernel('Cast', (args, previous) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    return x.dtype !== 'string' && x.dtype === (args.attrs as { dtype: tf.DataType }).dtype ? alias(args) : previous(args);
  });
  return identity && cast;
}

export const WASM_FIXES = {
  'unsorted-segment-sum': registerUnsortedSegmentSum,
  'explicit-transpose-matmul': registerExplicitTransposeMatMul,
  'native-matmul': registerNativeMatMul,
  'native-sum': registerNativeSum,
  'native-gather': registerNativeGather,
  'leading-tile': registerLeadingTile,
  'alias-copies': registerAliasCopies,
  ...FUSED_FIXES,
  ...LAYER_FIXES,
} as const;
export type WasmFix = keyof typeof WASM_FIXES;

/** Apply the named fixes (default: all); returns their names for the run record. */
export function registerWasmFixes(which: readonly WasmFix[] = Object.keys(WASM_FIXES) as WasmFix[]): string[] {
  // A fix that cannot apply here (the native addon not built) returns false and is not listed.
  return which.filter((f) => WASM_FIXES[f]() !== false);
}
