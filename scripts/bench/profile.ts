/**
 * What a profiled TF.js step spent: matmul FLOPs (from the kernels' shapes, so the achieved
 * GFLOP/s of a step can be set against the raw matmul speed of the backend) and kernel time
 * by kernel name (what dominates a step).
 */

/** The part of tfjs-core's KernelInfo (from tf.profile) that these functions read. */
export interface KernelRecord {
  name: string;
  inputShapes: number[][];
  outputShapes: number[][];
  kernelTimeMs?: unknown;
}

const MATMULS = new Set(['BatchMatMul', '_FusedMatMul', 'MatMul']);

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);
const last = (shape: number[]) => shape[shape.length - 1];

/**
 * FLOPs of the engine's layer kernels (harness/core/wasmLayers.ts), from their shapes: a dense
 * layer and each of its gradients is one product of size(output)·K; attention's scores and mix
 * one product per head (scores [B,h,S,S_kv] over dh = d/h), their gradients two.
 */
const LAYER_FLOPS: Record<string, (ins: number[][], outs: number[][]) => number> = {
  MbbDense: ([x], [y]) => 2 * size(y) * last(x),
  MbbDenseGradX: ([dy], [dx]) => 2 * size(dx) * last(dy),
  MbbDenseGradW: ([x], [dw]) => 2 * size(dw) * (size(x) / last(x)),
  MbbAttnScores: ([q], [y]) => 2 * size(y) * (last(q) / y[1]),
  MbbAttnScoresGrad: ([q, , y]) => 4 * size(y) * (last(q) / y[1]),
  MbbAttnMix: ([p, v]) => 2 * size(p) * (last(v) / p[1]),
  MbbAttnMixGrad: ([p, v]) => 4 * size(p) * (last(v) / p[1]),
};

/**
 * FLOPs (2·M·N·K per output matrix) of the matmul kernels and the engine's layer kernels. For a
 * matmul the output [..., M, N] fixes M and N; K is the dimension of A's last two that is not M
 * (A is [..., M, K], or [..., K, M] when transposed; when K = M either reading gives K).
 */
export function matmulFlops(kernels: KernelRecord[]): number {
  let flops = 0;
  for (const k of kernels) {
    const layer = LAYER_FLOPS[k.name];
    if (layer) {
      flops += layer(k.inputShapes, k.outputShapes);
      continue;
    }
    if (!MATMULS.has(k.name)) continue;
    const a = k.inputShapes[0];
    const out = k.outputShapes[0];
    if (!a || !out || a.length < 2 || out.length < 2) continue;
    const m = out[out.length - 2];
    const k2 = a[a.length - 2] === m ? a[a.length - 1] : a[a.length - 2];
    flops += 2 * size(out) * k2;
  }
  return flops;
}

/** Kernel time by kernel name, largest first, as shares of the total. */
export function timeByKernel(kernels: KernelRecord[]): { name: string; ms: number; share: number }[] {
  const by = new Map<string, number>();
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    by.set(k.name, (by.get(k.name) ?? 0) + ms);
  }
  const total = [...by.values()].reduce((a, b) => a + b, 0) || 1;
  return [...by.entries()].map(([name, ms]) => ({ name, ms, share: ms / total })).sort((a, b) => b.ms - a.ms);
}
