/**
 * The optional native addon (harness/native, built at install when a C++ toolchain is there)
 * and the wasm backend internals its kernels use: every call passes the wasm heap and offsets
 * into it, and the addon reads and writes tensors there in place.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';

export type KernelArgs = Parameters<tf.KernelFunc>[0];

// The wasm backend's internals we rely on (stable across tfjs 4.x): a map from dataId to the
// heap offset of each tensor, allocation of outputs on the heap, and reference counts.
export interface WasmBackendLike {
  dataIdMap: { get(id: object): { memoryOffset: number; id: number } };
  wasm: { HEAPF32: Float32Array; HEAP32: Int32Array };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(id: object): boolean;
  incRef(id: object): void;
}

/** Offset in floats of a tensor on the wasm heap. */
export function heapOffset(be: WasmBackendLike, t: tf.TensorInfo): number {
  return be.dataIdMap.get(t.dataId).memoryOffset / 4;
}

// Offsets are in floats from the start of `heap`; every call must pass the current heap view
// (allocation may grow and replace it).
export interface NativeKernels {
  /** The interface version the addon was built with (harness/native/kernels.cc's kAbi). */
  abi: number;
  /** biasOff: −1 for none, else a bias of n floats added to every row of C; residualOff: −1, or a tensor of C's size added after it. */
  bmm(heap: Float32Array, aOff: number, bOff: number, cOff: number, biasOff: number, residualOff: number, batchA: number, batchB: number, m: number, k: number, n: number, transA: boolean, transB: boolean): void;
  sumRows(heap: Float32Array, inOff: number, outOff: number, rows: number, cols: number): void;
  /** Rows `indices` (int32, offset in 4-byte words) of a table of rows × inner floats; throws on an index outside it. */
  gatherRows(heap: Float32Array, xOff: number, indicesOff: number, outOff: number, rows: number, inner: number, n: number): void;
  gelu(heap: Float32Array, xOff: number, yOff: number, n: number): void;
  geluGrad(heap: Float32Array, xOff: number, dyOff: number, dxOff: number, n: number): void;
  layerNorm(heap: Float32Array, xOff: number, gOff: number, bOff: number, yOff: number, rows: number, d: number, eps: number): void;
  layerNormGrad(heap: Float32Array, xOff: number, gOff: number, dyOff: number, dxOff: number, dgOff: number, dbOff: number, rows: number, d: number, eps: number): void;
  softmax(heap: Float32Array, xOff: number, yOff: number, rows: number, n: number): void;
  softmaxGrad(heap: Float32Array, yOff: number, dyOff: number, dxOff: number, rows: number, n: number): void;
  /** Attention without head transposes (harness/native/attention.cc): q, k, v and outputs in [B, S, h·dh]. */
  attnScores(heap: Float32Array, qOff: number, kOff: number, maskOff: number, yOff: number, b: number, h: number, s: number, skv: number, dh: number, mb: number, mh: number, ms: number, scale: number): void;
  attnScoresGrad(heap: Float32Array, qOff: number, kOff: number, yOff: number, dyOff: number, dqOff: number, dkOff: number, b: number, h: number, s: number, skv: number, dh: number, scale: number): void;
  attnMix(heap: Float32Array, yOff: number, vOff: number, outOff: number, b: number, h: number, s: number, skv: number, dh: number): void;
  attnMixGrad(heap: Float32Array, yOff: number, vOff: number, doutOff: number, dyOff: number, dvOff: number, b: number, h: number, s: number, skv: number, dh: number): void;
  /** table: 8 numbers per parameter (offsets of w, m, v, g, w', m', v', size); scalars as float32 values. */
  adam(heap: Float32Array, table: Float64Array, b1: number, oneMinusB1: number, b2: number, oneMinusB2: number, oneMinusB1t: number, oneMinusB2t: number, eps: number, negLr: number): void;
  /** Threads for every addon kernel from now on (harness/native/pool.h); 1 until told. Results are the same on any count. */
  useThreads(n: number): void;
  /** Read the thread count from int32 number `slot` of the file at `path`, which the runner rewrites (harness/exec/threadBudget.ts). */
  useThreadBudget(path: string, slot: number): void;
  /** The threads a kernel may use now. */
  threads(): number;
}

/**
 * The interface version these declarations describe; an addon built from older sources (say,
 * before a pull, without `npm run build:native`) has another and is not used.
 */
export const NATIVE_ABI = 5;

let loaded: { kernels: NativeKernels | undefined } | undefined;

/** The native addon if it was built, loads here and matches NATIVE_ABI, else undefined. */
export function loadNativeKernels(): NativeKernels | undefined {
  if (process.env.MBB_NATIVE === '0') return undefined;
  if (!loaded) {
    let kernels: NativeKernels | undefined;
    try {
      kernels = createRequire(import.meta.url)('../native/build/Release/mbb_kernels.node') as NativeKernels;
    } catch {
      kernels = undefined; // not built (no compiler at install): the wasm kernels
    }
    if (kernels && kernels.abi !== NATIVE_ABI) {
      process.stderr.write(`[mbb] harness/native/build is out of date (interface ${kernels.abi ?? 1}, these sources need ${NATIVE_ABI}): run \`npm run build:native\`; using the wasm kernels meanwhile\n`);
      kernels = undefined;
    }
    loaded = { kernels };
  }
  return loaded.kernels;
}
