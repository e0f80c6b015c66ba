/**
 * The trade-off scatter of one task: ASR (y, lower is better) against the clean metric (x,
 * higher is better), one point per attack × defense (× model) at the mean over seeds with
 * 95%-interval whiskers, coloured and shaped by defense, labelled by attack (labels.ts keeps
 * labels apart; those that find no room are numbered and listed under the chart). A thin line
 * joins each defended point to the same attack's no-defense point, so a defense reads as a move
 * from it: down is less backdoor, left is lost clean performance. The oracle, when known, is a
 * dashed line.
 */
import type { Interval } from '../../harness/metrics/stats.js';
import type { PaperTable } from '../aggregate.js';
import { axes, linearScale, type Plot } from './axis.js';
import { placeLabels, type LabelledPoint } from './labels.js';
import { marker } from './markers.js';
import { attrs, esc, legend, seriesStyle, svgDoc, text, textWidth } from './svg.js';

interface Point {
  x: number;
  y: number;
  /** 95% intervals over seeds (absent for one seed): the whiskers. */
  xCi?: Interval;
  yCi?: Interval;
  defense: string;
  label: string;
  model: string;
  attack: string;
  baseline: boolean;
}

const W = 520;

/** Points drawn on top of each other (within 3 px) get one label listing them all. */
function mergeCoincident(points: LabelledPoint[]): LabelledPoint[] {
  const out: LabelledPoint[] = [];
  for (const p of points) {
    const same = out.find((q) => Math.hypot(q.x - p.x, q.y - p.y) < 3);
    if (!same) out.push({ ...p });
    else if (!same.label.split(', ').includes(p.label)) same.label += `, ${p.label}`;
  }
  return out;
}
const PLOT: Plot = { x: 58, y: 28, w: 440, h: 260 };

/** The footnotes of labels that found no room, as lines of "k label" entries within `width`. */
function footnoteLines(footnotes: string[], width: number): string[] {
  const lines: string[] = [];
  footnotes.forEach((f, i) => {
    const entry = `${i + 1} ${f}`;
    const last = lines.length - 1;
    if (last >= 0 && textWidth(`${lines[last]};  ${entry}`) <= width) lines[last] += `;  ${entry}`;
    else lines.push(entry);
  });
  return lines;
}

export function tradeoffChart(t: PaperTable): string {
  const multiModel = new Set(t.columns.map((c) => c.model)).size > 1;
  const points: Point[] = [];
  for (const r of t.rows)
    r.cells.forEach((cell, i) => {
      const c = t.columns[i];
      if (!cell.asr || !cell.clean) return;
      points.push({
        x: cell.clean.mean,
        y: cell.asr.mean,
        xCi: cell.clean.ci,
        yCi: cell.asr.ci,
        defense: c.defense,
        model: c.model,
        attack: r.attack,
        baseline: c.baseline,
        label: multiModel ? `${r.attack} (${c.model})` : r.attack,
      });
    });
  const defenses = [...new Set(t.columns.map((c) => c.defense))];
  const style = (d: string) => seriesStyle(defenses.indexOf(d));
  const color = (d: string) => style(d).color;
  const xs = points.flatMap((p) => (p.xCi ? [p.x, p.xCi.lo, p.xCi.hi] : [p.x]));
  if (t.oracle) xs.push(t.oracle.mean);
  // 4% air on each side, so points at the extremes do not sit on the frame.
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const air = 0.04 * (x1 - x0);
  const x = linearScale(Math.max(0, x0 - air), x1 + air, PLOT.x, PLOT.x + PLOT.w);
  const y = linearScale(0, 100, PLOT.y + PLOT.h, PLOT.y);
  const body: string[] = [axes(PLOT, x, y, `${t.cleanMetric} ↑ (clean test inputs)`, 'ASR (%) ↓')];
  if (points.length === 0) body.push(text(PLOT.x + PLOT.w / 2, PLOT.y + PLOT.h / 2, 'no successful runs', { 'text-anchor': 'middle', class: 'empty' }));
  if (t.oracle) {
    const ox = x.map(t.oracle.mean);
    body.push(`<line${attrs({ x1: ox, y1: PLOT.y, x2: ox, y2: PLOT.y + PLOT.h, class: 'oracle' })}/>`);
    body.push(text(ox - 4, PLOT.y + 12, 'oracle', { 'text-anchor': 'end', class: 'note-text' }));
  }
  for (const p of points) {
    if (p.baseline) continue;
    const base = points.find((b) => b.baseline && b.attack === p.attack && b.model === p.model);
    if (base) body.push(`<line${attrs({ x1: x.map(base.x), y1: y.map(base.y), x2: x.map(p.x), y2: y.map(p.y), stroke: color(p.defense), class: 'link' })}/>`);
  }
  for (const p of points) {
    const [cx, cy] = [x.map(p.x), y.map(p.y)];
    const c = color(p.defense);
    // The intervals are clipped to the metrics' ranges already (reports/aggregate.ts).
    if (p.xCi && p.xCi.hi > p.xCi.lo) body.push(`<line${attrs({ x1: x.map(p.xCi.lo), y1: cy, x2: x.map(p.xCi.hi), y2: cy, stroke: c, class: 'whisker' })}/>`);
    if (p.yCi && p.yCi.hi > p.yCi.lo) body.push(`<line${attrs({ x1: cx, y1: y.map(p.yCi.lo), x2: cx, y2: y.map(p.yCi.hi), stroke: c, class: 'whisker' })}/>`);
    const title = `<title>${esc(`${p.label} / ${p.defense}: ASR ${p.y.toFixed(1)}%, ${t.cleanMetric} ${p.x.toFixed(3)}`)}</title>`;
    body.push(marker(style(p.defense).marker, cx, cy, 4.5, { fill: c, class: 'point', 'data-attack': p.attack, 'data-defense': p.defense }, title));
  }
  const placed = placeLabels(mergeCoincident(points.map((p) => ({ x: x.map(p.x), y: y.map(p.y), label: p.label }))), PLOT);
  for (const l of placed.labels) {
    if (l.leader) body.push(`<line${attrs({ ...l.leader, class: 'leader' })}/>`);
    body.push(text(l.x, l.y, l.label, { 'text-anchor': l.anchor, class: 'point-label' }));
  }
  const leg = legend(
    defenses.map((d) => ({ label: d, ...style(d), mark: 'dot' as const })),
    PLOT.x,
    PLOT.y + PLOT.h + 54,
    PLOT.w,
  );
  body.push(leg.svg);
  const notesY = PLOT.y + PLOT.h + 54 + leg.height + 4;
  const notes = footnoteLines(placed.footnotes, PLOT.w);
  notes.forEach((line, i) => body.push(text(PLOT.x, notesY + 14 * i, line, { class: 'note-text', 'data-footnotes': i === 0 ? placed.footnotes.length : undefined })));
  const height = PLOT.y + PLOT.h + 48 + leg.height + (notes.length ? 14 * notes.length + 4 : 0);
  return svgDoc({ chart: 'tradeoff', task: t.task }, W, height, `${t.task}: ASR vs ${t.cleanMetric} per defense`, body.join(''));
}
