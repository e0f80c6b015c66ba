/**
 * Number formatting shared by the HTML, Markdown, CSV and SVG writers, so all show the same figures:
 * the CSV holds `roundFor(v)`, the HTML shows `fmt(v)` of the same value, and a test checks
 * that they agree.
 */
import type { MeanInterval } from '../harness/metrics/stats.js';
import type { Stat } from './aggregate.js';

/** Decimals per metric: percentages (ASR, VQA accuracy) with 1, CIDEr-D, DER and other ratios with 3. */
export function decimalsFor(metric: string): number {
  return metric.startsWith('ASR') || metric.startsWith('VQA') ? 1 : 3;
}

/** The value as shown, as a number (what the CSV stores). */
export function roundFor(v: number, metric: string): number {
  return Number(v.toFixed(decimalsFor(metric)));
}

export function fmt(v: number | undefined, metric: string): string {
  return v === undefined || !Number.isFinite(v) ? '' : v.toFixed(decimalsFor(metric));
}

/** The 95% interval as shown, "[lo, hi]", or '' without one (one seed). */
export function fmtInterval(s: Stat | undefined, metric: string): string {
  return s?.ci ? `[${fmt(s.ci.lo, metric)}, ${fmt(s.ci.hi, metric)}]` : '';
}

/** "mean [lo, hi]" with the 95% t-interval over seeds, or the mean alone for a single seed. */
export function fmtStat(s: Stat | undefined, metric: string): string {
  if (!s) return '';
  const ci = fmtInterval(s, metric);
  return ci ? `${fmt(s.mean, metric)} ${ci}` : fmt(s.mean, metric);
}

/** A difference with its sign always shown ("+1.0", "−1.0" with a true minus, "0.0", also for −0.04). */
export function fmtSigned(v: number, decimals: number): string {
  const digits = Math.abs(v).toFixed(decimals);
  const zero = Number(digits) === 0;
  return `${zero ? '' : v > 0 ? '+' : '−'}${digits}`;
}

/** A p-value as the comparisons show it: 3 decimals, "< 0.001" below that, '' when undefined. */
export function fmtP(p: number): string {
  return Number.isFinite(p) ? (p < 0.001 ? '< 0.001' : p.toFixed(3)) : '';
}

/**
 * A paired difference as "mean[unit] [lo, hi]", signed, after scaling (100 for a relative
 * change shown in percent); '' without one.
 */
export function fmtDifference(m: MeanInterval | undefined, scale: number, decimals: number, unit = ''): string {
  if (!m) return '';
  const ci = m.ci ? ` [${fmtSigned(scale * m.ci.lo, decimals)}, ${fmtSigned(scale * m.ci.hi, decimals)}]` : '';
  return `${fmtSigned(scale * m.mean, decimals)}${unit}${ci}`;
}

/** `fmtStat`, with "(n = k)" where the statistic's n differs from its row's `n` (a seed without a value). */
export function fmtStatWithN(s: Stat | undefined, metric: string, n: number): string {
  if (!s) return '—';
  return s.n === n ? fmtStat(s, metric) : `${fmtStat(s, metric)} (n = ${s.n})`;
}

/** A wall time as "42 s", "12 min 5 s" or "3 h 12 min". */
export function fmtDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
