/**
 * ASR against the poisoning rate (the record's attackParams.rate), for one task and one
 * defense: one line per attack family (plugin id + trigger parameters, see attackFamily) and
 * model, mean over seeds with 95%-interval whiskers. Drawn only when the task's runs hold at least two
 * rates; `rateCharts` says so otherwise, so the reader knows why the chart is missing.
 */
import type { RunRecord } from '../../harness/core/record.js';
import { stat, uniq } from '../aggregate.js';
import { attackFamily, familyNames, metricValue, poisonRate } from '../recordFields.js';
import { axes, linearScale, type Plot } from './axis.js';
import { marker } from './markers.js';
import { attrs, esc, legend, seriesStyle, svgDoc } from './svg.js';

const W = 520;
const PLOT: Plot = { x: 58, y: 28, w: 440, h: 240 };
/** Points keep this distance from the frame's sides. */
const INSET = 12;

export interface RateCharts {
  /** The distinct rates of the task's successful runs, increasing. */
  rates: number[];
  charts: string[];
}

function rateChart(task: string, defense: string, records: RunRecord[], names: Map<string, string>): string {
  const multiModel = uniq(records.map((r) => r.model)).length > 1;
  const series = uniq(records.map((r) => `${attackFamily(r)}\u0000${r.model}`)).map((key) => {
    const [family, model] = key.split('\u0000');
    const runs = records.filter((r) => attackFamily(r) === family && r.model === model);
    const points = uniq(runs.map((r) => poisonRate(r)!))
      .sort((a, b) => a - b)
      .flatMap((rate) => {
        const s = stat(runs.filter((r) => poisonRate(r) === rate).map((r) => 100 * metricValue(r, 'ASR')), [0, 100]);
        return s ? [{ rate: 100 * rate, ...s }] : [];
      });
    return { label: multiModel ? `${names.get(family)} (${model})` : names.get(family)!, points };
  });
  const rates = series.flatMap((s) => s.points.map((p) => p.rate));
  const x = linearScale(Math.min(0, ...rates), Math.max(...rates), PLOT.x + INSET, PLOT.x + PLOT.w - INSET);
  const y = linearScale(0, 100, PLOT.y + PLOT.h, PLOT.y);
  const body = [axes(PLOT, x, y, 'poisoning rate (% of the training split)', 'ASR (%) ↓')];
  series.forEach((s, i) => {
    const { color, dash, marker: shape } = seriesStyle(i);
    const path = s.points.map((p, j) => `${j ? 'L' : 'M'}${x.map(p.rate).toFixed(1)},${y.map(p.mean).toFixed(1)}`).join('');
    if (s.points.length > 1) body.push(`<path${attrs({ d: path, stroke: color, 'stroke-dasharray': dash, class: 'series' })}/>`);
    for (const p of s.points) {
      const [cx, cy] = [x.map(p.rate), y.map(p.mean)];
      if (p.ci && p.ci.hi > p.ci.lo) body.push(`<line${attrs({ x1: cx, y1: y.map(p.ci.lo), x2: cx, y2: y.map(p.ci.hi), stroke: color, class: 'whisker' })}/>`);
      body.push(marker(shape, cx, cy, 3.5, { fill: color, class: 'point' }, `<title>${esc(`${s.label}, rate ${p.rate}%: ASR ${p.mean.toFixed(1)}% (n=${p.n})`)}</title>`));
    }
  });
  const leg = legend(
    series.map((s, i) => ({ label: s.label, ...seriesStyle(i) })),
    PLOT.x,
    PLOT.y + PLOT.h + 54,
    PLOT.w,
  );
  body.push(leg.svg);
  return svgDoc({ chart: 'rate', task, defense }, W, PLOT.y + PLOT.h + 48 + leg.height, `${task}, defense ${defense}: ASR vs poisoning rate`, body.join(''));
}

/** One chart per defense whose runs hold ≥ 2 rates, when the task's runs hold ≥ 2 rates. */
export function rateCharts(task: string, records: RunRecord[]): RateCharts {
  const ok = records.filter((r) => r.task === task && r.status === 'ok' && poisonRate(r) !== undefined);
  const rates = uniq(ok.map((r) => poisonRate(r)!)).sort((a, b) => a - b);
  if (rates.length < 2) return { rates, charts: [] };
  const names = familyNames(ok);
  const charts = uniq(ok.map((r) => r.defense))
    .map((d) => ok.filter((r) => r.defense === d))
    .filter((runs) => uniq(runs.map((r) => poisonRate(r))).length >= 2)
    .map((runs) => rateChart(task, runs[0].defense, runs, names));
  return { rates, charts };
}
