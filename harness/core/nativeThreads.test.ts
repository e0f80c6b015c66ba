import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from './engine.js';
import { adam } from './adam.js';
import { attentionMix, attentionScores, dense, gelu, layerNorm, softmax } from './fusedOps.js';
import { loadNativeKernels } from './nativeAddon.js';

const rand = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + seed) * 2);
const addon = loadNativeKernels();
const native = addon ? describe : describe.skip;
// The machine's hardware threads as the addon counts them (it never uses more).
const hw = addon ? (addon.useThreads(1024), addon.threads()) : 1;
addon?.useThreads(1);

/** Every value and gradient of the ops the threads split: dense layers (2-D and batched products, transposed operands, bias sums), attention, layer norm, GELU, softmax. */
function products(): Float32Array {
  const out = tf.tidy(() => {
    const [b, s, heads, dh] = [3, 37, 4, 16];
    const d = heads * dh;
    const x = tf.tensor3d(rand(b * s * d, 1), [b, s, d]);
    const w = tf.tensor2d(rand(d * 129, 2), [d, 129]);
    const bias = tf.tensor1d(rand(129, 3));
    const kv = tf.tensor3d(rand(b * 41 * d, 4), [b, 41, d]);
    const g = tf.tensor1d(rand(d, 6));
    const f = (x: tf.Tensor, w: tf.Tensor, kv: tf.Tensor, g: tf.Tensor) => {
      const mask = tf.tensor4d(Array.from({ length: b * 41 }, (_, i) => (i % 5 === 2 ? -1e9 : 0)), [b, 1, 1, 41]);
      const p = attentionScores(x, kv, heads, 1 / Math.sqrt(dh), mask);
      const mixed = gelu(layerNorm(attentionMix(p, kv), g, tf.tensor1d(rand(d, 7)), 1e-5));
      const y = softmax(dense(mixed, w, bias));
      const batched = tf.matMul(tf.reshape(y, [b, s, 129]), tf.reshape(y, [b, s, 129]), true, false); // transposed A, batch 3
      return tf.concat([p.reshape([-1]), y.reshape([-1]), batched.reshape([-1]), tf.matMul(tf.reshape(y, [-1, 129]), w, false, true).reshape([-1])]);
    };
    const weights = tf.tensor1d(rand(f(x, w, kv, g).size, 5));
    const grads = tf.grads((x: tf.Tensor, w: tf.Tensor, kv: tf.Tensor, g: tf.Tensor) => tf.sum(tf.mul(f(x, w, kv, g), weights)))([x, w, kv, g]);
    return tf.concat([f(x, w, kv, g), ...grads.map((g) => g.reshape([-1]))]);
  });
  const v = Float32Array.from(out.dataSync() as Float32Array);
  out.dispose();
  return v;
}

native('native kernels on several threads', () => {
  let dir: string;
  beforeAll(async () => {
    await initEngine({ backend: 'wasm', quiet: true });
    dir = mkdtempSync(join(tmpdir(), 'mbb-threads-'));
  });
  afterAll(() => {
    addon!.useThreads(1);
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(hw < 2)('give the same bits as one thread: products, attention and their gradients', () => {
    addon!.useThreads(1);
    const one = products();
    addon!.useThreads(2);
    expect(addon!.threads()).toBe(2);
    const two = products();
    addon!.useThreads(1);
    expect(two.length).toBe(one.length);
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
  });

  it("compute a product's row the same whichever rows share its call (a model may compute only the rows it needs)", () => {
    // Rows of 20 fall into blocks of 6, 6, 6, 1, 1; the last 4 alone into one block of 4. Widths with every column tail.
    for (const n of [4, 8, 12, 20, 37, 76]) {
      const out = tf.tidy(() => {
        const a = tf.tensor2d(rand(20 * 16, n), [20, 16]);
        const b = tf.tensor2d(rand(16 * n, n + 1), [16, n]);
        const all = tf.matMul(a, b).slice([16, 0], [4, n]);
        const last = tf.matMul(a.slice([16, 0], [4, 16]), b);
        return [Float32Array.from(all.dataSync() as Float32Array), Float32Array.from(last.dataSync() as Float32Array)];
      });
      expect(Buffer.from(out[1].buffer).equals(Buffer.from(out[0].buffer))).toBe(true);
    }
  });

  it.skipIf(hw < 2)('give the same bits as one thread: Adam steps', () => {
    const steps = (threads: number) => {
      addon!.useThreads(threads);
      const w = tf.variable(tf.tensor2d(rand(300 * 257, 8), [300, 257]));
      const opt = adam(0.01);
      for (let i = 0; i < 3; i++) opt.applyGradients([{ name: w.name, tensor: tf.tensor2d(rand(300 * 257, 9 + i), [300, 257]) }]);
      const out = Float32Array.from(w.dataSync() as Float32Array);
      opt.dispose();
      w.dispose();
      addon!.useThreads(1);
      return out;
    };
    const [one, two] = [steps(1), steps(2)];
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
  });

  it("read their count from the runner's budget file, and see it rewritten", () => {
    const file = join(dir, 'budget');
    writeFileSync(file, Buffer.from(new Int32Array([1, 2]).buffer));
    addon!.useThreadBudget(file, 1);
    expect(addon!.threads()).toBe(Math.min(2, hw));
    // Rewritten in place, as the runner does (truncating a mapped file would fault its readers).
    const fd = openSync(file, 'r+');
    const setSlot1 = (n: number) => writeSync(fd, Buffer.from(new Int32Array([n]).buffer), 0, 4, 4);
    setSlot1(1);
    expect(addon!.threads()).toBe(1);
    setSlot1(0);
    expect(addon!.threads()).toBe(1); // never fewer than one
    setSlot1(64);
    expect(addon!.threads()).toBe(hw); // never more than the machine has
    closeSync(fd);
    addon!.useThreads(1);
  });

  it('refuse a budget file that is missing or too short, naming it', () => {
    expect(() => addon!.useThreadBudget(join(dir, 'absent'), 0)).toThrow(/cannot open .*absent/);
    const short = join(dir, 'short');
    writeFileSync(short, Buffer.alloc(4));
    expect(() => addon!.useThreadBudget(short, 1)).toThrow(/short.* is too short for slot 1/);
  });
});
