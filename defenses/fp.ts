/**
 * Fine-pruning (Liu, Dolan-Gavitt & Garg, RAID 2018): backdoor neurons tend to be dormant on
 * clean inputs, so (1) record the mean activation of each hidden neuron of the last LM block's
 * MLP (after its GELU, over the visual and non-PAD text positions of the clean pool, teacher
 * forced), (2) prune neurons in increasing order of mean activation, `stepFraction` of the
 * layer per step, until the clean validation metric falls more than `maxDrop` (relative) below
 * the unpruned model's, then undo that last step, and (3) fine-tune on the clean pool with the
 * pruned neurons held at zero (the mask is re-applied after every optimizer step).
 * Pruning neuron j zeroes column j of fc's weight, fc's bias j and row j of proj's weight, so
 * its output is exactly zero (GELU(0) = 0). Such a neuron is a stationary point of plain
 * gradient training (zero activation and zero back-propagated signal, so Adam leaves it at
 * zero); re-applying the mask after every step keeps it pruned whatever else changes the
 * weights (weight decay, a loss hook, float round-off).
 *
 * Defaults, following BackdoorBench's fp (SCLBD/BackdoorBench defense/fp.py, config/defense/fp):
 * clean data ratio 0.05, tolerance acc_ratio 0.1 (relative drop of the clean metric), pruning
 * the last layer's units in increasing order of mean clean activation. BackdoorBench prunes 1%
 * per step and scans every ratio; we prune 5% per step and stop at the first step that breaks
 * the tolerance, because each step costs a generation pass over the validation split (≤ 20
 * passes instead of 100). Fine-tuning: 5 epochs at the SFT learning rate, as `ft`.
 */
import { z } from 'zod';
import { tf } from '../harness/core/engine.js';
import { encodeText, imagesToTensor, textBatch, type TrainExample } from '../harness/core/batch.js';
import type { Tokenizer } from '../harness/core/tokenizer.js';
import type { MlpParamNames, MultimodalModel } from '../models/types.js';
import { inputPositions } from './positions.js';
import type { PostDefense } from './types.js';

export const fpSchema = z
  .object({
    cleanFraction: z.number().gt(0).max(1).default(0.05),
    /** Fraction of the layer's neurons pruned per step (at least one neuron). */
    stepFraction: z.number().gt(0).max(1).default(0.05),
    /** Stop when the clean validation metric falls more than this fraction below the unpruned model's. */
    maxDrop: z.number().gt(0).max(1).default(0.1),
    /** Fine-tuning epochs after pruning (0 = prune only). */
    epochs: z.number().int().min(0).default(5),
    /** 0 = the experiment's SFT learning rate. */
    lr: z.number().min(0).max(1).default(0),
  })
  .strict();
export type FpParams = z.infer<typeof fpSchema>;

const BATCH = 32;

function requireFeatures(model: MultimodalModel, who: string): MlpParamNames {
  if (!model.forwardWithFeatures || !model.lastMlp) {
    throw new Error(`${who}: model family "${model.config.family}" does not expose forwardWithFeatures/lastMlp`);
  }
  return model.lastMlp;
}

/**
 * Mean activation of each hidden neuron of the last LM block's MLP over the input positions
 * of the examples (their first responses, teacher forced): Float32Array[hidden].
 */
export function meanMlpActivations(model: MultimodalModel, tok: Tokenizer, examples: TrainExample[]): Float32Array {
  const names = requireFeatures(model, 'fp');
  const sum = new Float64Array(names.hidden);
  let count = 0;
  for (let start = 0; start < examples.length; start += BATCH) {
    const batch = examples.slice(start, start + BATCH);
    const [s, n] = tf.tidy(() => {
      const text = textBatch(batch.map((e) => encodeText(tok, e.prompt, e.responses[0], model.config.maxText)));
      const { mlpHidden } = model.forwardWithFeatures!(imagesToTensor(batch.map((e) => e.image)), text.tokens);
      const mask = inputPositions(text.tokens, mlpHidden.shape[1]);
      const weighted = tf.mul(mlpHidden, tf.expandDims(mask, -1));
      return [tf.sum(weighted, [0, 1]), tf.sum(mask)];
    });
    const values = s.dataSync();
    for (let j = 0; j < names.hidden; j++) sum[j] += values[j];
    count += n.dataSync()[0];
    tf.dispose([s, n]);
  }
  return Float32Array.from(sum, (v) => v / Math.max(count, 1));
}

