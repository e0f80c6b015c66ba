/**
 * Model families by id: every ModelFamily exported by a file in models/ (harness/core/plugins.ts),
 * so a new family is one file. The three of the README come first.
 */
import { fileURLToPath } from 'node:url';
import { didYouMean, UserError } from '../harness/core/errors.js';
import { discoverPlugins } from '../harness/core/plugins.js';
import type { ModelConfig, ModelFamily, MultimodalModel } from './types.js';

const isFamily = (v: unknown): v is ModelFamily =>
  typeof v === 'object' && v !== null && typeof (v as ModelFamily).id === 'string' && typeof (v as ModelFamily).create === 'function';

export const MODELS: Record<string, ModelFamily> = await discoverPlugins(
  fileURLToPath(new URL('.', import.meta.url)),
  'model',
  isFamily,
  ['llava', 'blip2', 'flamingo'],
);

export function createModel(config: ModelConfig): MultimodalModel {
  const family = MODELS[config.family];
  if (!family) {
    throw new UserError(`unknown model "${config.family}"${didYouMean(config.family, Object.keys(MODELS))}: choose one of ${Object.keys(MODELS).join(', ')}`);
  }
  return family.create(config);
}
