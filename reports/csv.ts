/**
 * CSV tables with csv-stringify. Cells a spreadsheet would execute as a formula (starting with
 * =, +, -, @, tab or CR) are neutralised with a leading apostrophe, as OWASP recommends;
 * numbers stay numbers. Paper tables hold one number per CSV cell (mean and std in separate
 * columns, rounded as the HTML shows them) so a spreadsheet can compute with them.
 */
import { stringify } from 'csv-stringify/sync';
import type { PaperTable, Stat } from './aggregate.js';
import { roundFor } from './format.js';
import { LONG_COLUMNS, type LongRow } from './longFormat.js';

export function neutralise(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return stringify([header, ...rows].map((r) => r.map(neutralise)));
}

/** The ASR's name in headers (it is shown in percent). */
export const ASR_HEADER = 'ASR (%)';

/** The label of the average row, in the CSV and the HTML. */
export const AVERAGE_ROW = 'average';

/** CSV header names of one table column's metrics, shared with the HTML's data attributes. */
export function csvHeader(label: string, metric: string, part: 'mean' | 'std' | 'n' | 'failed'): string {
  return part === 'n' || part === 'failed' ? `${label} ${part}` : `${label} ${metric} ${part}`;
}

const meanStd = (s: Stat | undefined, metric: string) => (s ? [roundFor(s.mean, metric), s.n > 1 ? roundFor(s.std, metric) : ''] : ['', '']);
const one = (v: number | undefined, metric: string) => (v === undefined ? '' : roundFor(v, metric));

/**
 * The paper table as CSV: attack, then per column <label> ASR (%) mean/std, <clean metric>
 * mean/std, DER mean/std (defended columns), n (seeds with a result) and failed (runs); last
 * the average row (means over attacks, no std).
 */
export function paperTableCsv(t: PaperTable): string {
  const header = ['attack'];
  for (const c of t.columns) {
    for (const [metric, parts] of [
      [ASR_HEADER, ['mean', 'std']],
      [t.cleanMetric, ['mean', 'std']],
      ...(c.baseline ? [] : [['DER', ['mean', 'std']]]),
    ] as [string, ('mean' | 'std')[]][])
      for (const p of parts) header.push(csvHeader(c.label, metric, p));
    header.push(csvHeader(c.label, '', 'n'), csvHeader(c.label, '', 'failed'));
  }
  const rows: unknown[][] = t.rows.map((r) => [
    r.attack,
    ...r.cells.flatMap((cell, i) => [
      ...meanStd(cell.asr, 'ASR'),
      ...meanStd(cell.clean, t.cleanMetric),
      ...(t.columns[i].baseline ? [] : meanStd(cell.der, 'DER')),
      cell.asr?.n ?? 0,
      cell.failed,
    ]),
  ]);
  rows.push([
    AVERAGE_ROW,
    ...t.average.flatMap((a, i) => [
      one(a.asr, 'ASR'),
      '',
      one(a.clean, t.cleanMetric),
      '',
      ...(t.columns[i].baseline ? [] : [one(a.der, 'DER'), '']),
      '',
      t.rows.reduce((s, r) => s + r.cells[i].failed, 0),
    ]),
  ]);
  return toCsv(header, rows);
}

export function longCsv(rows: LongRow[]): string {
  const header = [...LONG_COLUMNS];
  return toCsv(header, rows.map((r) => header.map((h) => r[h] ?? '')));
}
