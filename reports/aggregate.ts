/**
 * Run records → the paper's tables: per task, rows = attack, columns = model × defense, each
 * with ASR (↓) and the clean metric (↑), mean ± std over seeds, and for every defended column
 * the DER against the same attack's `none` column of the same model. Pure data, no rendering.
 */
import { der } from '../harness/metrics/der.js';
import type { RunRecord } from '../harness/record.js';
import { attackId, configOrder, metricValue, poisonRate } from './recordFields.js';

export interface Stat {
  mean: number;
  std: number;
  n: number;
}

/** The defense every other one is measured against (DER, and the trade-off chart's arrows). */
export const BASELINE_DEFENSE = 'none';

export interface TableColumn {
  model: string;
  defense: string;
  label: string;
  /** True for the no-defense column, which has no DER. */
  baseline: boolean;
}

export interface TableCell {
  /** ASR in percent. */
  asr?: Stat;
  clean?: Stat;
  /** DER over the seeds this cell and its baseline both have; absent for the baseline. */
  der?: Stat;
  runs: number;
  failed: number;
}

/** Mean over attacks of the per-attack means; `attacks` says how many attacks had a value. */
export interface AverageCell {
  asr?: number;
  clean?: number;
  der?: number;
  attacks: { asr: number; clean: number; der: number };
}

export interface PaperTable {
  task: string;
  cleanMetric: string;
  columns: TableColumn[];
  rows: { attack: string; cells: TableCell[] }[];
  average: AverageCell[];
  oracle?: Stat;
}

export const CLEAN_METRIC: Record<string, string> = { caption: 'CIDEr-D', vqa: 'VQA-acc' };

export function cleanMetricOf(task: string): string {
  return CLEAN_METRIC[task] ?? 'score';
}

/** Sample mean and (n−1) standard deviation, ignoring NaN. */
export function stat(values: number[]): Stat | undefined {
  const xs = values.filter((v) => Number.isFinite(v));
  if (xs.length === 0) return undefined;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std, n: xs.length };
}

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
  const cell: TableCell = {
    asr: stat(ok.map((r) => 100 * metricValue(r, 'ASR'))),
    clean: stat(ok.map((r) => metricValue(r, cleanMetric))),
    runs: group.length,
    failed: group.length - ok.length,
  };
  if (baseline) {
    const bySeed = new Map(baseline.filter((r) => r.status === 'ok').map((r) => [r.seed, r]));
    cell.der = stat(ok.filter((r) => bySeed.has(r.seed)).map((r) => derOf(r, bySeed.get(r.seed)!, cleanMetric)));
  }
  return cell;
}

function mean(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

function averageOf(cells: TableCell[]): AverageCell {
  const of = (k: 'asr' | 'clean' | 'der') => cells.flatMap((c) => (c[k] ? [c[k]!.mean] : []));
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
    const rows = attackOrder(recs).map((attack) => {
      const of = (model: string, defense: string) => recs.filter((r) => r.attack === attack && r.model === model && r.defense === defense);
      return {
        attack,
        cells: columns.map((c) => {
          const baseline = c.baseline ? undefined : of(c.model, BASELINE_DEFENSE);
          return cellOf(of(c.model, c.defense), baseline?.length ? baseline : undefined, cleanMetric);
        }),
      };
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
