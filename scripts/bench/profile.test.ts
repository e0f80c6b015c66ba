import { describe, expect, it } from 'vitest';
import { initEngine, tf } from '../../harness/core/engine.js';
import { matmulFlops, timeByKernel } from './profile.js';

describe('matmulFlops', () => {
  it('counts 2·M·N·K per matrix, for plain, batched and transposed operands', () => {
    expect(matmulFlops([{ name: 'BatchMatMul', inputShapes: [[1, 3, 5], [1, 5, 7]], outputShapes: [[1, 3, 7]] }])).toBe(2 * 3 * 7 * 5);
    // A transposed: [K, M] = [5, 3].
    expect(matmulFlops([{ name: 'BatchMatMul', inputShapes: [[4, 5, 3], [4, 5, 7]], outputShapes: [[4, 3, 7]] }])).toBe(4 * 2 * 3 * 7 * 5);
    expect(matmulFlops([{ name: 'Add', inputShapes: [[3, 3]], outputShapes: [[3, 3]] }])).toBe(0);
  });

  it("counts the engine's dense and attention kernels as the products they compute", () => {
    // x [2,3,5]·W [5,7]: 6 rows × 7 columns × 5, forward and for each gradient.
    const dense = matmulFlops([
      { name: 'MbbDense', inputShapes: [[2, 3, 5], [5, 7], [7]], outputShapes: [[2, 3, 7]] },
      { name: 'MbbDenseGradX', inputShapes: [[2, 3, 7], [5, 7]], outputShapes: [[2, 3, 5]] },
      { name: 'MbbDenseGradW', inputShapes: [[2, 3, 5], [2, 3, 7]], outputShapes: [[5, 7]] },
    ]);
    expect(dense).toBe(3 * 2 * 6 * 7 * 5);
    // 2 heads of dh = 4 (d = 8), 3 queries over 5 keys, batch 2: one q·kᵀ per head.
    const per = 2 * 2 * 3 * 5 * 4; // B·h·S·S_kv·dh multiply-adds
    expect(matmulFlops([{ name: 'MbbAttnScores', inputShapes: [[2, 3, 8], [2, 5, 8]], outputShapes: [[2, 2, 3, 5]] }])).toBe(2 * per);
    expect(matmulFlops([{ name: 'MbbAttnScoresGrad', inputShapes: [[2, 3, 8], [2, 5, 8], [2, 2, 3, 5], [2, 2, 3, 5]], outputShapes: [[2, 3, 8], [2, 5, 8]] }])).toBe(4 * per);
    expect(matmulFlops([{ name: 'MbbAttnMix', inputShapes: [[2, 2, 3, 5], [2, 5, 8]], outputShapes: [[2, 3, 8]] }])).toBe(2 * per);
    expect(matmulFlops([{ name: 'MbbAttnMixGrad', inputShapes: [[2, 2, 3, 5], [2, 5, 8], [2, 3, 8]], outputShapes: [[2, 2, 3, 5], [2, 5, 8]] }])).toBe(4 * per);
  });

  it('agrees with the shapes a real tf.profile reports for a dense layer and its gradient', async () => {
    await initEngine({ backend: 'cpu', quiet: true });
    const x = tf.randomNormal([8, 16]);
    const w = tf.variable(tf.randomNormal([16, 4]));
    const info = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.sum(tf.matMul(x, v)))(w));
    // forward 8×16·16×4, gradient xᵀ·dy = 16×8·8×4: 2·8·4·16 FLOPs each.
    expect(matmulFlops(info.kernels)).toBe(2 * (2 * 8 * 4 * 16));
    const top = timeByKernel(info.kernels);
    expect(top.map((t) => t.name)).toContain('BatchMatMul');
    expect(top.reduce((s, t) => s + t.share, 0)).toBeCloseTo(1, 6);
  });
});
