import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from './engine.js';
import { loadNativeKernels } from './nativeAddon.js';

/** Run f on a backend and return its values; inputs are re-created there from plain arrays. */
async function on(backend: string, f: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const v = out.dataSync() as Float32Array;
  out.dispose();
  return Float32Array.from(v);
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5);

describe('wasm kernel fixes agree with the cpu backend', () => {
  beforeAll(async () => {
    const info = await initEngine({ backend: 'wasm', quiet: true });
    expect(info.fixes).toContain('explicit-transpose-matmul');
    // Where the addon was built (npm ci does it), the batched products below run natively.
    if (loadNativeKernels()) expect(info.fixes).toEqual(expect.arrayContaining(['native-matmul', 'native-gather']));
  });

  for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
    it(`BatchMatMul transposeA=${ta} transposeB=${tb} (2-D and batched)`, async () => {
      const f = () => {
        const a = tf.tensor3d(rand(2 * 5 * 7, 1), ta ? [2, 7, 5] : [2, 5, 7]);
        const b = tf.tensor3d(rand(2 * 7 * 3, 2), tb ? [2, 3, 7] : [2, 7, 3]);
        const a2 = tf.tensor2d(rand(5 * 7, 3), ta ? [7, 5] : [5, 7]);
        const b2 = tf.tensor2d(rand(7 * 3, 4), tb ? [3, 7] : [7, 3]);
        return tf.concat([tf.matMul(a, b, ta, tb).reshape([-1]), tf.matMul(a2, b2, ta, tb).reshape([-1])]);
      };
      const cpu = await on('cpu', f);
      const wasm = await on('wasm', f);
      expect(maxRelErr(wasm, cpu)).toBeLessThanOrEqual(1e-5);
    });
  }

  it('BatchMatMul on attention shapes: 32-, 16- and 8-wide column blocks, scalar tails, 6- and 4-row blocks and leftover rows', async () => {
    const f = () => {
      // 37 = 6·6 + 1 and 10 = 6 + 4 rows; n = 37 = 32 + 5 and n = 29 = 16 + 8 + 5 columns; n = 16 exactly.
      const q = tf.tensor3d(rand(3 * 37 * 16, 10), [3, 37, 16]);
      const p = tf.tensor3d(rand(3 * 37 * 37, 11), [3, 37, 37]);
      const r = tf.tensor3d(rand(3 * 16 * 29, 12), [3, 16, 29]);
      return tf.concat([
        tf.matMul(q, q, false, true).reshape([-1]), // Q·Kᵀ
        tf.matMul(p, q).reshape([-1]), // P·V
        tf.matMul(p, q, true, false).reshape([-1]), // Pᵀ·dO
        tf.matMul(q, r).reshape([-1]),
        tf.matMul(q.slice([0, 0, 0], [3, 10, 16]), r).reshape([-1]),
      ]);
    };
    expect(maxRelErr(await on('wasm', f), await on('cpu', f))).toBeLessThanOrEqual(1e-5);
  });

  it('BatchMatMul over a long inner dimension, summed in blocks of k (a weight gradient xᵀ·dy)', async () => {
    // k = 600: two full blocks of 256 and a partial one; m = 13 (6 + 6 + 1 rows), n = 37 (a tail).
    const f = () => {
      const x = tf.tensor2d(rand(600 * 13, 13), [600, 13]);
      const dy = tf.tensor2d(rand(600 * 37, 14), [600, 37]);
      return tf.concat([tf.matMul(x, dy, true, false).reshape([-1]), tf.matMul(dy, x.transpose(), true, true).reshape([-1])]);
    };
    expect(maxRelErr(await on('wasm', f), await on('cpu', f))).toBeLessThanOrEqual(1e-5);
  });

  it('Sum over leading axes (native path) and over other axes, with and without keepDims', async () => {
    const info = await initEngine({ backend: 'wasm', quiet: true });
    if (loadNativeKernels()) expect(info.fixes).toContain('native-sum');
    const f = () => {
      const x = tf.tensor3d(rand(5 * 7 * 19, 13), [5, 7, 19]);
      return tf.concat([
        tf.sum(x, 0).reshape([-1]),
        tf.sum(x, [0, 1]).reshape([-1]),
        tf.sum(x, [1, 0], true).reshape([-1]),
        tf.sum(x, -1).reshape([-1]),
        tf.sum(x, 1).reshape([-1]),
        tf.sum(x).reshape([-1]),
      ]);
    };
    expect(maxRelErr(await on('wasm', f), await on('cpu', f))).toBeLessThanOrEqual(1e-5);
  });

  it('BatchMatMul broadcasts a batch of one (native path)', async () => {
    const f = () => {
      const a = tf.tensor3d(rand(5 * 7, 7), [1, 5, 7]);
      const b = tf.tensor4d(rand(2 * 3 * 7 * 4, 8), [2, 3, 7, 4]);
      const c = tf.tensor4d(rand(2 * 3 * 4 * 7, 9), [2, 3, 4, 7]);
      return tf.concat([tf.matMul(a, b).reshape([-1]), tf.matMul(c, a, false, true).reshape([-1])]);
    };
    const cpu = await on('cpu', f);
    const wasm = await on('wasm', f);
    expect(maxRelErr(wasm, cpu)).toBeLessThanOrEqual(1e-5);
  });

  it('gather of whole rows (native path): tables of rank 2 and 3, indices of rank 1 and 2, repeats; an index outside the table throws', async () => {
    const f = () => {
      const table = tf.tensor2d(rand(7 * 5, 15), [7, 5]);
      const cube = tf.tensor3d(rand(4 * 3 * 2, 16), [4, 3, 2]);
      const ids = tf.tensor1d([6, 0, 0, 3], 'int32');
      const grid = tf.tensor2d([[1, 2], [3, 1]], [2, 2], 'int32');
      return tf.concat([tf.gather(table, ids).reshape([-1]), tf.gather(table, grid).reshape([-1]), tf.gather(cube, grid).reshape([-1])]);
    };
    expect(Array.from(await on('wasm', f))).toEqual(Array.from(await on('cpu', f)));
    if (loadNativeKernels()) {
      await tf.setBackend('wasm');
      const table = tf.zeros([3, 2]);
      expect(() => tf.gather(table, tf.tensor1d([3], 'int32'))).toThrow(/outside the table/);
      table.dispose();
    }
  });

  it('tile along the first axis (block copies) and other tiles (stock kernel), with the gradient of a broadcast', async () => {
    const f = () => {
      const q = tf.tensor3d(rand(1 * 3 * 4, 17), [1, 3, 4]);
      const m = tf.tensor2d(rand(2 * 3, 18), [2, 3]);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.broadcastTo(v, [5, 3, 4]), tf.range(0, 60).reshape([5, 3, 4]))))(q);
      return tf.concat([tf.broadcastTo(q, [5, 3, 4]).reshape([-1]), tf.tile(m, [3, 1]).reshape([-1]), tf.tile(m, [2, 2]).reshape([-1]), g.reshape([-1])]);
    };
    expect(Array.from(await on('wasm', f))).toEqual(Array.from(await on('cpu', f)));
  });

  it('gather gradient (UnsortedSegmentSum) matches, including repeated ids', async () => {
    const f = () => {
      const e = tf.tensor2d(rand(6 * 4, 5), [6, 4]);
      const ids = tf.tensor1d([0, 3, 3, 5, 1, 3], 'int32');
      const w = tf.tensor2d(rand(6 * 4, 6), [6, 4]);
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, ids), w)))(e);
    };
    const cpu = await on('cpu', f);
    const wasm = await on('wasm', f);
    expect(maxRelErr(wasm, cpu)).toBeLessThanOrEqual(1e-5);
    expect(Array.from(cpu.slice(8, 12)).every((v) => v === 0)).toBe(true); // id 2 never gathered
  });
});
