/**
 * The report's CSV tables (cells neutralised by harness/core/csvText.ts). Paper tables hold one
 * number per CSV cell (mean, interval bounds and std in separate columns, rounded as the HTML
 * shows them) so a spreadsheet can compute with them.
 */
import type { AdaptiveComparison } from './adaptiveComparisons.js';
import type { PaperTable, Stat } from './aggregate.js';
import { bestMarks, type BestMarks } from './best.js';
import type { Comparison } from './comparisons.js';
import { DETECTION_METRICS, type DetectionSummaryRow } from './detectionSummary.js';
import { roundFor } from './format.js';
import { LONG_COLUMNS, type LongRow } from './longFormat.js';
import type { ShuffledComparison } from './shuffledComparisons.js';
import type { PairedComparison } from '../harness/metrics/stats.js';
import { toCsv } from '../harness/core/csvText.js';


/** The ASR's name in headers (it is shown in percent). */
export const ASR_HEADER = 'ASR (%)';

/** The label of the average row, in the CSV and the HTML. */
export const AVERAGE_ROW = 'average';

/** The parts of a statistic in the CSV: mean, 95% interval bounds, sample sd. */
export const STAT_PARTS = ['mean', 'lo', 'hi', 'std'] as const;
export type StatPart = (typeof STAT_PARTS)[number];
/** Per-column counts: seeds with a result, failed runs, the mean per-run ASR denominator. */
export type CountPart = 'n' | 'failed' | 'ASR n';

/** CSV header names of one table column's metrics, shared with the HTML's data attributes. */
export function csvHeader(label: string, metric: string, part: StatPart | CountPart): string {
  return part === 'n' || part === 'failed' || part === 'ASR n' ? `${label} ${part}` : `${label} ${metric} ${part}`;
}

/** The CSV name of the false-trigger rate. */
export const FTR_HEADER = 'FTR (%)';

const statParts = (s: Stat | undefined, metric: string) =>
  s ? [roundFor(s.mean, metric), s.ci ? roundFor(s.ci.lo, metric) : '', s.ci ? roundFor(s.ci.hi, metric) : '', s.n > 1 ? roundFor(s.std, metric) : ''] : ['', '', '', ''];
const one = (v: number | undefined, metric: string) => (v === undefined ? '' : roundFor(v, metric));

/** The "best" columns of a row, per model: the leader's label, "tie", or '' (not ranked). */
function bestColumns(t: PaperTable): { header: string[]; values: (marks: BestMarks[]) => string[] } {
  const models = [...new Set(t.columns.map((c) => c.model))];
  const metrics = [['asr', 'ASR'], ['clean', t.cleanMetric], ['der', 'DER']] as const;
  const header = models.flatMap((m) => metrics.map(([, name]) => `${models.length > 1 ? `${m} ` : ''}best ${name}`));
  const values = (marks: BestMarks[]) =>
    models.flatMap((m) =>
      metrics.map(([k]) => {
        const i = t.columns.findIndex((c, j) => c.model === m && marks[j][k].mark !== '');
        if (i < 0) return '';
        return marks[i][k].mark === 'best' ? t.columns[i].label : 'tie';
      }),
    );
  return { header, values };
}

/**
 * The paper table as CSV: attack, implanted (yes/no), then per column <label> ASR (%), the
 * clean metric and (defended columns) DER, each as mean, lo, hi (95% t-interval over seeds)
 * and std; FTR (%) mean; ASR n (per-run denominator); n (seeds with a result); failed (runs);
 * then per model the best ASR / clean / DER column ("tie" where the leader is not significantly
 * ahead); last the average row (means over implanted attacks only).
 */
export function paperTableCsv(t: PaperTable): string {
  const header = ['attack', 'implanted'];
  for (const c of t.columns) {
    for (const metric of [ASR_HEADER, t.cleanMetric, ...(c.baseline ? [] : ['DER'])]) for (const p of STAT_PARTS) header.push(csvHeader(c.label, metric, p));
    header.push(csvHeader(c.label, FTR_HEADER, 'mean'), csvHeader(c.label, '', 'ASR n'), csvHeader(c.label, '', 'n'), csvHeader(c.label, '', 'failed'));
  }
  const best = bestColumns(t);
  header.push(...best.header);
  const marks = bestMarks(t);
  const rows: unknown[][] = t.rows.map((r, k) => [
    r.attack,
    r.implanted ? 'yes' : 'no',
    ...r.cells.flatMap((cell, i) => [
      ...statParts(cell.asr, 'ASR'),
      ...statParts(cell.clean, t.cleanMetric),
      ...(t.columns[i].baseline ? [] : statParts(cell.der, 'DER')),
      one(cell.ftr?.mean, 'ASR'),
      cell.asrN === undefined ? '' : Math.round(cell.asrN),
      cell.asr?.n ?? 0,
      cell.failed,
    ]),
    ...best.values(marks.rows[k]),
  ]);
  rows.push([
    AVERAGE_ROW,
    '',
    ...t.average.flatMap((a, i) => [
      one(a.asr, 'ASR'),
      '',
      '',
      '',
      one(a.clean, t.cleanMetric),
      '',
      '',
      '',
      ...(t.columns[i].baseline ? [] : [one(a.der, 'DER'), '', '', '']),
      '',
      '',
      '',
      t.rows.reduce((s, r) => s + r.cells[i].failed, 0),
    ]),
    ...best.header.map(() => ''),
  ]);
  return toCsv(header, rows);
}

