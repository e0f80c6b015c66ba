/**
 * `mbb calibrate`: the poisoning rate at which each attack implants, chosen on the validation
 * split by a rule stated before anything runs (docs/calibration.md):
 *
 *   climb a ladder of poisoning rates (default 1, 2, 5, 10, 20%) over at least 3 seeds, without
 *   defense; the attack's setting is the smallest rung whose validation ASR has the lower end
 *   of its 95% t-interval over seeds ≥ 90%, while the validation clean metric (mean over seeds)
 *   keeps ≥ 95% of the clean model's: the same SFT on the unpoisoned split (rate 0).
 *
 * Where no rate implants it, an attack that declares stronger settings (attacks/types.ts
 * `strength`: BadNets' patch size, Blended's α, WaNet's s, …) climbs them at the top rate: the
 * ladder goes on as rate 20%, 20% with size 4, 20% with size 6. An attack that reaches no rung
 * is reported as such, with the rung that came closest (the highest lower bound among rungs
 * that keep the clean floor, else among all). Every rung is an ordinary run of the grid
 * (cached, resumable): the pre-trained model is shared by all rungs.
 *
 * The ladder is walked, not run whole: each task × model × attack starts at the middle rate
 * and steps down while the ASR criterion holds, up while it does not, and stops at the boundary
 * (the smallest rung that holds, or the top one failing). That finds the rule's rung assuming
 * the validation ASR does not fall as the rate (or the strength) rises, which every attack's
 * rate curve shows; on the default ladder it costs 2–3 rungs per attack instead of 5.
 * `everyRung` runs the whole ladder (the full curve, and a check of that assumption).
 */
import type { CalibrationRow } from '../../reports/calibration.js';
import type { ExperimentConfig, PluginRef } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import { refLabel, type RunSpec } from '../run/runSpec.js';
import { atRate } from '../plan/grid.js';
import { stat } from '../../reports/aggregate.js';
import type { RunRecord } from '../core/record.js';
import { getAttack } from '../../attacks/registry.js';

export interface CalibrationSpec {
  /** The ladder, climbed from the smallest rate. */
  rates: number[];
  /** Required lower end of the 95% interval of the validation ASR, as a fraction. */
  minAsr: number;
  /** Required validation clean metric as a fraction of the clean model's. */
  minCleanRatio: number;
  /** Run every rung even above a chosen one (default: stop climbing at the chosen rung). */
  everyRung?: boolean;
  /** Climb each attack's stronger settings above the top rate (default true). */
  strength?: boolean;
}

export const DEFAULT_LADDER = [0.01, 0.02, 0.05, 0.1, 0.2];
export const DEFAULT_RULE = { minAsr: 0.9, minCleanRatio: 0.95 };
/** Fewer seeds give no interval worth the name (t(0.975, 1) = 12.7). */
export const MIN_CALIBRATION_SEEDS = 3;
/** The label of the clean reference run (BadNets' pipeline at rate 0: nothing poisoned). */
export const CLEAN_LABEL = 'clean (rate 0)';

/** One rung of an attack's ladder: a poisoning rate, and above the top rate a stronger setting. */
export interface Rung {
  rate: number;
  strength?: { param: string; value: number };
}

/** How a rung's strength reads in the table and in its label: `size=4`, or '' at the attack's own setting. */
export const strengthText = (r: Rung) => (r.strength ? `${r.strength.param}=${r.strength.value}` : '');

/**
 * An attack's ladder: every rate, then (with `strength`) its declared stronger settings at the
 * top rate, those above the value the config gives it (or its default).
 */
export function attackLadder(a: PluginRef, rates: number[], strength = true): Rung[] {
  const ladder: Rung[] = rates.map((rate) => ({ rate }));
  const declared = strength ? getAttack(a.id).strength : undefined;
  if (!declared) return ladder;
  const given = a.params[declared.param] ?? (getAttack(a.id).schema.parse({}) as unknown as Record<string, unknown>)[declared.param];
  const top = rates[rates.length - 1];
  const above = declared.values.filter((v) => typeof given !== 'number' || v > given);
  return [...ladder, ...above.map((value) => ({ rate: top, strength: { param: declared.param, value } }))];
}

/** The attack at one rung: `atRate`'s label (`blended@0.2`), with the stronger setting appended (`blended@0.2+alpha=0.3`). */
export function atRung(a: PluginRef, r: Rung): PluginRef {
  const at = atRate(a, r.rate);
  if (!r.strength) return at;
  const set = { [r.strength.param]: r.strength.value };
  const perTask = at.perTask && Object.fromEntries(Object.entries(at.perTask).map(([task, params]) => [task, { ...params, ...set }]));
  return { ...at, params: { ...at.params, ...set }, ...(perTask ? { perTask } : {}), label: `${at.label}+${strengthText(r)}` };
}

