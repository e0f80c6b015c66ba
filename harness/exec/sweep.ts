/**
 * `mbb sweep`: a defense's knobs varied one at a time around its defaults (or, with `cross`,
 * in every combination), judged on the validation split only (records' `val ASR` and `val CIDEr-D` / `val VQA-acc`), never the test
 * split. Every point is an ordinary run of the grid (cached, resumable), so the backdoored
 * model is shared by all points. The chosen value per knob follows a stated rule:
 *   the lowest validation ASR among values whose validation clean metric is at least a floor
 *   of the no-defense model's; ties go to the higher clean metric. The floors are tried in
 *   order (default 95%, then 90%, then 85%) and the first that admits any value decides, so a
 *   defense that cannot keep 95% still gets a stated choice, with the floor it met on record.
 *   No value at any floor: nothing is chosen.
 */
import { getDefense } from '../../defenses/registry.js';
import type { ExperimentConfig, PluginRef } from '../config/schema.js';
import { parseWith } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import type { RunRecord } from '../core/record.js';
import type { SweepPoint } from '../../reports/sweep.js';

export interface SweepSpec {
  defense: string;
  /** Knob → the values tried. */
  vary: Record<string, (number | string)[]>;
  /**
   * false: one knob at a time around the defaults (each knob's default is tried too);
   * true: every combination of the listed values (a full factorial, one group `k1×k2`).
   */
  cross?: boolean;
  /**
   * Clean-metric floors as fractions of no defense's validation clean metric, tried in order;
   * the first that admits a setting decides.
   */
  minClean: number[];
}

/** The stated rule's floors: 95% of no defense's clean metric, else 90%, else 85%. */
export const DEFAULT_FLOORS = [0.95, 0.9, 0.85];

/** `--vary lambdaCv=0.5,1,2` → ['lambdaCv', [0.5, 1, 2]]; numbers stay numbers. */
export function parseVary(expr: string): [string, (number | string)[]] {
  const eq = expr.indexOf('=');
  if (eq <= 0 || eq === expr.length - 1) throw new UserError(`--vary ${expr}: expected knob=v1,v2,…, e.g. --vary lambdaCv=0.5,1,2`);
  const values = expr
    .slice(eq + 1)
    .split(',')
    .map((v) => (v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v.trim()));
  return [expr.slice(0, eq), values];
}

/** One setting of the defense: its overrides of the defaults, and the run label they give. */
interface Setting {
  value: number | string;
  overrides: Record<string, unknown>;
  label: string;
}

/** The settings a sweep compares, grouped by what the chosen-value rule ranks together. */
function sweepGroups(spec: SweepSpec): { knob: string; settings: Setting[] }[] {
  const defense = getDefense(spec.defense);
  const defaults = parseWith(defense.schema, {}, `defense ${spec.defense} params`) as Record<string, unknown>;
  for (const [knob, values] of Object.entries(spec.vary)) {
    if (!(knob in defaults)) {
      throw new UserError(`--vary ${knob}: ${spec.defense} has no knob "${knob}"; its knobs: ${Object.keys(defaults).join(', ')}`);
    }
    for (const value of values) parseWith(defense.schema, { [knob]: value }, `--vary ${knob}=${value}`);
  }
  // Only values that differ from the defaults go into params and the label, so a setting equal
  // to the defaults is the defaults run (`pcr`), and one-knob labels read `pcr lambdaCv=4`.
  const setting = (value: number | string, chosen: Record<string, number | string>): Setting => {
    const overrides = Object.fromEntries(Object.entries(chosen).filter(([k, v]) => v !== defaults[k]));
    const label = [spec.defense, ...Object.entries(overrides).map(([k, v]) => `${k}=${v}`)].join(' ');
    return { value, overrides, label };
  };
  const knobs = Object.entries(spec.vary);
  if (!spec.cross) {
    return knobs.map(([knob, values]) => ({
      knob,
      settings: [...new Set([defaults[knob] as number | string, ...values])].map((v) => setting(v, { [knob]: v })),
    }));
  }
  let combos: Record<string, number | string>[] = [{}];
  for (const [knob, values] of knobs) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [knob]: v })));
  return [{ knob: knobs.map(([k]) => k).join('×'), settings: combos.map((c) => setting(Object.values(c).join('×'), c)) }];
}

