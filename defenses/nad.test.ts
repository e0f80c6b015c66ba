import { beforeAll, describe, expect, it } from 'vitest';
import { encodeText, imagesToTensor, textBatch } from '../harness/core/batch.js';
import { parseWith } from '../harness/config/schema.js';
import { initEngine, tf } from '../harness/core/engine.js';
import { crossEntropy } from '../harness/core/losses.js';
import { Rng } from '../harness/core/rng.js';
import type { MultimodalModel } from '../models/types.js';
import { examples, fakePostContext, MAX_TEXT, realTrain, tinyModel, tok, type TrainCall } from './context.testutil.js';
import { atLoss, attentionMap, blockAtLoss, nad, nadLoss, nadSchema } from './nad.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

function batchOf(model: MultimodalModel, n = 4) {
  const ex = examples(n);
  const images = ex.map((e) => e.image);
  const text = textBatch(ex.map((e) => encodeText(tok, e.prompt, e.responses[0], MAX_TEXT)));
  return { model, ids: ex.map((e) => e.id), images, imagesT: imagesToTensor(images), text, rng: new Rng(1), epoch: 0, step: 0 };
}

function copyOf(m: MultimodalModel): MultimodalModel {
  const c = tinyModel({ seed: 99 });
  for (const [name, v] of m.params.vars) c.params.get(name).assign(v);
  return c;
}

describe('nad (neural attention distillation)', () => {
  it('refuses out-of-range knobs by name; defaults from the NAD code', () => {
    expect(() => parseWith(nadSchema, { beta: -1 }, 'defense nad params')).toThrow(/beta/);
    expect(() => parseWith(nadSchema, { p: 0 }, 'defense nad params')).toThrow(/p/);
    expect(() => parseWith(nadSchema, { teacherEpochs: 0 }, 'defense nad params')).toThrow(/teacherEpochs/);
    expect(() => parseWith(nadSchema, { epochs: 1.5 }, 'defense nad params')).toThrow(/epochs/);
    expect(() => parseWith(nadSchema, { beta3: 5000 }, 'defense nad params')).toThrow(/beta3/);
    expect(parseWith(nadSchema, {}, 'nad')).toEqual({ cleanFraction: 0.05, teacherEpochs: 5, epochs: 5, lr: 0, beta: 5000, p: 2 });
  });

  it('attention map: mean_c |F|^p, zero on masked positions, unit L2 norm per sample', () => {
    const f = tf.tensor3d([[[1, -1], [2, 0], [0, 3]], [[1, 1], [1, 1], [5, 5]]]); // [2, 3, 2]
    const mask = tf.tensor2d([[1, 1, 1], [1, 1, 0]]);
    const a = attentionMap(f, mask, 2).arraySync() as number[][];
    // sample 0: means of squares [1, 2, 4.5] / ‖·‖; sample 1: [1, 1, (masked)] / √2.
    const n0 = Math.hypot(1, 2, 4.5);
    expect(a[0][0]).toBeCloseTo(1 / n0, 5);
    expect(a[0][1]).toBeCloseTo(2 / n0, 5);
    expect(a[0][2]).toBeCloseTo(4.5 / n0, 5);
    expect(a[1]).toEqual([expect.closeTo(Math.SQRT1_2, 5), expect.closeTo(Math.SQRT1_2, 5), 0]);
    // p = 1: mean of |F|.
    const a1 = attentionMap(f, mask, 1).arraySync() as number[][];
    expect(a1[0][2] / a1[0][0]).toBeCloseTo(1.5, 4);
    // AT loss between two hand-made maps: mean over the 5 input positions of squared differences.
    const g = tf.tensor3d([[[1, -1], [2, 0], [0, 3]], [[1, 1], [2, 2], [5, 5]]]);
    const b = attentionMap(g, mask, 2).arraySync() as number[][];
    let sq = 0;
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) sq += (a[i][j] - b[i][j]) ** 2;
    expect(atLoss(f, g, mask, 2).dataSync()[0]).toBeCloseTo(sq / 5, 6);
  });

  it('AT loss is 0 for identical models and > 0 otherwise; the NAD loss is CE + β·Σ AT', () => {
    const student = tinyModel();
    const same = copyOf(student);
    const other = tinyModel({ seed: 7 });
    const batch = batchOf(student);
    const s = student.forwardWithFeatures!(batch.imagesT, batch.text.tokens);
    const at = (t: MultimodalModel) => {
      const f = t.forwardWithFeatures!(batch.imagesT, batch.text.tokens);
      return blockAtLoss(s.blocks, f.blocks, batch.text.tokens, 2).dataSync()[0];
    };
    expect(at(same)).toBe(0);
    const diff = at(other);
    expect(diff).toBeGreaterThan(0);
    const ce = crossEntropy(s.logits, batch.text.targets, batch.text.weights).dataSync()[0];
    const p = parseWith(nadSchema, { beta: 100 }, 'nad');
    expect(nadLoss(batch, same, p).dataSync()[0]).toBeCloseTo(ce, 6);
    expect(nadLoss(batch, other, p).dataSync()[0]).toBeCloseTo(ce + 100 * diff, 4);
    // A model that differs by one block's weights only still differs in the AT term.
    const nudged = copyOf(student);
    const w = nudged.params.get('lm/block0/mlp/fc/w');
    w.assign(tf.mul(w, 1.5));
    expect(at(nudged)).toBeGreaterThan(0);
    for (const m of [student, same, other, nudged]) m.params.dispose();
  });

  it('keeps tf.memory() flat while distilling', () => {
    const student = tinyModel();
    const teacher = copyOf(student);
    const p = parseWith(nadSchema, {}, 'nad');
    const logs = realTrain()(student, examples(8), { epochs: 3, lr: 1e-2, hook: { loss: (b) => nadLoss(b, teacher, p) } });
    expect(new Set(logs.map((l) => l.numTensors)).size).toBe(1);
    student.params.dispose();
    teacher.params.dispose();
  });

  it('repair: teacher = copy fine-tuned on the clean pool, then the student distils from it; the teacher is disposed', () => {
    const student = tinyModel();
    const initial = student.params.get('lm/head/w').arraySync();
    const pool = examples(8);
    const calls: TrainCall[] = [];
    let teacher: MultimodalModel | undefined;
    const ctx = fakePostContext(student, {
      cleanPool: pool,
      train: realTrain(calls),
      createModel: () => (teacher = tinyModel({ seed: 42 })),
    });
    const p = parseWith(nadSchema, { teacherEpochs: 2, epochs: 1, beta: 50 }, 'nad');
    // Watch the teacher's weights at the start of its fine-tuning: a copy of the student.
    const train = ctx.train;
    let teacherStart: unknown;
    ctx.train = (m, ex, o) => {
      if (m !== student) teacherStart = m.params.get('lm/head/w').arraySync();
      return train(m, ex, o);
    };
    expect(nad.repair(p, ctx)).toBe(student);
    expect(teacherStart).toEqual(initial);
    expect(calls.map((c) => [c.model === student ? 'student' : 'teacher', c.examples.length, c.epochs, c.lr, !!c.hook?.loss])).toEqual([
      ['teacher', 8, 2, ctx.sftLr, false],
      ['student', 8, 1, ctx.sftLr, true],
    ]);
    expect(teacher!.params.vars.size).toBe(0); // disposed
    expect(student.params.get('lm/head/w').arraySync()).not.toEqual(initial);
    student.params.dispose();
  });
});