const ascendingRates = (spec: CalibrationSpec) => [...new Set(spec.rates)].sort((a, b) => a - b);
const ladderOf = (a: PluginRef, spec: CalibrationSpec) => attackLadder(a, ascendingRates(spec), spec.strength ?? true);

/** The calibration grid: every attack at every rung, plus the clean reference; no defense. */
export function calibrationExperiment(base: ExperimentConfig, spec: CalibrationSpec): ExperimentConfig {
  if (base.seeds.length < MIN_CALIBRATION_SEEDS) {
    throw new UserError(`calibrate: seeds has ${base.seeds.length} seed(s); the rule needs ≥ ${MIN_CALIBRATION_SEEDS} for an interval, e.g. --set 'seeds=[1,2,3]'`);
  }
  if (spec.rates.length === 0 || spec.rates.some((r) => !(r > 0 && r <= 1))) {
    throw new UserError(`calibrate: --rates ${spec.rates.join(',')}: expected poisoning rates in (0, 1], e.g. --rates 0.01,0.02,0.05,0.1,0.2`);
  }
  const attacks: PluginRef[] = [
    { id: 'badnets', params: { rate: 0 }, label: CLEAN_LABEL },
    ...base.attacks.flatMap((a) => ladderOf(a, spec).map((r) => atRung(a, r))),
  ];
  return { ...base, name: `${base.name}-calibrate`, attacks, rates: undefined, defenses: [{ id: 'none', params: {} }] };
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** The calibration table from the grid's records, the rule above applied per task × model × attack. */
export function calibrationRows(records: RunRecord[], base: ExperimentConfig, spec: CalibrationSpec): CalibrationRow[] {
  const ok = records.filter((r) => r.status === 'ok' && r.defense === 'none');
  const rows: CalibrationRow[] = [];
  for (const task of base.tasks) {
    const cleanName = `val ${task === 'caption' ? 'CIDEr-D' : 'VQA-acc'}`;
    for (const model of base.models) {
      const of = (label: string) => ok.filter((r) => r.task === task && r.model === model && r.attack === label);
      const cleanRef = mean(of(CLEAN_LABEL).map((r) => r.metrics[cleanName]));
      for (const attack of base.attacks) {
        const rungs = ladderOf(attack, spec).flatMap((rung): CalibrationRow[] => {
          const runs = of(refLabel(atRung(attack, rung)));
          if (runs.length === 0) return [];
          // Clipped to [0, 100] as the tables clip it (the rule reads the lower end only).
          const asr = stat(runs.map((r) => 100 * r.metrics['val ASR']), [0, 100]);
          const valClean = mean(runs.map((r) => r.metrics[cleanName]));
          const cleanRatio = valClean / cleanRef;
          const lo = asr?.ci?.lo ?? NaN;
          return [{
            task,
            model,
            attack: refLabel(attack),
            rate: rung.rate,
            strength: strengthText(rung),
            n: asr?.n ?? 0,
            valAsr: asr?.mean ?? NaN,
            valAsrLo: lo,
            valAsrHi: asr?.ci?.hi ?? NaN,
            valClean,
            cleanRatio,
            meetsAsr: asr !== undefined && asr.n >= MIN_CALIBRATION_SEEDS && lo >= 100 * spec.minAsr,
            meetsClean: cleanRatio >= spec.minCleanRatio,
            verdict: '',
          }];
        });
        const chosen = rungs.find((r) => r.meetsAsr && r.meetsClean);
        if (chosen) chosen.verdict = 'chosen';
        else {
          const pool = rungs.some((r) => r.meetsClean) ? rungs.filter((r) => r.meetsClean) : rungs;
          const score = (x: CalibrationRow) => (Number.isFinite(x.valAsrLo) ? x.valAsrLo : -Infinity);
          const best = [...pool].sort((a, b) => score(b) - score(a) || b.valAsr - a.valAsr)[0];
          if (best) best.verdict = 'best';
        }
        rows.push(...rungs);
      }
    }
  }
  return rows;
}

export const CALIBRATION_COLUMNS = ['task', 'model', 'attack', 'rate', 'strength', 'n', 'val ASR mean (%)', 'val ASR lo (%)', 'val ASR hi (%)', 'val clean mean', 'clean ratio', 'meets ASR', 'meets clean', 'verdict'];

/**
 * The next rung (index into the attack's ladder) to run for each task × model × attack, from
 * the rows so far; a cell at its boundary has none. Stateless, so a killed walk resumes.
 */
export function nextRungs(rows: CalibrationRow[], base: ExperimentConfig, spec: CalibrationSpec): Map<string, number> {
  const rates = ascendingRates(spec);
  const next = new Map<string, number>();
  for (const task of base.tasks)
    for (const model of base.models)
      for (const a of base.attacks) {
        const attack = refLabel(a);
        const ladder = ladderOf(a, spec);
        const run = rows.filter((r) => r.task === task && r.model === model && r.attack === attack);
        // A rung some of whose seeds are missing (killed, failed) counts as not run: the walk
        // decides on complete rungs only, and completes a partial one when it reaches it.
        const holds = (i: number) => {
          const row = run.find((r) => r.rate === ladder[i].rate && r.strength === strengthText(ladder[i]));
          return row && row.n >= base.seeds.length ? row.meetsAsr : undefined;
        };
        const tried = ladder.map((_, i) => holds(i)).flatMap((h, i) => (h === undefined ? [] : [i]));
        const key = `${task}|${model}|${attack}`;
        if (tried.length === 0) {
          next.set(key, Math.floor((rates.length - 1) / 2)); // the middle rate
          continue;
        }
        const lowestHolding = tried.find((i) => holds(i));
        const step = lowestHolding !== undefined ? lowestHolding - 1 : Math.max(...tried) + 1;
        if (step >= 0 && step < ladder.length && holds(step) === undefined) next.set(key, step);
      }
  return next;
}

/**
 * Run the calibration grid's rungs: all at once with `everyRung`, else round by round, each
 * running every cell's next rung of the walk (the clean reference with the first round).
 * `runRound(only)` runs the grid's runs that `only` keeps (all without it); `records()` reads
 * the records so far.
 */
export async function climbLadder(
  base: ExperimentConfig,
  spec: CalibrationSpec,
  records: () => RunRecord[],
  runRound: (only?: (s: RunSpec) => boolean) => Promise<void>,
): Promise<void> {
  if (spec.everyRung) return runRound();
  const rungOf = new Map(base.attacks.flatMap((a) => ladderOf(a, spec).map((r, i) => [refLabel(atRung(a, r)), { attack: refLabel(a), index: i }] as const)));
  // A rung is probed once per invocation: one whose runs all failed leaves its cell there (the
  // records say why), instead of being run again and again.
  const probed = new Set<string>();
  for (let round = 0; ; round++) {
    const next = [...nextRungs(calibrationRows(records(), base, spec), base, spec)].filter(([cell, i]) => !probed.has(`${cell}|${i}`));
    if (next.length === 0) return;
    next.forEach(([cell, i]) => probed.add(`${cell}|${i}`));
    const rungFor = new Map(next);
    await runRound((s) => {
      const r = rungOf.get(refLabel(s.attack));
      return r === undefined ? refLabel(s.attack) === CLEAN_LABEL && round === 0 : rungFor.get(`${s.task}|${s.model}|${r.attack}`) === r.index;
    });
  }
}

/** Run the calibration grid (cached, resumable), then write calibration/calibration.{json,csv} and the report. */
export async function runCalibration(
  base: ExperimentConfig,
  spec: CalibrationSpec,
  opts: { outDir: string; cacheDir: string; workers?: number; backend?: string },
): Promise<CalibrationRow[]> {
  const { join } = await import('node:path');
  const { existsSync } = await import('node:fs');
  const { runGrid } = await import('./runner.js');
  const { writeFileAtomic } = await import('../core/atomicFile.js');
  const { readRecords, writeReport } = await import('../../reports/write.js');
  const { toCsv } = await import('../core/csvText.js');
  const exp = calibrationExperiment(base, spec);
  const records = () => (existsSync(join(opts.outDir, 'runs')) ? readRecords(opts.outDir) : []);
  await climbLadder(base, spec, records, async (only) => void (await runGrid(exp, { ...opts, only })));
  const rows = calibrationRows(readRecords(opts.outDir), base, spec);
  writeFileAtomic(join(opts.outDir, 'calibration', 'calibration.json'), JSON.stringify(rows, null, 1));
  const r = (v: number, d: number) => (Number.isFinite(v) ? Number(v.toFixed(d)) : '');
  writeFileAtomic(
    join(opts.outDir, 'calibration', 'calibration.csv'),
    toCsv(
      CALIBRATION_COLUMNS,
      rows.map((x) => [x.task, x.model, x.attack, x.rate, x.strength, x.n, r(x.valAsr, 1), r(x.valAsrLo, 1), r(x.valAsrHi, 1), r(x.valClean, 3), r(x.cleanRatio, 3), x.meetsAsr ? 'yes' : 'no', x.meetsClean ? 'yes' : 'no', x.verdict]),
    ),
  );
  writeReport(opts.outDir, exp.name);
  return rows;
}
