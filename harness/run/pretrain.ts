/**
 * Stage: clean pre-training, shared by every attack and defense of this model × task × seed.
 * Keyed by what pre-training reads, never by the grid's attack or defense lists. It reads the
 * clean train split, or its own corpus where the data has one (ShapesWorld's data.nPretrain).
 */
import { createModel } from '../../models/registry.js';
import { tf } from '../core/engine.js';
import { imageDecoderFor } from '../data/decoder.js';
import { cachedModel, type CachedModel } from './cachedModel.js';
import { loadVisionTower } from './checkpoint.js';
import type { RunContext } from './context.js';
import { stepLogger } from './stepLog.js';
import { cleanExamples } from './examples.js';
import { train } from '../core/training.js';

/** The vision stage's tower (vision.ts), when the run has one: loaded into the model, then freed. */
type Tower = { key: string; freeze: boolean; weights: tf.NamedTensorMap };

export async function pretrainStage(ctx: RunContext, vision: Tower | undefined): Promise<CachedModel & { key: string }> {
  const { r, toks, mcfg, maxText } = ctx;
  const key = ctx.key('pretrain', {
    task: r.task,
    data: r.exp.data,
    decoder: imageDecoderFor(r.exp.data),
    model: mcfg,
    pretrain: r.exp.pretrain,
    vocab: toks.pretrain.words,
    maxText,
    vision: vision && { key: vision.key, freeze: vision.freeze },
  });
  const pre = await cachedModel(
    ctx.store,
    'pretrain',
    key,
    () => {
      const model = createModel(mcfg);
      if (vision) loadVisionTower(model, vision.weights, 'vision stage');
      const log = train(model, toks.pretrain, cleanExamples(ctx.ds.pretrain ?? ctx.ds.train, r.task), {
        ...r.exp.pretrain,
        seed: r.seed,
        maxText,
        trainable: ctx.trainable,
        onStep: stepLogger(ctx.progress, 'pretrain', r.exp.pretrain.epochs),
      });
      return { model, log };
    },
    toks.pretrain,
  );
  if (vision) tf.dispose(Object.values(vision.weights));
  return { ...pre, key };
}
