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
  bmm(heap: Float32Array, aOff: number, bOff: number, cOff: number, batchA: number, batchB: number, m: number, k: number, n: number, transA: boolean, transB: boolean): void;
  // The kernels below are absent from an addon built before they were added: their fixes then do not apply.
  sumRows?(heap: Float32Array, inOff: number, outOff: number, rows: number, cols: number): void;
  gelu?(heap: Float32Array, xOff: number, yOff: number, n: number): void;
  geluGrad?(heap: Float32Array, xOff: number, dyOff: number, dxOff: number, n: number): void;
  layerNorm?(heap: Float32Array, xOff: number, gOff: number, bOff: number, yOff: number, rows: number, d: number, eps: number): void;
  layerNormGrad?(heap: Float32Array, xOff: number, gOff: number, dyOff: number, dxOff: number, dgOff: number, dbOff: number, rows: number, d: number, eps: number): void;
  softmax?(heap: Float32Array, xOff: number, yOff: number, rows: number, n: number): void;
  softmaxGrad?(heap: Float32Array, yOff: number, dyOff: number, dxOff: number, rows: number, n: number): void;
  /** table: 8 numbers per parameter (offsets of w, m, v, g, w', m', v', size); scalars as float32 values. */
  adam?(heap: Float32Array, table: Float64Array, b1: number, oneMinusB1: number, b2: number, oneMinusB2: number, oneMinusB1t: number, oneMinusB2t: number, eps: number, negLr: number): void;
}

/** The native addon if it was built and loads here, else undefined. */
export function loadNativeKernels(): NativeKernels | undefined {
  if (process.env.MBB_NATIVE === '0') return undefined;
  try {
    return createRequire(import.meta.url)('../native/build/Release/mbb_kernels.node') as NativeKernels;
  } catch {
    return undefined;
  }
}
