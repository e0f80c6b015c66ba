/**
 * Run records → the paper's tables: per task, rows = attack, columns = model × defense, each
 * with ASR (↓) and the clean metric (↑) as a mean over seeds with its 95% Student-t interval,
 * and for every defended column the DER against the same attack's `none` column of the same
 * model, paired by seed. A row whose undefended ASR did not implant (mean < 50%) is flagged:
 * it says nothing about a defense, so it stays out of the average row and of "best".
 * Pure data, no rendering (docs/statistics.md).
 */
import { der } from '../harness/metrics/der.js';
import { tInterval, type Interval } from '../harness/metrics/stats.js';
import type { RunRecord } from '../harness/core/record.js';
import { attackId, configOrder, metricValue, poisonRate } from './recordFields.js';

/** A mean over seeds: its sample sd, its n and, for n ≥ 2, its 95% t-interval. */
export interface Stat {
  mean: number;
  std: number;
  n: number;
  ci?: Interval;
}

/** The defense every other one is measured against (DER, and the trade-off chart's arrows). */
export const BASELINE_DEFENSE = 'none';

/** Undefended mean ASR (%) below which an attack counts as not implanted. */
export const IMPLANT_THRESHOLD = 50;

export interface TableColumn {
  model: string;
  defense: string;
  label: string;
  /** True for the no-defense column, which has no DER. */
  baseline: boolean;
}

/** One seed's values of a cell (what paired comparisons pair). */
export interface SeedValues {
  asr: number;
  clean: number;
  der: number;
  /** ASR (%) on the patch-shuffled triggered inputs (`ASR shuffled`); NaN in records that lack it. */
  asrShuffled: number;
}

/** One metric of a cell by seed: what a paired comparison pairs. */
export function seedValues(cell: TableCell, metric: keyof SeedValues): Map<number, number> {
  return new Map([...cell.seeds].map(([s, v]) => [s, v[metric]]));
}

export interface TableCell {
  /** ASR in percent. */
  asr?: Stat;
  clean?: Stat;
  /** DER over the seeds this cell and its baseline both have; absent for the baseline. */
  der?: Stat;
  /** False-trigger rate in percent (clean outputs containing the target). */
  ftr?: Stat;
  /** ASR in percent on the patch-shuffled copy of the triggered inputs (harness/shuffledView.ts). */
  asrShuffled?: Stat;
  /** Mean per-run ASR denominator (triggered items whose references lack the target). */
  asrN?: number;
  /** The successful runs' values by seed. */
  seeds: Map<number, SeedValues>;
  runs: number;
  failed: number;
  /** Whether the attack implanted in this column's model (its baseline's mean ASR ≥ 50%); undefined without a baseline. */
  implanted?: boolean;
}

/** Mean over implanted attacks of the per-attack means; `attacks` says how many attacks had a value. */
export interface AverageCell {
  asr?: number;
  clean?: number;
  der?: number;
  attacks: { asr: number; clean: number; der: number };
}

export interface PaperRow {
  attack: string;
  cells: TableCell[];
  /** False when the attack implanted in none of the models with a baseline column. */
  implanted: boolean;
}

export interface PaperTable {
  task: string;
  cleanMetric: string;
  columns: TableColumn[];
  rows: PaperRow[];
  average: AverageCell[];
  oracle?: Stat;
}

/** Whether the column labelled `label` is defense `defense` (labels are model-prefixed when a table has several models). */
export function columnIs(t: PaperTable): (label: string, defense: string) => boolean {
  const columnOf = new Map(t.columns.map((c) => [c.label, c]));
  return (label, defense) => columnOf.get(label)?.defense === defense;
}

export const CLEAN_METRIC: Record<string, string> = { caption: 'CIDEr-D', vqa: 'VQA-acc' };

export function cleanMetricOf(task: string): string {
  return CLEAN_METRIC[task] ?? 'score';
}

/**
 * Sample mean, (n−1) standard deviation and 95% t-interval, ignoring NaN. The interval is
 * clipped to the metric's `range` (a t-interval of a bounded quantity can overshoot it).
 */
export function stat(values: number[], range: [number, number] = [-Infinity, Infinity]): Stat | undefined {
  const m = tInterval(values);
  if (!m) return undefined;
  const clip = (v: number) => Math.min(range[1], Math.max(range[0], v));
  return { mean: m.mean, std: m.sd, n: m.n, ...(m.ci ? { ci: { lo: clip(m.ci.lo), hi: clip(m.ci.hi) } } : {}) };
}

const PERCENT: [number, number] = [0, 100];

/** Where a clean metric's values can lie: VQA accuracy is a percentage, CIDEr-D only non-negative. */
const cleanRange = (cleanMetric: string): [number, number] => (cleanMetric === 'VQA-acc' ? PERCENT : [0, Infinity]);

export function uniq<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

/** DER of one defended run against the baseline run of the same seed (NaN if either lacks a value). */
function derOf(run: RunRecord, base: RunRecord, cleanMetric: string): number {
  return der({
    asrNone: metricValue(base, 'ASR'),
    asrDefense: metricValue(run, 'ASR'),
    cleanNone: metricValue(base, cleanMetric),
    cleanDefense: metricValue(run, cleanMetric),
  });
}

