/**
 * Number formatting shared by the HTML, CSV and SVG writers, so all show the same figures:
 * the CSV holds `roundFor(v)`, the HTML shows `fmt(v)` of the same value, and a test checks
 * that they agree.
 */
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
