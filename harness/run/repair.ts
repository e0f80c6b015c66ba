/**
 * Stage: a post-training defense repairs the backdoored model with the defender's clean data
 * (a seeded `cleanFraction` of the clean training split).
 */
import { createModel } from '../../models/registry.js';
import type { PostDefense } from '../../defenses/types.js';
import type { MultimodalModel } from '../../models/types.js';
import type { EpochLog } from '../core/record.js';
import { Rng } from '../core/rng.js';
import { cachedModel, dispose, type CachedModel } from './cachedModel.js';
import { defenderPool, fineTune, type RunContext } from './context.js';
import { cleanMetric } from './evaluate.js';

/** The repaired model of the backdoored `sft` model, which is freed unless it is the one returned. */
export async function repairStage(ctx: RunContext, defense: PostDefense, sft: { key: string; model: MultimodalModel }): Promise<CachedModel & { key: string }> {
  const { r, rr, toks, mcfg, maxText } = ctx;
  const { defenseParams } = rr;
  const key = ctx.key('repair', { sftKey: sft.key, defense: { id: defense.id, params: defenseParams } });
  const backdoored = sft.model;
  const repaired = await cachedModel(
    ctx.store,
    'defended',
    key,
    () => {
      const rng = new Rng(r.seed).fork(`defense:${defense.id}`);
      const pool = defenderPool(ctx, rng);
      const repairLog: EpochLog[] = [];
      const model = defense.repair(defenseParams, {
        task: r.task,
        model: backdoored,
        tok: toks.run,
        cleanPool: pool,
        train: (m, ex, o) => {
          const log = fineTune(ctx, m, ex, { ...o, seed: r.seed + 2, stage: `repair:${defense.id}` });
          repairLog.push(...log);
          return log;
        },
        validate: (m) => cleanMetric(m, toks.run, r.task, ctx.ds.val, maxText, r.exp.eval.batchSize),
        createModel: () => createModel(mcfg),
        sftLr: r.exp.sft.lr,
        rng,
        progress: (detail) => ctx.progress({ stage: `repair:${defense.id}`, detail }),
      });
      if (model !== backdoored) dispose(backdoored);
      return { model, log: repairLog };
    },
    toks.run,
  );
  if (repaired.cached) dispose(backdoored);
  return { ...repaired, key };
}
