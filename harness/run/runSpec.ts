/**
 * One run of a grid: its spec (task, model, attack, defense, seed and the experiment settings
 * it runs under), the id that names its record and its outputs, and its resolved plugins.
 */
import type { Attack, BaseAttackParams } from '../../attacks/types.js';
import type { Defense } from '../../defenses/types.js';
import type { ExperimentConfig, PluginRef } from '../config/schema.js';
import type { Task } from '../core/types.js';

export interface RunSpec {
  exp: ExperimentConfig;
  task: Task;
  model: string;
  attack: PluginRef;
  defense: PluginRef;
  seed: number;
}

export function refLabel(r: PluginRef): string {
  return r.label ?? r.id;
}

/**
 * A label as it may appear in a run id, which is a file name: characters other than letters,
 * digits and `. @ + -` become `_`, `..` and repeated `_` collapse (no path can escape, and `__`
 * stays the separator of the id's parts), and leading or trailing `. _ -` go. The label itself
 * stays what tables show. '' for a label with nothing left (refused by the runner).
 */
export function safeLabel(label: string): string {
  return label
    .replace(/[^A-Za-z0-9.@+-]+/g, '_')
    .replace(/\.{2,}/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[._-]+|[._-]+$/g, '');
}

export function runId(r: RunSpec): string {
  return [r.task, r.model, safeLabel(refLabel(r.attack)), safeLabel(refLabel(r.defense)), `s${r.seed}`].join('__');
}


/** A run's plugins with their validated parameters and their source files (runIdentity.ts resolveRun). */
export interface ResolvedRun {
  attack: Attack<BaseAttackParams>;
  attackParams: BaseAttackParams;
  defense: Defense<Record<string, unknown>>;
  defenseParams: Record<string, unknown>;
  files: { attack: string; defense: string; model: string };
}
