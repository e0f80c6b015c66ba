/**
 * `mbb estimate`: how long a grid will take on this machine, from the timings in existing run
 * records. Each record gives seconds per unit of work for the stages it computed (not loaded
 * from the cache): pre-training and SFT per sample-epoch, a repair per training sample, an
 * evaluation per generated token (PlannedStage.units), per task × model family × variant (the
 * training-time defense for SFT, the defense for a repair). The grid's distinct stages
 * (planStages: one pre-training per chain, one SFT per attack × training-time defense, …) are
 * costed with those rates and scheduled as the runner does (schedule.ts, simulated). Whatever
 * was not measured is costed by a stated assumption.
 */
import type { RunSpec } from '../run/runSpec.js';
import type { ExperimentConfig } from '../config/schema.js';
import { evalUnits, expandGrid, planStages, splitSizes, type PlannedStage, type StageKind } from './grid.js';
import type { RunRecord } from '../core/record.js';
import { simulateWall } from './schedule.js';
import { RELATIVE_UNIT_COST } from './shard.js';
import { stableStringify } from '../core/hash.js';
import { UserError } from '../core/errors.js';
import type { Task } from '../core/types.js';

/** 42s, 3m05s, 2h07m: compact, fixed meaning, no locale. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The family whose measurements stand in for an unmeasured one (the first and default family). */
export const REFERENCE_FAMILY = 'llava';

interface Tally {
  seconds: number;
  units: number;
  records: number;
}

/** Seconds per unit, keyed `kind|task|family|variant`. */
export type Rates = Map<string, Tally>;

const rateKey = (kind: StageKind, task: string, family: string, variant: string) => `${kind}|${task}|${family}|${variant}`;

interface RecordConfig {
  exp?: ExperimentConfig;
  defense?: { id: string };
}

/** Measured rates from successful records; stages a record loaded from the cache say nothing about cost. */
export function measureRates(records: RunRecord[], stageOf: (defenseId: string) => string): Rates {
  const rates: Rates = new Map();
  const add = (kind: StageKind, r: RunRecord, variant: string, seconds: number | undefined, units: number) => {
    if (!(typeof seconds === 'number' && seconds > 0 && units > 0)) return;
    const k = rateKey(kind, r.task, r.model, variant);
    const t = rates.get(k) ?? { seconds: 0, units: 0, records: 0 };
    t.seconds += seconds;
    t.units += units;
    t.records++;
    rates.set(k, t);
  };
  for (const r of records) {
    const cfg = r.config as RecordConfig;
    if (r.status !== 'ok' || !cfg?.exp || !cfg.defense) continue;
    const exp = cfg.exp;
    const task = r.task as Task;
    // A real dataset without a limit: the record's training-set size stands in; its test size
    // is unknown, so its evaluation is not measured.
    const sizes = splitSizes(exp, task);
    const n = sizes?.train ?? r.trainSize;
    const defense = cfg.defense.id;
    const stage = stageOf(defense);
    if (r.cached.vision === false && exp.vision) add('vision', r, '', r.timings.vision, exp.vision.epochs * exp.vision.images);
    if (r.cached.pretrain === false) add('pretrain', r, '', r.timings.pretrain, exp.pretrain.epochs * (sizes?.pretrain ?? n));
    if (r.cached.sft === false) add('sft', r, stage === 'training' ? defense : 'none', r.timings.sft, exp.sft.epochs * n);
    // A probing defense (BYE) that trained the backdoored model itself: plain SFT, timed apart.
    if (r.cached.probe === false) add('sft', r, 'none', r.timings.probe, exp.sft.epochs * n);
    if (r.cached.repair === false) add('repair', r, defense, r.timings.repair, n);
    if (sizes) add('eval', r, '', (r.timings.eval ?? 0) + (r.timings.data ?? 0), evalUnits(exp, task, sizes));
  }
  return rates;
}

export interface EstimateRow {
  kind: StageKind;
  task: string;
  model: string;
  variant: string;
  count: number;
  secondsEach: number;
  seconds: number;
}

export interface Estimate {
  runs: number;
  stages: number;
  rows: EstimateRow[];
  /** Sum over all stages: the time on one worker. */
  totalSeconds: number;
  workers: number;
  /** The longest worker's share when whole chains are spread costliest-first over the workers. */
  wallSeconds: number;
  assumptions: string[];
}

/**
 * Seconds per unit of a stage, with the fallbacks in order: the exact measurement; for an
 * unmeasured model family, the reference family's; for an unmeasured training-time defense,
 * the costliest measured SFT variant (an upper bound); for an unmeasured repair, the mean of
 * the measured repairs, else half the plain-SFT rate; for an unmeasured task, the other task's.
 */
