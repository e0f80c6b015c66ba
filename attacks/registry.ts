/**
 * Attacks by id: every Attack exported by a file in attacks/ (harness/core/plugins.ts), so a new
 * attack is one file. The six of docs/attacks.md come first, in its order.
 */
import { fileURLToPath } from 'node:url';
import { didYouMean, UserError } from '../harness/core/errors.js';
import { discoverPlugins } from '../harness/core/plugins.js';
import type { Attack, BaseAttackParams } from './types.js';

/** What makes an exported value a plugin of this kind (also for files from outside the repository). */
export const isAttack = (v: unknown): v is Attack<any, any> =>
  typeof v === 'object' && v !== null && typeof (v as Attack).id === 'string' && typeof (v as Attack).applyImage === 'function' && typeof (v as Attack).modifyOutput === 'function';

const DOCS_ORDER = ['badnets', 'blended', 'sig', 'wanet', 'trojvlm', 'dualkey'];
export const ATTACKS: Record<string, Attack<any, any>> = await discoverPlugins(
  fileURLToPath(new URL('.', import.meta.url)),
  'attack',
  isAttack,
  DOCS_ORDER,
);

export function getAttack(id: string): Attack<BaseAttackParams> {
  const a = ATTACKS[id];
  if (!a) throw new UserError(`unknown attack "${id}"${didYouMean(id, Object.keys(ATTACKS))}: choose one of ${Object.keys(ATTACKS).join(', ')}`);
  return a;
}