/** A CSV column beside the getter that fills it, so a header and its value cannot drift apart. */
type Column<T> = readonly [header: string, value: (x: T) => unknown];

const columnsCsv = <T>(columns: readonly Column<T>[], items: readonly T[]) =>
  toCsv(
    columns.map(([h]) => h),
    items.map((x) => columns.map(([, value]) => value(x))),
  );

const r4 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '' : Number(v.toFixed(4)));
const yesNo = (b: boolean | undefined) => (b === undefined ? '' : b ? 'yes' : 'no');

/** `<name> mean, lo, hi, p, p Holm` of a paired difference (harness/metrics/stats.ts). */
function pairedColumns<T>(name: string, diff: (x: T) => PairedComparison | undefined, pHolm: (x: T) => number | undefined): Column<T>[] {
  return [
    [`${name} mean`, (x) => r4(diff(x)?.mean)],
    [`${name} lo`, (x) => r4(diff(x)?.ci?.lo)],
    [`${name} hi`, (x) => r4(diff(x)?.ci?.hi)],
    [`${name} p`, (x) => r4(diff(x)?.p)],
    [`${name} p Holm`, (x) => r4(pHolm(x))],
  ];
}

const COMPARISON_TABLE: Column<Comparison>[] = [
  ['model', (c) => c.model],
  ['attack', (c) => c.attack],
  ['defense', (c) => c.defense],
  ['reference', (c) => c.reference],
  ['implanted', (c) => yesNo(c.implanted)],
  ['n', (c) => c.asr?.n ?? 0],
  ...pairedColumns<Comparison>('ΔASR', (c) => c.asr, (c) => c.asrPHolm),
  ...pairedColumns<Comparison>('Δclean rel', (c) => c.clean, (c) => c.cleanPHolm),
  ['verdict', (c) => c.verdict],
];
export const COMPARISON_COLUMNS = COMPARISON_TABLE.map(([h]) => h);

/** comparisons-<task>.csv: one row per model × attack × defense × reference (comparisons.ts). */
export const comparisonsCsv = (cs: Comparison[]): string => columnsCsv(COMPARISON_TABLE, cs);

const SHUFFLED_TABLE: Column<ShuffledComparison>[] = [
  ['model', (s) => s.model],
  ['attack', (s) => s.attack],
  ['defense', (s) => s.defense],
  ['implanted', (s) => yesNo(s.implanted)],
  ['n', (s) => s.diff?.n ?? 0],
  ['ASR mean', (s) => r4(s.intact?.mean)],
  ['ASR shuffled mean', (s) => r4(s.shuffled.mean)],
  ...pairedColumns<ShuffledComparison>('Δ', (s) => s.diff, (s) => s.pHolm),
  ['verdict', (s) => s.verdict],
];
export const SHUFFLED_COLUMNS = SHUFFLED_TABLE.map(([h]) => h);

/** shuffled-<task>.csv: one row per cell with ASR shuffled (shuffledComparisons.ts); ASR in %, Δ = shuffled − intact in points. */
export const shuffledCsv = (ss: ShuffledComparison[]): string => columnsCsv(SHUFFLED_TABLE, ss);

const ADAPTIVE_TABLE: Column<AdaptiveComparison>[] = [
  ['model', (a) => a.model],
  ['attack', (a) => a.attack],
  ['base', (a) => a.base],
  ['defense', (a) => a.defense],
  ['targeted', (a) => yesNo(a.targeted)],
  ['n', (a) => a.diff?.n ?? 0],
  ['ASR mean', (a) => r4(a.asr?.mean)],
  ['base ASR mean', (a) => r4(a.baseAsr?.mean)],
  ...pairedColumns<AdaptiveComparison>('ΔASR', (a) => a.diff, (a) => a.pHolm),
  ['verdict', (a) => a.verdict],
  ['ASR shuffled mean', (a) => r4(a.shuffled?.mean)],
  ['base ASR shuffled mean', (a) => r4(a.baseShuffled?.mean)],
];
export const ADAPTIVE_COLUMNS = ADAPTIVE_TABLE.map(([h]) => h);

/** adaptive-<task>.csv: one row per adaptive attacker × column it is compared under (adaptiveComparisons.ts); ASR in %, Δ in points. */
export const adaptiveCsv = (as: AdaptiveComparison[]): string => columnsCsv(ADAPTIVE_TABLE, as);

/** detection-<task>.csv columns: per metric its mean, 95% interval, sd and n (seeds with a value). */
export const DETECTION_COLUMNS = ['model', 'attack', 'defense', 'score', ...DETECTION_METRICS.flatMap((m) => [...STAT_PARTS.map((p) => `${m} ${p}`), `${m} n`])];

/** detection-<task>.csv: one row per detecting defense's cell (detectionSummary.ts), fractions rounded as the pages show them. */
export function detectionCsv(rows: DetectionSummaryRow[]): string {
  return toCsv(
    DETECTION_COLUMNS,
    rows.map((r) => [r.model, r.attack, r.defense, r.score, ...DETECTION_METRICS.flatMap((m) => [...statParts(r.stats[m], m), r.stats[m]?.n ?? 0])]),
  );
}

export function longCsv(rows: LongRow[]): string {
  const header = [...LONG_COLUMNS];
  return toCsv(header, rows.map((r) => header.map((h) => r[h] ?? '')));
}
