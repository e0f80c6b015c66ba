/**
 * Defenses by id: every Defense exported by a file in defenses/ (harness/core/plugins.ts), so a new
 * defense is one file. Those of docs/defenses.md come first, in its order.
 */
import { fileURLToPath } from 'node:url';
import { didYouMean, UserError } from '../harness/core/errors.js';
import { discoverPlugins } from '../harness/core/plugins.js';
import type { Defense } from './types.js';

/** What makes an exported value a plugin of this kind (also for files from outside the repository). */
export const isDefense = (v: unknown): v is Defense<any> =>
  typeof v === 'object' && v !== null && typeof (v as Defense).id === 'string' && typeof (v as Defense).stage === 'string' && 'schema' in v;

const DOCS_ORDER = ['none', 'pcr', 'pcr-aug', 'pcr-cv', 'ft', 'fp', 'nad', 'abl', 'aug', 'jitter', 'remove', 'bye', 'cleansight', 'robustit'];
export const DEFENSES: Record<string, Defense<any>> = await discoverPlugins(
  fileURLToPath(new URL('.', import.meta.url)),
  'defense',
  isDefense,
  DOCS_ORDER,
);

export function getDefense(id: string): Defense<Record<string, unknown>> {
  const d = DEFENSES[id];
  if (!d) throw new UserError(`unknown defense "${id}"${didYouMean(id, Object.keys(DEFENSES))}: choose one of ${Object.keys(DEFENSES).join(', ')}`);
  return d;
}