function rateFor(rates: Rates, s: PlannedStage, note: (a: string) => void): number {
  const get = (task: string, family: string, variant: string) => {
    const t = rates.get(rateKey(s.kind, task, family, variant));
    return t ? t.seconds / t.units : undefined;
  };
  const measured = (pred: (k: string[]) => boolean) =>
    [...rates].filter(([k]) => pred(k.split('|'))).map(([, t]) => t.seconds / t.units);
  const tasks = [s.task, ...new Set([...rates.keys()].map((k) => k.split('|')[1]).filter((t) => t !== s.task))];
  for (const task of tasks) {
    const taskNote = task === s.task ? '' : ` (no ${s.task} measurement: ${task}'s rate per unit)`;
    for (const family of s.model === REFERENCE_FAMILY ? [s.model] : [s.model, REFERENCE_FAMILY]) {
      const famNote = family === s.model ? '' : `${s.model}: not measured; costed as ${REFERENCE_FAMILY} per unit of work (same dims assumed)`;
      const exact = get(task, family, s.variant);
      const done = (rate: number, variantNote = '') => {
        if (famNote) note(famNote);
        if (variantNote) note(variantNote);
        if (taskNote) note(`${s.kind}${taskNote}`);
        return rate;
      };
      if (exact !== undefined) return done(exact);
      if (s.kind === 'sft') {
        const all = measured(([k, t, f]) => k === 'sft' && t === task && f === family);
        if (all.length) return done(Math.max(...all), `sft with ${s.variant}: not measured; costed as the costliest measured SFT variant (an upper bound)`);
      }
      if (s.kind === 'vision') {
        const pre = rates.get(rateKey('pretrain', task, family, ''));
        if (pre) return done((RELATIVE_UNIT_COST.vision * pre.seconds) / pre.units, `vision: not measured; costed as ${RELATIVE_UNIT_COST.vision} of a pre-training sample-epoch per image-epoch (the tower alone)`);
      }
      if (s.kind === 'repair') {
        const all = measured(([k, t, f]) => k === 'repair' && t === task && f === family);
        if (all.length) return done(all.reduce((a, b) => a + b, 0) / all.length, `repair ${s.variant}: not measured; costed as the mean of the measured repairs`);
        const sft = rates.get(rateKey('sft', task, family, 'none'));
        if (sft) {
          // A repair trains on a 5% clean pool for about 5–10 epochs: ≤ 0.5 sample-epochs per training sample.
          return done((0.5 * sft.seconds) / sft.units, `repair ${s.variant}: no repair measured; costed as 0.5 sample-epochs of plain SFT per training sample (5% clean pool × ≤ 10 epochs)`);
        }
      }
    }
  }
  throw new UserError(`estimate: no measured ${s.kind} stage in the records (none computed one, all loaded it from the cache); run a small grid first, e.g. mbb run --profile default`);
}

export function estimateGrid(
  exp: ExperimentConfig,
  records: RunRecord[],
  workers: number,
  stageOf: (defenseId: string) => string,
  probesBackdoored?: (r: RunSpec) => boolean,
): Estimate {
  const rates = measureRates(records, stageOf);
  if (rates.size === 0) throw new UserError('estimate: the records hold no usable timings (no successful run); run a grid first, e.g. mbb run --profile default');
  const runs = expandGrid(exp);
  for (const task of exp.tasks) {
    const run = runs.find((r) => r.task === task)!;
    if (!splitSizes(run.exp, task)) {
      throw new UserError(`estimate: ${task} uses data.kind "${run.exp.data.kind}", whose sizes only its files know; set data.limit (samples per split) to estimate it`);
    }
  }
  const stages = planStages(runs, stageOf, probesBackdoored);
  const notes = new Set<string>();
  const rows = new Map<string, EstimateRow>();
  const stageSeconds = new Map<string, number>();
  for (const s of stages) {
    const seconds = s.units * rateFor(rates, s, (a) => notes.add(a));
    const k = [s.kind, s.task, s.model, s.variant].join('|');
    const row = rows.get(k) ?? { kind: s.kind, task: s.task, model: s.model, variant: s.variant, count: 0, secondsEach: 0, seconds: 0 };
    row.count++;
    row.seconds += seconds;
    row.secondsEach = row.seconds / row.count;
    rows.set(k, row);
    stageSeconds.set(s.key, seconds);
  }
  // Measurements of another model size are used as they are: say so.
  const dims = new Set(records.filter((r) => r.status === 'ok').map((r) => stableStringify((r.config as RecordConfig).exp?.model)));
  for (const r of runs) {
    const d = stableStringify(r.exp.model);
    if (dims.size && !dims.has(d)) notes.add(`model dims ${d} were not measured; rates of ${[...dims].join(' / ')} used unscaled`);
  }
  const nWorkers = Math.max(1, Math.min(workers, runs.length));
  const totalSeconds = [...rows.values()].reduce((a, r) => a + r.seconds, 0);
  const wallSeconds = simulateWall(runs, stageOf, (key) => stageSeconds.get(key) ?? 0, nWorkers, probesBackdoored);
  return { runs: runs.length, stages: stages.length, rows: [...rows.values()], totalSeconds, workers: nWorkers, wallSeconds, assumptions: [...notes] };
}

/** The estimate as a text table, the total, and the assumptions. */
export function formatEstimate(e: Estimate, header: string): string {
  const table = [['stage', 'task', 'model', 'variant', 'count', 'each', 'total']];
  for (const r of e.rows) table.push([r.kind, r.task, r.model, r.variant || '-', String(r.count), formatDuration(r.secondsEach), formatDuration(r.seconds)]);
  const widths = table[0].map((_, c) => Math.max(...table.map((row) => row[c].length)));
  const lines = table.map((row) => row.map((cell, c) => (c >= 4 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd());
  return [
    header,
    `${e.runs} runs, ${e.stages} distinct stages`,
    '',
    ...lines,
    '',
    `total: ${formatDuration(e.totalSeconds)} of compute; wall time on ${e.workers} worker(s): ${formatDuration(e.wallSeconds)} (the runner's scheduling, simulated; total/${e.workers} = ${formatDuration(e.totalSeconds / e.workers)})`,
    ...(e.assumptions.length ? ['', 'assumptions:', ...e.assumptions.map((a) => `  - ${a}`)] : []),
    '',
  ].join('\n');
}
