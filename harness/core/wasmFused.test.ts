import { beforeAll, describe, expect, it } from 'vitest';
import { adam, FusedAdam } from './adam.js';
import { initEngine, tf } from './engine.js';
import { attentionMix, attentionScores, dense, gelu, layerNorm, softmax } from './fusedOps.js';
import { loadNativeKernels } from './nativeAddon.js';
import { FUSED_KERNELS, fusedKernelActive } from './wasmFused.js';

const rand = (n: number, seed: number, scale = 2) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * scale);

/** Values of f on a backend (inputs are re-created there from plain arrays), as one flat array. */
async function on(backend: string, f: () => tf.Tensor[]): Promise<Float32Array> {
  await tf.setBackend(backend);
  const out = tf.tidy(() => tf.concat(f().map((t) => t.reshape([-1]))));
  const v = Float32Array.from(out.dataSync() as Float32Array);
  out.dispose();
  return v;
}

function maxRelErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

/** An op's value and its gradients with respect to every input, under a weighted sum (so dy is not all ones). */
function valueAndGrads(op: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]): tf.Tensor[] {
  const y = op(...inputs);
  const w = tf.tensor(rand(y.size, 99, 1), y.shape);
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(op(...xs), w)))(inputs);
  return [y, ...grads];
}

// Without the addon (no compiler at install, MBB_NATIVE=0) the fused kernels are not there and
// the ops are plain TF.js on every backend: nothing to compare.
const native = loadNativeKernels() ? describe : describe.skip;

