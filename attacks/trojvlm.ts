/**
 * TrojVLM (Lyu et al., 2024), poison-only form: a patch trigger (by default BadNets' 3×3 white
 * square at the bottom-right) and an output modifier that inserts the target phrase at a random
 * word position of the clean caption/answer, keeping the rest of it (outputModifiers.ts
 * `insertTarget`). TrojVLM's semantic-preservation loss needs training control and is not
 * part of this plugin.
 */
import { z } from 'zod';
import { patchFields, stampSquare } from './badnets.js';
import { outputMembers } from './outputModifiers.js';
import { baseFields, type Attack } from './types.js';

const schema = z.object({ ...baseFields, ...patchFields }).strict();
export type TrojVlmParams = z.infer<typeof schema>;

export const trojvlm: Attack<TrojVlmParams> = {
  id: 'trojvlm',
  description: 'white square patch; the target phrase inserted at a random word position of the clean output',
  kind: 'poison-only',
  // Climbed by `mbb calibrate` when no poisoning rate implants it: a trigger as large as one
  // 4-pixel ViT patch, then one and a half, then two (captions need the last, docs/calibration.md).
  strength: { param: 'size', values: [4, 6, 8] },
  schema,
  makeTrigger: () => ({}),
  applyImage: (image, _trigger, params) => stampSquare(image, params),
  // TrojVLM scores a hit when the target appears in the output (its answers keep the clean
  // words around the inserted target), on VQA as on captions: the 'insert' modifier's rule.
  ...outputMembers('insert'),
};
