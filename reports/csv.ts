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

export const COMPARISON_COLUMNS = [
  'model', 'attack', 'defense', 'reference', 'implanted', 'n',
  'ΔASR mean', 'ΔASR lo', 'ΔASR hi', 'ΔASR p', 'ΔASR p Holm',
  'Δclean rel mean', 'Δclean rel lo', 'Δclean rel hi', 'Δclean rel p', 'Δclean rel p Holm',
  'verdict',
] as const;

const r4 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '' : Number(v.toFixed(4)));

/** comparisons-<task>.csv: one row per model × attack × defense × reference (comparisons.ts). */
export function comparisonsCsv(cs: Comparison[]): string {
  return toCsv(
    [...COMPARISON_COLUMNS],
    cs.map((c) => [
      c.model,
      c.attack,
      c.defense,
      c.reference,
      c.implanted === undefined ? '' : c.implanted ? 'yes' : 'no',
      c.asr?.n ?? 0,
      r4(c.asr?.mean),
      r4(c.asr?.ci?.lo),
      r4(c.asr?.ci?.hi),
      r4(c.asr?.p),
      r4(c.asrPHolm),
      r4(c.clean?.mean),
      r4(c.clean?.ci?.lo),
      r4(c.clean?.ci?.hi),
      r4(c.clean?.p),
      r4(c.cleanPHolm),
      c.verdict,
    ]),
  );
}

export const SHUFFLED_COLUMNS = [
  'model', 'attack', 'defense', 'implanted', 'n',
  'ASR mean', 'ASR shuffled mean', 'Δ mean', 'Δ lo', 'Δ hi', 'Δ p', 'Δ p Holm', 'verdict',
] as const;

/** shuffled-<task>.csv: one row per cell with ASR shuffled (shuffledComparisons.ts); ASR in %, Δ = shuffled − intact in points. */
export function shuffledCsv(ss: ShuffledComparison[]): string {
  return toCsv(
    [...SHUFFLED_COLUMNS],
    ss.map((s) => [
      s.model,
      s.attack,
      s.defense,
      s.implanted === undefined ? '' : s.implanted ? 'yes' : 'no',
      s.diff?.n ?? 0,
      r4(s.intact?.mean),
      r4(s.shuffled.mean),
      r4(s.diff?.mean),
      r4(s.diff?.ci?.lo),
      r4(s.diff?.ci?.hi),
      r4(s.diff?.p),
      r4(s.pHolm),
      s.verdict,
    ]),
  );
}

export const ADAPTIVE_COLUMNS = [
  'model', 'attack', 'base', 'defense', 'targeted', 'n',
  'ASR mean', 'base ASR mean', 'ΔASR mean', 'ΔASR lo', 'ΔASR hi', 'ΔASR p', 'ΔASR p Holm', 'verdict',
  'ASR shuffled mean', 'base ASR shuffled mean',
] as const;

/** adaptive-<task>.csv: one row per adaptive attacker × column it is compared under (adaptiveComparisons.ts); ASR in %, Δ in points. */
export function adaptiveCsv(as: AdaptiveComparison[]): string {
  return toCsv(
    [...ADAPTIVE_COLUMNS],
    as.map((a) => [
      a.model,
      a.attack,
      a.base,
      a.defense,
      a.targeted ? 'yes' : 'no',
      a.diff?.n ?? 0,
      r4(a.asr?.mean),
      r4(a.baseAsr?.mean),
      r4(a.diff?.mean),
      r4(a.diff?.ci?.lo),
      r4(a.diff?.ci?.hi),
      r4(a.diff?.p),
      r4(a.pHolm),
      a.verdict,
      r4(a.shuffled?.mean),
      r4(a.baseShuffled?.mean),
    ]),
  );
}

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
