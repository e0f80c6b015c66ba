/**
 * Named trainable variables with seeded initialisation. Values are drawn with the harness Rng
 * in JS (not TF.js's own seeded ops) so a seed gives the same initial weights on every backend.
 */
import { tf } from '../harness/core/engine.js';
import { Rng } from '../harness/core/rng.js';

let instances = 0;

export class Params {
  readonly vars = new Map<string, tf.Variable>();
  /** TF.js registers variable names globally: a per-instance prefix lets models coexist. */
  private readonly scope = `m${instances++}`;
  constructor(private readonly rng: Rng) {}

  private add(name: string, shape: number[], values: Float32Array): tf.Variable {
    if (this.vars.has(name)) throw new Error(`parameter ${name} defined twice`);
    // The variable keeps the initial tensor's data; dropping the tensor's own handle keeps
    // tf.memory() flat when the model is disposed.
    const init = tf.tensor(values, shape, 'float32');
    const v = tf.variable(init, true, `${this.scope}/${name}`);
    init.dispose();
    this.vars.set(name, v);
    return v;
  }

  /** N(0, std²) weights; default std 0.02 as in GPT-2. */
  normal(name: string, shape: number[], std = 0.02): tf.Variable {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = this.rng.normal() * std;
    return this.add(name, shape, values);
  }

  constant(name: string, shape: number[], value: number): tf.Variable {
    return this.add(name, shape, new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value));
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (!v) throw new Error(`unknown parameter ${name}`);
    return v;
  }

  get count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
  }
}