/** Neuron indices in increasing order of activation (ties by index): the pruning order. */
export function pruningOrder(activations: ArrayLike<number>): number[] {
  return Array.from({ length: activations.length }, (_, i) => i).sort((a, b) => activations[a] - activations[b] || a - b);
}

/** keep[j] = 0 for the pruned neurons, 1 for the others. */
function keepMask(hidden: number, pruned: readonly number[]): Float32Array {
  const keep = new Float32Array(hidden).fill(1);
  for (const j of pruned) keep[j] = 0;
  return keep;
}

/** Multiply the weights of each neuron by keep[j]: fc column j, fc bias j, proj row j. */
export function applyNeuronMask(model: MultimodalModel, names: MlpParamNames, keep: Float32Array, from?: tf.NamedTensorMap): void {
  const fcW = model.params.get(names.fcW);
  const fcB = model.params.get(names.fcB);
  const projW = model.params.get(names.projW);
  tf.tidy(() => {
    const k = tf.tensor1d(keep);
    fcW.assign(tf.mul(from?.fcW ?? fcW, tf.reshape(k, [1, -1])));
    fcB.assign(tf.mul(from?.fcB ?? fcB, k));
    projW.assign(tf.mul(from?.projW ?? projW, tf.reshape(k, [-1, 1])));
  });
}

export const fp: PostDefense<FpParams> = {
  id: 'fp',
  stage: 'post',
  description: 'fine-pruning: prune dormant MLP neurons of the last LM block on clean data, then fine-tune',
  schema: fpSchema,
  cleanFraction: (p) => p.cleanFraction,
  repair(p, ctx) {
    const model = ctx.model;
    const names = requireFeatures(model, 'fp');
    const h = names.hidden;
    const order = pruningOrder(meanMlpActivations(model, ctx.tok, ctx.cleanPool));
    const original: tf.NamedTensorMap = {
      fcW: tf.clone(model.params.get(names.fcW)),
      fcB: tf.clone(model.params.get(names.fcB)),
      projW: tf.clone(model.params.get(names.projW)),
    };
    const prune = (k: number) => applyNeuronMask(model, names, keepMask(h, order.slice(0, k)), original);
    const base = ctx.validate(model);
    const floor = base * (1 - p.maxDrop);
    const step = Math.max(1, Math.round(p.stepFraction * h));
    let pruned = 0;
    let last = base;
    try {
      while (pruned < h) {
        const next = Math.min(h, pruned + step);
        prune(next);
        const v = ctx.validate(model);
        ctx.progress(`pruned ${next}/${h}: clean metric ${v.toFixed(4)} (unpruned ${base.toFixed(4)})`);
        if (v < floor) {
          prune(pruned); // undo the step that broke the tolerance
          break;
        }
        pruned = next;
        last = v;
      }
    } finally {
      tf.dispose(Object.values(original));
    }
    ctx.progress(`fine-pruning: ${pruned} of ${h} neurons pruned (${((100 * pruned) / h).toFixed(1)}%), clean metric ${base.toFixed(4)} → ${last.toFixed(4)}`);
    if (p.epochs > 0) {
      const keep = keepMask(h, order.slice(0, pruned));
      ctx.train(model, ctx.cleanPool, {
        epochs: p.epochs,
        lr: p.lr || ctx.sftLr,
        hook: { afterStep: (m) => applyNeuronMask(m, names, keep) },
      });
    }
    return model;
  },
};
