/**
 * Adam for the training loops: tfjs's own (tf.train.adam) except on wasm with the native
 * addon, where one kernel (harness/core/wasmFused.ts) updates every parameter in one call instead of
 * ~13 kernels per parameter. Same semantics as tfjs 4's AdamOptimizer, to the float32 rounding
 * of each scalar and each operation: moments m and v start at zero, the bias corrections use
 * β1ᵗ and β2ᵗ kept as float32 products (tfjs's accBeta variables), ε (the backend's epsilon
 * unless given) is added after the square root, and `learningRate` is read at every step (the
 * training loop sets it per step).
 */
import { tf } from './engine.js';
import { FUSED_KERNELS, fusedKernelActive, type AdamAttrs } from './wasmFused.js';

const f32 = Math.fround;

export class FusedAdam extends tf.Optimizer {
  static get className(): string {
    return 'FusedAdam';
  }
  private readonly moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();
  // β1ᵗ and β2ᵗ for the coming step t (tfjs starts them at β, multiplies after each step).
  private accBeta1: number;
  private accBeta2: number;

  constructor(
    public learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = tf.backend().epsilon(),
  ) {
    super();
    this.accBeta1 = f32(beta1);
    this.accBeta2 = f32(beta2);
  }

  applyGradients(variableGradients: Parameters<tf.Optimizer['applyGradients']>[0]): void {
    const grads = Array.isArray(variableGradients) ? variableGradients.map((g) => [g.name, g.tensor] as const) : Object.entries(variableGradients);
    const inputs: tf.NamedTensorMap = {};
    const updated: { w: tf.Variable; m: tf.Variable; v: tf.Variable }[] = [];
    for (const [name, g] of grads) {
      if (g == null) continue; // as tfjs: no gradient, no update (and no moments yet)
      const w = tf.engine().registeredVariables[name];
      let mv = this.moments.get(name);
      if (!mv) {
        mv = tf.tidy(() => ({ m: tf.zerosLike(w).variable(false), v: tf.zerosLike(w).variable(false) }));
        this.moments.set(name, mv);
      }
      const i = updated.length;
      Object.assign(inputs, { [`w${i}`]: w, [`m${i}`]: mv.m, [`v${i}`]: mv.v, [`g${i}`]: g });
      updated.push({ w, ...mv });
    }
    const attrs: AdamAttrs & { count: number } = {
      count: updated.length,
      b1: f32(this.beta1),
      oneMinusB1: f32(1 - this.beta1),
      b2: f32(this.beta2),
      oneMinusB2: f32(1 - this.beta2),
      oneMinusB1t: f32(1 - this.accBeta1),
      oneMinusB2t: f32(1 - this.accBeta2),
      eps: f32(this.epsilon),
      negLr: f32(-this.learningRate),
    };
    const outs = tf.engine().runKernel(FUSED_KERNELS.adam, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    updated.forEach(({ w, m, v }, i) => {
      w.assign(outs[3 * i]);
      m.assign(outs[3 * i + 1]);
      v.assign(outs[3 * i + 2]);
    });
    tf.dispose(outs);
    this.accBeta1 = f32(this.accBeta1 * f32(this.beta1));
    this.accBeta2 = f32(this.accBeta2 * f32(this.beta2));
    this.incrementIterations();
  }

  override dispose(): void {
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

/** Adam at a learning rate, fused where the kernel runs (see above), else tf.train.adam. */
export function adam(learningRate: number): tf.Optimizer & { learningRate: number } {
  const opt = fusedKernelActive(FUSED_KERNELS.adam) ? new FusedAdam(learningRate) : tf.train.adam(learningRate);
  return opt as tf.Optimizer & { learningRate: number };
}
