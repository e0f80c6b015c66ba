/**
 * Checks of a grid before any run starts: every plugin id and parameter, every label, every
 * real dataset, each with one clear error instead of a grid of failed runs.
 */
import { getAttack } from '../../attacks/registry.js';
import { getDefense } from '../../defenses/registry.js';
import { MODELS } from '../../models/registry.js';
import { parseWith, type ExperimentConfig } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import { stableStringify } from '../core/hash.js';
import { checkDataset } from '../data/load.js';
import { refLabel, safeLabel, type RunSpec } from '../run/runSpec.js';
import { resolveRun } from '../run/runIdentity.js';
import { expandAttacks, forTask } from './grid.js';

/** Check every plugin id and parameter before any work starts: one clear error, not N failed runs. */
export function validatePlugins(exp: ExperimentConfig): void {
  const missing = exp.models.filter((m) => !MODELS[m]);
  if (missing.length) {
    throw new UserError(
      `models: ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not a registered model family (models/ has ${Object.keys(MODELS).join(', ')}); ` +
        `remove ${missing.length > 1 ? 'them' : 'it'} with --set models='${JSON.stringify(exp.models.filter((m) => MODELS[m]))}' or add the family`,
    );
  }
  // Each task's own parameters (an attack's perTask), named as the user wrote them.
  for (const task of exp.tasks) {
    expandAttacks(exp, task).forEach((a, i) => {
      const k = exp.rates ? Math.floor(i / exp.rates.length) : i;
      const at = [exp.rates && `at rate ${a.params.rate}`, exp.attacks[k].perTask?.[task] && `on ${task}`].filter(Boolean).join(' ');
      parseWith(getAttack(a.id).schema, a.params, `attacks[${k}] (${a.id})${at ? ` ${at}` : ''} params`);
    });
    exp.defenses.forEach((d, i) => parseWith(getDefense(d.id).schema, forTask(d, task).params, `defenses[${i}] (${d.id})${d.perTask?.[task] ? ` on ${task}` : ''} params`));
  }
  // A label becomes part of a file name (run/runSpec.ts safeLabel). Two plugins whose labels map to
  // one id would write one record file: say so instead of losing runs.
  for (const [list, refs] of [
    ['attacks', exp.attacks],
    ['defenses', exp.defenses],
  ] as const) {
    const seen = new Map<string, number>();
    refs.forEach((r, i) => {
      const id = safeLabel(refLabel(r));
      if (!id) throw new UserError(`${list}[${i}].label ${JSON.stringify(refLabel(r))} has no letter or digit to name its runs by; use letters, digits and . @ + -`);
      const j = seen.get(id);
      if (j !== undefined) {
        const same = refLabel(refs[j]) === refLabel(r);
        throw new UserError(
          `${list}[${j}] and ${list}[${i}] ${same ? `share the label ${JSON.stringify(refLabel(r))}` : `have labels ${JSON.stringify(refLabel(refs[j]))} and ${JSON.stringify(refLabel(r))}, which both name their runs "${id}"`}; give one a distinct "label"`,
        );
      }
      seen.set(id, i);
    });
  }
}

/**
 * Check every real dataset the grid reads (root, JSON files, every image each seed's splits
 * name) once per task × seed, before any run starts: one clear error instead of a grid of runs
 * failing one by one.
 */
export function validateData(runs: RunSpec[]): void {
  const seen = new Set<string>();
  for (const r of runs) {
    const key = stableStringify({ data: r.exp.data, task: r.task, seed: r.seed });
    if (seen.has(key)) continue;
    seen.add(key);
    checkDataset(r.exp.data, r.task, r.seed);
  }
}

export const defenseStage = (id: string): string => getDefense(id).stage;

/** Whether a run's training-time defense probes the backdoored model (SftDefense.probesBackdoored, e.g. BYE). */
export function probesBackdoored(r: RunSpec): boolean {
  const d = getDefense(r.defense.id);
  return d.stage === 'training' && d.sft !== undefined && d.probesBackdoored?.(resolveRun(r).defenseParams) === true;
}