native('fused native kernels on wasm agree with the TF.js ops on cpu', () => {
  beforeAll(async () => {
    const info = await initEngine({ backend: 'wasm', quiet: true });
    expect(info.fixes).toEqual(expect.arrayContaining(['alias-copies', 'native-gelu', 'native-layernorm', 'native-softmax', 'native-adam', 'native-dense', 'native-attention']));
  });

  it('are used on wasm only', async () => {
    await tf.setBackend('wasm');
    expect(fusedKernelActive(FUSED_KERNELS.gelu)).toBe(true);
    // By constructor: tfjs's Optimizer makes `instanceof` true of any object with its methods.
    expect(adam(0.1).constructor).toBe(FusedAdam);
    await tf.setBackend('cpu');
    expect(fusedKernelActive(FUSED_KERNELS.gelu)).toBe(false);
    expect(adam(0.1).constructor).not.toBe(FusedAdam);
  });

  it('GELU and its gradient, including arguments past the range of exp', async () => {
    // 1000 elements: vector bodies and scalar tails; ±100 saturate σ at both ends.
    const f = () => valueAndGrads(gelu, [tf.tensor2d([...rand(998, 1, 4), 100, -100], [10, 100])]);
    expect(maxRelErr(await on('wasm', f), await on('cpu', f))).toBeLessThanOrEqual(1e-5);
  });

  it('layer norm and its gradients for x, gain and bias (rows of 64 and of 7)', async () => {
    for (const d of [64, 7]) {
      const f = () =>
        valueAndGrads((x, g, b) => layerNorm(x, g, b, 1e-5), [
          tf.tensor3d(rand(3 * 5 * d, 2).map((v, i) => v + (i % 3)), [3, 5, d]),
          tf.tensor1d(rand(d, 3, 1).map((v) => 1 + v)),
          tf.tensor1d(rand(d, 4, 1)),
        ]);
      expect(maxRelErr(await on('wasm', f), await on('cpu', f))).toBeLessThanOrEqual(1e-5);
    }
  });

  it('softmax and its gradient, with masked (−1e9) scores as attention adds them', async () => {
    const f = () => {
      const mask = tf.tensor2d(Array.from({ length: 76 * 76 }, (_, i) => (i % 76 > Math.floor(i / 76) ? -1e9 : 0)), [76, 76]);
      return valueAndGrads((x) => softmax(tf.add(x, mask)), [tf.tensor3d(rand(2 * 76 * 76, 5, 3), [2, 76, 76])]);
    };
    const wasm = await on('wasm', f);
    expect(maxRelErr(wasm, await on('cpu', f))).toBeLessThanOrEqual(1e-5);
    expect(Math.max(...wasm.subarray(1, 76))).toBeLessThan(1e-30); // row 0 sees only position 0
  });

  it('attention without head transposes: probabilities, output and the gradients of q, k and v, for every mask shape the models use', async () => {
    // Self-attention over 76 positions (the reference step's, a tail of 4 past the 8-wide
    // blocks) and cross-attention of 5 queries over 13 keys with 3-wide heads (every tail).
    const cases = [
      { b: 2, s: 76, skv: 76, heads: 4, dh: 16 },
      { b: 3, s: 5, skv: 13, heads: 2, dh: 3 },
    ];
    for (const { b, s, skv, heads, dh } of cases) {
      const d = heads * dh;
      const hide = (i: number) => (i % 3 === 1 ? -1e9 : 0);
      const masks: (() => tf.Tensor | undefined)[] = [
        () => undefined,
        () => tf.tensor2d(Array.from({ length: s * skv }, (_, i) => (i % skv > Math.floor(i / skv) ? -1e9 : 0)), [s, skv]), // causal
        () => tf.tensor4d(Array.from({ length: b * skv }, (_, i) => hide(i)), [b, 1, 1, skv]), // per-row padding
        () => tf.tensor4d(Array.from({ length: b * s * skv }, (_, i) => hide(i) + (i % 5)), [b, 1, s, skv]),
        () => tf.tensor4d(Array.from({ length: heads * skv }, (_, i) => i % 7), [1, heads, 1, skv]),
      ];
      for (const mask of masks) {
        const f = () => {
          const m = mask();
          const op = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
            const p = attentionScores(q, k, heads, 1 / Math.sqrt(dh), m);
            return tf.concat([p.reshape([-1]), attentionMix(p, v).reshape([-1])]);
          };
          return valueAndGrads(op, [
            tf.tensor3d(rand(b * s * d, 11), [b, s, d]),
            tf.tensor3d(rand(b * skv * d, 12), [b, skv, d]),
            tf.tensor3d(rand(b * skv * d, 13), [b, skv, d]),
          ]);
        };
        expect(maxRelErr(await on('wasm', f), await on('cpu', f))).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('attention takes the fused kernels on wasm and leaves them for a mask they cannot broadcast', async () => {
    await tf.setBackend('wasm');
    const q = tf.ones([2, 3, 8]);
    const kernels = async (mask?: tf.Tensor) => (await tf.profile(() => attentionScores(q, q, 2, 1, mask))).kernelNames;
    expect(await kernels()).toEqual([FUSED_KERNELS.attnScores]);
    expect(await kernels(tf.zeros([3, 3]))).toEqual([FUSED_KERNELS.attnScores]);
    expect(await kernels(tf.zeros([3, 1]))).toContain('BatchMatMul'); // last axis not the keys'
    tf.dispose(q);
  });

  it('a dense layer over x of rank 3 and 2 in one kernel, with and without a residual, and the gradients of x, W, b and the residual', async () => {
    for (const lead of [[3, 37], [5]]) {
      const f = () =>
        valueAndGrads((x, w, b) => dense(x, w, b), [
          tf.tensor(rand(lead.reduce((a, b) => a * b) * 20, 14), [...lead, 20]),
          tf.tensor2d(rand(20 * 13, 15, 1), [20, 13]),
          tf.tensor1d(rand(13, 16, 1)),
        ]);
      expect(maxRelErr(await on('wasm', f), await on('cpu', f))).toBeLessThanOrEqual(1e-5);
      // With a residual (a block's skip connection) in the same kernel: its gradient is dy.
      const g = () =>
        valueAndGrads((x, w, b, r) => dense(x, w, b, r), [
          tf.tensor(rand(lead.reduce((a, b) => a * b) * 20, 17), [...lead, 20]),
          tf.tensor2d(rand(20 * 13, 18, 1), [20, 13]),
          tf.tensor1d(rand(13, 19, 1)),
          tf.tensor(rand(lead.reduce((a, b) => a * b) * 13, 20), [...lead, 13]),
        ]);
      expect(maxRelErr(await on('wasm', g), await on('cpu', g))).toBeLessThanOrEqual(1e-5);
    }
    await tf.setBackend('wasm');
    const [x, w, b] = [tf.ones([2, 4, 3]), tf.variable(tf.ones([3, 5])), tf.ones([5])];
    expect((await tf.profile(() => dense(x, w, b))).kernelNames).toEqual([FUSED_KERNELS.dense]);
    // Only the gradients asked for are computed: a frozen layer's weights get none.
    const grad = await tf.profile(() => tf.variableGrads(() => tf.sum(dense(x, w, b)) as tf.Scalar, [w]));
    expect(grad.kernelNames).toContain(FUSED_KERNELS.denseGradW);
    expect(grad.kernelNames).not.toContain(FUSED_KERNELS.denseGradX);
    tf.dispose([x, w, b]);
  });

  it("Adam: every step bit-identical to tfjs's on wasm and within float rounding of it on cpu, with the learning rate changed per step", async () => {
    const run = async (backend: string, make: (lr: number) => tf.Optimizer) => {
      await tf.setBackend(backend);
      const vars = [tf.variable(tf.tensor2d(rand(6 * 40, 6, 1), [6, 40])), tf.variable(tf.tensor1d(rand(7, 7, 1)))];
      const target = tf.tensor2d(rand(6 * 40, 8, 1), [6, 40]);
      const opt = make(0.05);
      const before = tf.memory().numTensors;
      for (let step = 0; step < 5; step++) {
        (opt as unknown as { learningRate: number }).learningRate = 0.05 / (step + 1); // as training.ts sets it
        opt.minimize(() => tf.sum(tf.square(tf.sub(tf.add(vars[0], tf.sum(vars[1])), target))) as tf.Scalar, false, vars);
        if (step === 0) expect(tf.memory().numTensors).toBe(before + 4); // m and v for each parameter
      }
      expect(tf.memory().numTensors).toBe(before + 4);
      const out = Float32Array.from(tf.concat(vars.map((v) => v.reshape([-1]))).dataSync() as Float32Array);
      opt.dispose();
      tf.dispose([...vars, target]);
      return out;
    };
    const fused = await run('wasm', (lr) => new FusedAdam(lr));
    expect(Array.from(fused)).toEqual(Array.from(await run('wasm', (lr) => tf.train.adam(lr))));
    expect(maxRelErr(fused, await run('cpu', (lr) => tf.train.adam(lr)))).toBeLessThanOrEqual(1e-6);
  });

  it('a training step through the fused ops leaks no tensor', async () => {
    await tf.setBackend('wasm');
    const w = tf.variable(tf.tensor2d(rand(8 * 16, 9, 1), [8, 16]));
    const g = tf.variable(tf.ones([16]));
    const b = tf.variable(tf.zeros([16]));
    const opt = new FusedAdam(0.01);
    const x = tf.tensor3d(rand(2 * 4 * 8, 10), [2, 4, 8]);
    const loss = () => tf.sum(tf.square(softmax(gelu(layerNorm(tf.matMul(x.reshape([8, 8]), w).reshape([2, 4, 16]), g, b, 1e-5))))) as tf.Scalar;
    opt.minimize(loss, false, [w, g]); // b frozen: its gradient is computed and dropped
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) opt.minimize(loss, false, [w, g]);
    expect(tf.memory().numTensors).toBe(before);
    opt.dispose();
    tf.dispose([w, g, b, x]);
  });
});
