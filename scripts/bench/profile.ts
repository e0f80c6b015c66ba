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

/**
 * FLOPs (2·M·N·K per output matrix) of the matmul kernels. The output [..., M, N] fixes M and
 * N; K is the dimension of A's last two that is not M (A is [..., M, K], or [..., K, M] when
 * transposed; when K = M either reading gives K).
 */
export function matmulFlops(kernels: KernelRecord[]): number {
  let flops = 0;
  for (const k of kernels) {
    if (!MATMULS.has(k.name)) continue;
    const a = k.inputShapes[0];
    const out = k.outputShapes[0];
    if (!a || !out || a.length < 2 || out.length < 2) continue;
    const m = out[out.length - 2];
    const k2 = a[a.length - 2] === m ? a[a.length - 1] : a[a.length - 2];
    const outSize = out.reduce((p, d) => p * d, 1);
    flops += 2 * outSize * k2;
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
