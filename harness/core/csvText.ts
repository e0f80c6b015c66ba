/**
 * CSV text with csv-stringify. Cells a spreadsheet would execute as a formula (starting with
 * =, +, -, @, tab or CR) are neutralised with a leading apostrophe, as OWASP recommends;
 * numbers stay numbers. Its own module, imported by the stages (suspicion scores) and the
 * reports alike, so that a stage's code hash does not reach the report code.
 */
import { stringify } from 'csv-stringify/sync';

export function neutralise(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

export function toCsv(header: string[], rows: unknown[][]): string {
  return stringify([header, ...rows].map((r) => r.map(neutralise)));
}
