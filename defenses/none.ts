/** No defense: plain SFT on the poisoned data (the backdoored model). */
import { z } from 'zod';
import type { NoDefense } from './types.js';

export const none: NoDefense<Record<string, never>> = {
  id: 'none',
  stage: 'none',
  description: 'no defense (the backdoored model)',
  schema: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
};
