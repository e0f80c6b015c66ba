/**
 * One PCR knob's sweep on one task: validation ASR (left panel) and clean metric (right
 * panel) against the knob's value, the chosen value ringed and labelled. Numeric values sit
 * on a linear axis in value order; string values (e.g. the view's ops) are categories in the
 * order they first appear in the file.
 */
import { cleanMetricOf } from '../aggregate.js';
import { decimalsFor } from '../format.js';
import type { SweepPoint } from '../sweep.js';
import { axes, linearScale, pointScale, type Plot, type Scale } from './axis.js';
import { attrs, esc, seriesStyle, svgDoc, text } from './svg.js';

const W = 560;
const PANEL_W = 210;
/** Points keep this distance from the plot's left and right edges. */
const INSET = 14;
const PLOT_H = 200;
const TOP = 30;

function xScale(points: SweepPoint[], plot: Plot): { scale: Scale; at: (p: SweepPoint) => number; order: SweepPoint[] } {
  if (points.every((p) => typeof p.value === 'number')) {
    const vs = points.map((p) => p.value as number);
    const scale = linearScale(Math.min(...vs), Math.max(...vs), plot.x + INSET, plot.x + plot.w - INSET);
    return { scale, at: (p) => scale.map(p.value as number), order: [...points].sort((a, b) => (a.value as number) - (b.value as number)) };
  }
  const cats = [...new Set(points.map((p) => String(p.value)))];
  const scale = pointScale(cats, plot.x, plot.x + plot.w);
  return { scale, at: (p) => scale.map(cats.indexOf(String(p.value))), order: [...points].sort((a, b) => cats.indexOf(String(a.value)) - cats.indexOf(String(b.value))) };
}

function panel(all: SweepPoint[], plot: Plot, knob: string, yTitle: string, yOf: (p: SweepPoint) => number, fixed: [number, number] | undefined, color: string, decimals: number): string {
  // The x axis shows every value tried; a value without a result (NaN) has no point.
  const { scale: x, at } = xScale(all, plot);
  const points = all.filter((p) => Number.isFinite(yOf(p)));
  const { order } = xScale(points, plot);
  const ys = points.map(yOf);
  const y = linearScale(fixed ? fixed[0] : Math.min(...ys), fixed ? fixed[1] : Math.max(...ys), plot.y + plot.h, plot.y, 4);
  const out = [axes(plot, x, y, knob, yTitle)];
  out.push(`<path${attrs({ d: order.map((p, i) => `${i ? 'L' : 'M'}${at(p).toFixed(1)},${y.map(yOf(p)).toFixed(1)}`).join(''), stroke: color, class: 'series' })}/>`);
  for (const p of order) {
    const [cx, cy] = [at(p), y.map(yOf(p))];
    out.push(`<circle${attrs({ cx, cy, r: 3.5, fill: color, class: 'point' })}><title>${esc(`${knob} = ${p.value}: ${yTitle} ${yOf(p).toFixed(decimals)}`)}</title></circle>`);
    if (p.chosen) {
      out.push(`<circle${attrs({ cx, cy, r: 8, class: 'chosen', 'data-chosen': 'true' })}/>`);
      // Below the point when above it would leave the plot; anchored inwards near the sides.
      const anchor = cx > plot.x + plot.w - 24 ? 'end' : cx < plot.x + 24 ? 'start' : 'middle';
      out.push(text(anchor === 'end' ? cx + 8 : anchor === 'start' ? cx - 8 : cx, cy - 12 < plot.y + 10 ? cy + 21 : cy - 12, 'chosen', { 'text-anchor': anchor, class: 'point-label' }));
    }
  }
  return out.join('');
}

export function sweepChart(knob: string, task: string, points: SweepPoint[]): string {
  const metric = cleanMetricOf(task);
  const left: Plot = { x: 58, y: TOP, w: PANEL_W, h: PLOT_H };
  const right: Plot = { x: 58 + PANEL_W + 70, y: TOP, w: PANEL_W, h: PLOT_H };
  const body =
    panel(points, left, knob, 'val ASR (%) ↓', (p) => 100 * p.valAsr, [0, 100], seriesStyle(1).color, 1) +
    panel(points, right, knob, `val ${metric} ↑`, (p) => p.valClean, undefined, seriesStyle(0).color, decimalsFor(metric));
  return svgDoc({ chart: 'sweep', task, knob }, W, TOP + PLOT_H + 44, `PCR sweep of ${knob} (${task}, validation split)`, body);
}

/** One chart per knob × task, in the file's order. */
export function sweepCharts(points: SweepPoint[]): { knob: string; task: string; svg: string; chosen: SweepPoint | undefined }[] {
  const keys = [...new Set(points.map((p) => `${p.knob}\u0000${p.task}`))];
  return keys.map((k) => {
    const [knob, task] = k.split('\u0000');
    const pts = points.filter((p) => p.knob === knob && p.task === task);
    return { knob, task, svg: sweepChart(knob, task, pts), chosen: pts.find((p) => p.chosen) };
  });
}
