/**
 * What a run's numbers are a function of, and nothing else (docs/identity.md): its own
 * resolved inputs (data, model, attack, defense, seed, training and evaluation settings) and
 * the code its stages can reach. The rest of the grid (the other attacks, defenses, seeds,
 * models and tasks it lists, its name, the labels) is left out, so a run is recognised as done,
 * and its cached stages reused, in any grid that contains it, and adding a plugin file or
 * editing another plugin recomputes nothing of it.
 */
import { getAttack } from '../../attacks/registry.js';
import { getDefense } from '../../defenses/registry.js';
import { stageCode } from './codeHash.js';
import { imageDecoderFor } from '../data/decoder.js';
import { parseWith } from '../config/schema.js';
import type { ResolvedRun, RunSpec } from './runSpec.js';
import { pluginFile } from '../core/plugins.js';
import { hashOf } from '../core/hash.js';

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
    decoder: imageDecoderFor(r.exp.data),
  };
}

/** What a finished record must match to count as done: its inputs' hash and its code's. */
export interface RunIdentity {
  configHash: string;
  codeVersion: string;
}

export function runIdentity(r: RunSpec, rr: ResolvedRun = resolveRun(r)): RunIdentity {
  return { configHash: hashOf(runInputs(r, rr)), codeVersion: stageCode('run', rr) };
}
