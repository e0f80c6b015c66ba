/**
 * What a run's numbers are a function of, and nothing else (docs/identity.md): its own
 * resolved inputs (data, model, attack, defense, seed, training and evaluation settings) and
 * the code its stages can reach. The rest of the grid (the other attacks, defenses, seeds,
 * models and tasks it lists, its name, the labels) is left out, so a run is recognised as done,
 * and its cached stages reused, in any grid that contains it, and adding a plugin file or
 * editing another plugin recomputes nothing of it.
 */
import { getAttack } from '../../attacks/registry.js';
import type { Attack, BaseAttackParams } from '../../attacks/types.js';
import { getDefense } from '../../defenses/registry.js';
import type { Defense } from '../../defenses/types.js';
import { codeHash } from './codeHash.js';
import { imageDecoder } from '../data/decoder.js';
import { parseWith } from '../config/schema.js';
import type { RunSpec } from './runSpec.js';
import { pluginFile } from '../core/plugins.js';
import { hashOf } from '../core/hash.js';

/**
 * The entry modules of each stage (harness/run/codeHash.ts follows their imports). A registry
 * among them reaches only the run's own plugins: pre-training its model family, SFT its attack
 * (and its defense when the defense trains), repair its post-training defense, so editing
 * `pcr.ts` keeps the backdoored model that `none` and `ft` share. The pipeline's own stage glue
 * is hashed shallowly: its imports reach every stage.
 */
export const STAGE_CODE = {
  vision: ['harness/run/vision.ts'],
  pretrain: ['harness/core/training.ts', 'harness/run/poison.ts', 'harness/data/load.ts', 'harness/core/tokenizer.ts', 'harness/run/checkpoint.ts', 'models/registry.ts'],
  sft: ['harness/core/training.ts', 'harness/run/poison.ts', 'harness/run/checkpoint.ts', 'harness/run/suspects.ts', 'attacks/registry.ts', 'defenses/registry.ts', 'models/registry.ts'],
  repair: ['harness/core/training.ts', 'harness/run/evaluate.ts', 'harness/run/checkpoint.ts', 'defenses/registry.ts', 'models/registry.ts'],
  /** The whole run, evaluation included: everything the pipeline imports. */
  run: ['harness/run/pipeline.ts'],
};
export type StageName = keyof typeof STAGE_CODE;
const PIPELINE = 'harness/run/pipeline.ts';

/** A run's plugins with their validated parameters and their source files. */
export interface ResolvedRun {
  attack: Attack<BaseAttackParams>;
  attackParams: BaseAttackParams;
  defense: Defense<Record<string, unknown>>;
  defenseParams: Record<string, unknown>;
  files: { attack: string; defense: string; model: string };
}

export function resolveRun(r: RunSpec): ResolvedRun {
  const attack = getAttack(r.attack.id);
  const defense = getDefense(r.defense.id);
  return {
    attack,
    attackParams: parseWith(attack.schema, r.attack.params, `attack ${r.attack.id} params`),
    defense,
    defenseParams: parseWith(defense.schema, r.defense.params, `defense ${r.defense.id} params`),
    files: { attack: pluginFile('attack', attack.id), defense: pluginFile('defense', defense.id), model: pluginFile('model', r.model) },
  };
}

/** The plugin files a stage of this run reaches. */
function stagePlugins(stage: StageName, rr: ResolvedRun): string[] {
  const { attack, defense, model } = rr.files;
  switch (stage) {
    case 'vision':
      return [];
    case 'pretrain':
      return [model];
    case 'sft':
      return rr.defense.stage === 'training' ? [model, attack, defense] : [model, attack];
    case 'repair':
      return [model, defense];
    case 'run':
      return [model, attack, defense];
  }
}

/** Hash of the code one stage of this run can reach. */
export function stageCode(stage: StageName, rr: ResolvedRun): string {
  return codeHash(STAGE_CODE[stage], stage === 'run' ? [] : [PIPELINE], stagePlugins(stage, rr));
}

/**
 * The run's own inputs: its task, model, seed, plugins with resolved parameters, and the
 * experiment's settings for its task, without the grid's lists, its name or the labels.
 */
export function runInputs(r: RunSpec, rr: ResolvedRun): Record<string, unknown> {
  const { name, seeds, tasks, models, attacks, rates, defenses, perTask, workers, plugins, ...settings } = r.exp;
  return {
    task: r.task,
    model: r.model,
    seed: r.seed,
    attack: { id: rr.attack.id, params: rr.attackParams },
    defense: { id: rr.defense.id, params: rr.defenseParams },
    settings,
    // Files of a real dataset decode to pixels that differ by 1–2 levels between sharp and the
    // pure-JS decoders (docs/data.md): the decoder is an input of every stage that reads them.
    decoder: imageDecoderFor(r.exp.data),
  };
}

/** The decoder a run's images go through: none for the generated ShapesWorld. */
export function imageDecoderFor(data: RunSpec['exp']['data']): string | undefined {
  return data.kind === 'shapes' ? undefined : imageDecoder().name;
}

/** What a finished record must match to count as done: its inputs' hash and its code's. */
export interface RunIdentity {
  configHash: string;
  codeVersion: string;
}

export function runIdentity(r: RunSpec, rr: ResolvedRun = resolveRun(r)): RunIdentity {
  return { configHash: hashOf(runInputs(r, rr)), codeVersion: stageCode('run', rr) };
}
