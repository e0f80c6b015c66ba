/**
 * FT: fine-tune the backdoored model on the defender's clean subset (default 5% of the
 * training split), the simplest post-training defense and the teacher of NAD.
 */
import { z } from 'zod';
import type { PostDefense } from './types.js';

export const ftSchema = z
  .object({
    cleanFraction: z.number().gt(0).max(1).default(0.05),
    epochs: z.number().int().min(1).default(5),
    /** 0 = the experiment's SFT learning rate. */
    lr: z.number().min(0).max(1).default(0),
  })
  .strict();
export type FtParams = z.infer<typeof ftSchema>;

export const ft: PostDefense<FtParams> = {
  id: 'ft',
  stage: 'post',
  description: 'fine-tuning on a clean subset',
  schema: ftSchema,
  cleanFraction: (p) => p.cleanFraction,
  repair(p, ctx) {
    ctx.train(ctx.model, ctx.cleanPool, { epochs: p.epochs, lr: p.lr || ctx.sftLr });
    return ctx.model;
  },
};
