/**
 * Scales and axes shared by every chart: a linear scale with "nice" ticks (steps of 1, 2 or
 * 5 × 10^k, domain widened to whole steps) and a point scale for categorical values, plus the
 * drawing of a plot's frame, grid, ticks and axis titles.
 */
import { attrs, esc, text } from './svg.js';

export interface Tick {
  at: number;
  label: string;
}

export interface Scale {
  map: (v: number) => number;
  ticks: Tick[];
  domain: [number, number];
}

/** The plotting area inside a chart, in SVG pixels. */
export interface Plot {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A step of 1, 2 or 5 × 10^k giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function decimalsOf(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

/**
 * A linear scale from data extent [lo, hi] to pixels [r0, r1]. A degenerate extent (one
 * value) is widened so the point sits mid-axis instead of dividing by zero. `minStep` keeps
 * ticks apart, e.g. 1 for whole epochs.
 */
export function linearScale(lo: number, hi: number, r0: number, r1: number, count = 5, minStep = 0): Scale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (lo > hi) [lo, hi] = [hi, lo];
  if (hi - lo < 1e-12) {
    const pad = Math.abs(lo) > 1e-12 ? Math.abs(lo) * 0.1 : 1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const step = Math.max(minStep, niceStep(hi - lo, count));
  const d0 = Math.floor(lo / step + 1e-9) * step;
  const d1 = Math.ceil(hi / step - 1e-9) * step;
  const dec = decimalsOf(step);
  const ticks: Tick[] = [];
  for (let i = 0; d0 + i * step <= d1 + step * 1e-6; i++) {
    const v = d0 + i * step;
    ticks.push({ at: v, label: (Math.abs(v) < step * 1e-6 ? 0 : v).toFixed(dec) });
  }
  const map = (v: number) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0);
  return { map, ticks, domain: [d0, d1] };
}

/** Evenly spaced positions for categories (index i ↦ slot i), with a half-slot margin. */
export function pointScale(categories: string[], r0: number, r1: number): Scale {
  const n = Math.max(1, categories.length);
  const slot = (r1 - r0) / n;
  const map = (i: number) => r0 + slot * (i + 0.5);
  return { map, ticks: categories.map((c, i) => ({ at: i, label: c })), domain: [0, n - 1] };
}

/**
 * Grid lines, tick labels and axis titles of a plot. Ticks mapped outside the plot (an x
 * scale whose range is inset from the frame) are left out.
 */
export function axes(plot: Plot, x: Scale, y: Scale, xTitle: string, yTitle: string): string {
  const out: string[] = [`<rect${attrs({ x: plot.x, y: plot.y, width: plot.w, height: plot.h, class: 'plot-bg' })}/>`];
  for (const t of y.ticks) {
    const py = y.map(t.at);
    out.push(`<line${attrs({ x1: plot.x, y1: py, x2: plot.x + plot.w, y2: py, class: 'grid' })}/>`);
    out.push(text(plot.x - 6, py + 3.5, t.label, { class: 'tick', 'text-anchor': 'end' }));
  }
  for (const t of x.ticks) {
    const pxv = x.map(t.at);
    if (pxv < plot.x - 0.5 || pxv > plot.x + plot.w + 0.5) continue;
    out.push(`<line${attrs({ x1: pxv, y1: plot.y, x2: pxv, y2: plot.y + plot.h, class: 'grid' })}/>`);
    out.push(text(pxv, plot.y + plot.h + 14, t.label, { class: 'tick', 'text-anchor': 'middle' }));
  }
  out.push(`<rect${attrs({ x: plot.x, y: plot.y, width: plot.w, height: plot.h, class: 'frame' })}/>`);
  out.push(text(plot.x + plot.w / 2, plot.y + plot.h + 31, xTitle, { class: 'axis-title', 'text-anchor': 'middle' }));
  const yx = plot.x - 40;
  const yy = plot.y + plot.h / 2;
  out.push(`<text${attrs({ x: yx, y: yy, class: 'axis-title', 'text-anchor': 'middle', transform: `rotate(-90 ${yx} ${yy})` })}>${esc(yTitle)}</text>`);
  return out.join('');
}
