/**
 * Neural Attention Distillation (Li et al., ICLR 2021): a teacher is the backdoored model
 * fine-tuned on the clean pool (what `ft` does); the student, the backdoored model itself, is
 * then fine-tuned on the clean pool with
 *
 *   L = CE + β · Σ_blocks AT(F_student, F_teacher),
 *
 * where F is an LM block's output hidden states [B, S, C] over the visual prefix and the text
 * (every LM block is distilled), a(F) = mean over channels of |F|^p, L2-normalised per sample
 * over the S positions (PAD positions excluded), and AT = the mean squared difference of the
 * two maps over the samples' input positions: the reference code's
 * F.mse_loss(attention_map(fm_s), attention_map(fm_t)) (bboylyg/NAD at.py, from
 * Knowledge-Distillation-Zoo), with a map per token instead of per pixel. The teacher is fixed.
 *
 * Scale of β: a normalised map has unit L2 norm whatever the width C, so the widths do not
 * matter; the positions do, since the MSE divides a sample's squared distance ‖Δa‖² (≤ 2) by
 * its S positions. NAD's default distils one feature map of 8×8 = 64 positions with
 * β = 5000 (its config.py: beta3 = 5000, beta1 = beta2 = 0), a weight of 5000/64 ≈ 78 on
 * ‖Δa‖². Our default sequences have 16 visual positions and up to 24 (captions) or 14 (VQA)
 * text positions, of which PAD is excluded: S ≈ 25–40, so β = 5000 weighs ‖Δa‖² at
 * ≈ 130–200 per block, the same order as NAD's; its published β is kept. Summed over our three
 * LM blocks the total weight is a few times NAD's single map (BackdoorBench instead distils
 * three maps with β = 500, 1000, 1000). The term is bounded (AT ≤ 2/S̄ per block, S̄ the
 * mean number of input positions, since ‖Δa‖² ≤ 2 for unit non-negative maps) and vanishes
 * when the student's maps match the teacher's. A scratch check at the default width (64, three
 * LM blocks, 16 + 24 positions, a briefly trained model and a copy fine-tuned for 5 epochs)
 * gave ΣAT ≈ 0.008, i.e. β·ΣAT ≈ 41 against CE ≈ 2.9 at the start of distillation: the
 * distillation term leads, as intended by NAD, whose aim is the teacher's attention. A β sweep
 * (500–5000) belongs to the validation sweep.
 *
 * Epochs: NAD fine-tunes its teacher for 10 and the student for 20 epochs (BackdoorBench:
 * te_epochs 10) on 5% clean data; we use `ft`'s 5 for both, so the teacher is trained as `ft`
 * trains (on NAD's own seeded clean pool) and NAD differs from FT by the distillation term.
 */
import { z } from 'zod';
import { tf } from '../harness/core/engine.js';
import { crossEntropy } from '../harness/core/losses.js';
import type { BatchContext } from '../harness/core/training.js';
import type { MultimodalModel } from '../models/types.js';
import { inputPositions } from './positions.js';
import type { PostDefense } from './types.js';

export const nadSchema = z
  .object({
    cleanFraction: z.number().gt(0).max(1).default(0.05),
    /** Fine-tuning epochs of the teacher on the clean pool. */
    teacherEpochs: z.number().int().min(1).default(5),
    /** Distillation epochs of the student on the clean pool. */
    epochs: z.number().int().min(1).default(5),
    /** 0 = the experiment's SFT learning rate (both stages). */
    lr: z.number().min(0).max(1).default(0),
    /** Weight β of the attention-distillation term (summed over LM blocks). */
    beta: z.number().min(0).default(5000),
    /** Power p of the attention map a(F) = mean_c |F|^p. */
    p: z.number().gt(0).max(8).default(2),
  })
  .strict();
export type NadParams = z.infer<typeof nadSchema>;

/** Attention map [B, S] of features [B, S, C]: mean_c |F|^p on the input positions, L2-normalised per sample. */
export function attentionMap(features: tf.Tensor3D, mask: tf.Tensor2D, p: number): tf.Tensor2D {
  return tf.tidy(() => {
    const powered = p === 2 ? tf.square(features) : tf.pow(tf.abs(features), p);
    const am = tf.mul(tf.mean(powered, -1), mask);
    const norm = tf.sqrt(tf.sum(tf.square(am), -1, true));
    return tf.div(am, tf.add(norm, 1e-6)) as tf.Tensor2D;
  });
}

/** AT loss: mean over the input positions of the squared difference of the two attention maps. */
export function atLoss(student: tf.Tensor3D, teacher: tf.Tensor3D, mask: tf.Tensor2D, p: number): tf.Scalar {
  return tf.tidy(() => {
    const d = tf.sub(attentionMap(student, mask, p), attentionMap(teacher, mask, p));
    return tf.div(tf.sum(tf.square(d)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}

/** Σ over LM blocks of AT(student, teacher) on one batch (the teacher's side carries no gradient to its weights). */
export function blockAtLoss(student: tf.Tensor3D[], teacher: tf.Tensor3D[], tokens: tf.Tensor2D, p: number): tf.Scalar {
  if (student.length !== teacher.length) throw new Error(`nad: student has ${student.length} blocks, teacher ${teacher.length}`);
  return tf.tidy(() => {
    const mask = inputPositions(tokens, student[0].shape[1]);
    return tf.addN(student.map((s, i) => atLoss(s, teacher[i], mask, p))) as tf.Scalar;
  });
}

/** NAD's training loss on one batch: CE + β·Σ_blocks AT. */
export function nadLoss(ctx: BatchContext, teacher: MultimodalModel, p: NadParams): tf.Scalar {
  return tf.tidy(() => {
    const s = ctx.model.forwardWithFeatures!(ctx.imagesT, ctx.text.tokens);
    const t = teacher.forwardWithFeatures!(ctx.imagesT, ctx.text.tokens);
    const ce = crossEntropy(s.logits, ctx.text.targets, ctx.text.weights);
    if (p.beta === 0) return ce;
    return tf.add(ce, tf.mul(blockAtLoss(s.blocks, t.blocks, ctx.text.tokens, p.p), p.beta)) as tf.Scalar;
  });
}

export const nad: PostDefense<NadParams> = {
  id: 'nad',
  stage: 'post',
  description: 'neural attention distillation from a clean-fine-tuned teacher',
  schema: nadSchema,
  cleanFraction: (p) => p.cleanFraction,
  repair(p, ctx) {
    const student = ctx.model;
    if (!student.forwardWithFeatures) throw new Error(`nad: model family "${student.config.family}" does not expose forwardWithFeatures`);
    const lr = p.lr || ctx.sftLr;
    const teacher = ctx.createModel();
    try {
      for (const [name, v] of student.params.vars) teacher.params.get(name).assign(v);
      ctx.progress(`teacher: fine-tuning ${p.teacherEpochs} epochs on ${ctx.cleanPool.length} clean examples`);
      ctx.train(teacher, ctx.cleanPool, { epochs: p.teacherEpochs, lr });
      ctx.progress(`student: distilling ${p.epochs} epochs, β = ${p.beta}, p = ${p.p}`);
      ctx.train(student, ctx.cleanPool, { epochs: p.epochs, lr, hook: { loss: (batch) => nadLoss(batch, teacher, p) } });
    } finally {
      teacher.params.dispose();
    }
    return student;
  },
};