function cellOf(group: RunRecord[], baseline: RunRecord[] | undefined, cleanMetric: string): TableCell {
  const ok = group.filter((r) => r.status === 'ok');
  const bySeed = new Map((baseline ?? []).filter((r) => r.status === 'ok').map((r) => [r.seed, r]));
  const seeds = new Map<number, SeedValues>();
  for (const r of ok) {
    const base = bySeed.get(r.seed);
    seeds.set(r.seed, {
      asr: 100 * metricValue(r, 'ASR'),
      clean: metricValue(r, cleanMetric),
      der: base ? derOf(r, base, cleanMetric) : NaN,
      asrShuffled: 100 * metricValue(r, 'ASR shuffled'),
    });
  }
  const values = [...seeds.values()];
  const asrN = values.length ? ok.reduce((a, r) => a + metricValue(r, 'ASR n'), 0) / ok.length : undefined;
  const cell: TableCell = {
    asr: stat(values.map((v) => v.asr), PERCENT),
    clean: stat(values.map((v) => v.clean), cleanRange(cleanMetric)),
    ftr: stat(ok.map((r) => 100 * metricValue(r, 'FTR')), PERCENT),
    asrShuffled: stat(values.map((v) => v.asrShuffled), PERCENT),
    ...(asrN !== undefined && Number.isFinite(asrN) ? { asrN } : {}),
    seeds,
    runs: group.length,
    failed: group.length - ok.length,
  };
  if (baseline) cell.der = stat(values.map((v) => v.der), [0, 1]);
  return cell;
}

function mean(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

/** The average row's cell: attacks that did not implant in this column's model are left out. */
function averageOf(cells: TableCell[]): AverageCell {
  const of = (k: 'asr' | 'clean' | 'der') => cells.flatMap((c) => (c[k] && c.implanted !== false ? [c[k]!.mean] : []));
  return {
    asr: mean(of('asr')),
    clean: mean(of('clean')),
    der: mean(of('der')),
    attacks: { asr: of('asr').length, clean: of('clean').length, der: of('der').length },
  };
}

/**
 * Table rows: attack labels grouped by plugin (in the config's order, then first appearance),
 * and within a plugin by poisoning rate, so a rate sweep reads top-down whatever the file
 * names sort to.
 */
export function attackOrder(records: RunRecord[]): string[] {
  const ids = uniq([...configOrder(records, 'attacks'), ...records.map(attackId)]);
  const labels = uniq(records.map((r) => r.attack));
  const keyOf = (label: string) => {
    const r = records.find((x) => x.attack === label)!;
    return [ids.indexOf(attackId(r)), poisonRate(r) ?? 0, labels.indexOf(label)];
  };
  return labels.sort((a, b) => {
    const [ka, kb] = [keyOf(a), keyOf(b)];
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2];
  });
}

export function paperTables(records: RunRecord[]): PaperTable[] {
  return uniq(records.map((r) => r.task)).map((task) => {
    const recs = records.filter((r) => r.task === task);
    const cleanMetric = cleanMetricOf(task);
    const models = uniq(recs.map((r) => r.model));
    const columns: TableColumn[] = [];
    const listed = configOrder(recs, 'defenses');
    for (const model of models) {
      const present = new Set(recs.filter((r) => r.model === model).map((r) => r.defense));
      // The baseline first, so each model's block reads "before → after"; then the config's order.
      const defenses = uniq([BASELINE_DEFENSE, ...listed, ...present]).filter((d) => present.has(d));
      for (const defense of defenses)
        columns.push({ model, defense, label: models.length > 1 ? `${model} / ${defense}` : defense, baseline: defense === BASELINE_DEFENSE });
    }
    const rows = attackOrder(recs).map((attack): PaperRow => {
      const of = (model: string, defense: string) => recs.filter((r) => r.attack === attack && r.model === model && r.defense === defense);
      const cells = columns.map((c) => {
        const baseline = c.baseline ? undefined : of(c.model, BASELINE_DEFENSE);
        return cellOf(of(c.model, c.defense), baseline?.length ? baseline : undefined, cleanMetric);
      });
      // Implanted, per model: judged by that model's undefended mean ASR.
      const implantedIn = new Map<string, boolean>();
      columns.forEach((c, i) => c.baseline && cells[i].asr && implantedIn.set(c.model, cells[i].asr!.mean >= IMPLANT_THRESHOLD));
      columns.forEach((c, i) => implantedIn.has(c.model) && (cells[i].implanted = implantedIn.get(c.model)));
      return { attack, cells, implanted: implantedIn.size === 0 || [...implantedIn.values()].some(Boolean) };
    });
    const average = columns.map((_, i) => averageOf(rows.map((r) => r.cells[i])));
    // The oracle depends on the test split only, i.e. on the seed: one value per seed.
    const oracleValues = uniq(recs.filter((r) => r.oracle).map((r) => r.seed)).map((seed) => {
      const v = recs.find((r) => r.seed === seed && r.oracle)!.oracle![cleanMetric];
      return typeof v === 'number' ? v : NaN;
    });
    return { task, cleanMetric, columns, rows, average, oracle: stat(oracleValues) };
  });
}