/** The grid of a sweep: no defense, the defense at its defaults, and one run per other setting. */
export function sweepExperiment(base: ExperimentConfig, spec: SweepSpec): ExperimentConfig {
  const refs: PluginRef[] = [
    { id: 'none', params: {} },
    { id: spec.defense, params: {} },
  ];
  const seen = new Set(refs.map((r) => r.label ?? r.id));
  for (const { settings } of sweepGroups(spec)) {
    for (const s of settings) {
      if (seen.has(s.label)) continue;
      seen.add(s.label);
      refs.push({ id: spec.defense, params: s.overrides, label: s.label });
    }
  }
  return { ...base, name: `${base.name}-sweep-${spec.defense}`, defenses: refs };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * One point per task × group × setting (one-at-a-time: the default value included under every
 * knob), averaged over attacks and seeds, with the chosen setting per task × group marked by
 * the rule above.
 */
export function sweepPoints(records: RunRecord[], base: ExperimentConfig, spec: SweepSpec): SweepPoint[] {
  const defaults = parseWith(getDefense(spec.defense).schema, {}, `defense ${spec.defense} params`) as Record<string, unknown>;
  const points: SweepPoint[] = [];
  const ok = records.filter((r) => r.status === 'ok');
  for (const task of base.tasks) {
    const cleanName = `val ${task === 'caption' ? 'CIDEr-D' : 'VQA-acc'}`;
    const of = (defenseLabel: string) => ok.filter((r) => r.task === task && r.defense === defenseLabel);
    const none = of('none');
    if (none.length === 0) continue;
    const noneClean = mean(none.map((r) => r.metrics[cleanName]));
    for (const { knob, settings } of sweepGroups(spec)) {
      const group = settings.flatMap((s): SweepPoint[] => {
        const runs = of(s.label);
        if (runs.length === 0) return [];
        return [{
          knob,
          value: s.value,
          params: { ...defaults, ...s.overrides },
          task,
          valAsr: mean(runs.map((r) => r.metrics['val ASR'])),
          valClean: mean(runs.map((r) => r.metrics[cleanName])),
          chosen: false,
        }];
      });
      for (const floor of spec.minClean) {
        const eligible = group.filter((p) => p.valClean >= floor * noneClean);
        const best = eligible.sort((a, b) => a.valAsr - b.valAsr || b.valClean - a.valClean)[0];
        if (!best) continue;
        best.chosen = true;
        best.floor = floor;
        break;
      }
      points.push(...group.sort((a, b) => String(a.value).localeCompare(String(b.value), undefined, { numeric: true })));
    }
  }
  return points;
}

/** Run the sweep's grid (cached, resumable), then write sweep/sweep.json + sweep.csv and the report. */
export async function runSweep(
  base: ExperimentConfig,
  spec: SweepSpec,
  opts: { outDir: string; cacheDir: string; workers?: number; backend?: string },
): Promise<SweepPoint[]> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { runGrid } = await import('./runner.js');
  const { readRecords, writeReport } = await import('../../reports/write.js');
  const { toCsv } = await import('../core/csvText.js');
  const exp = sweepExperiment(base, spec);
  await runGrid(exp, opts);
  const points = sweepPoints(readRecords(opts.outDir), exp, spec);
  mkdirSync(join(opts.outDir, 'sweep'), { recursive: true });
  writeFileSync(join(opts.outDir, 'sweep', 'sweep.json'), JSON.stringify(points, null, 1));
  const header = ['task', 'knob', 'value', 'val ASR', 'val clean', 'chosen', 'floor met'];
  writeFileSync(
    join(opts.outDir, 'sweep', 'sweep.csv'),
    toCsv(header, points.map((p) => [p.task, p.knob, p.value, p.valAsr, p.valClean, p.chosen ? 'yes' : '', p.floor ?? ''])),
  );
  writeReport(opts.outDir, exp.name);
  return points;
}
