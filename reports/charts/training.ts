/**
 * Training curves: the loss per epoch of one stage (pretrain, sft, …, as named in
 * record.trainLog) on one task. A stage shared by several runs (the cached pre-trained model of
 * every attack and defense; the backdoored model a post-training defense reuses) has one stage
 * key and is drawn once, labelled by the runs sharing it; the curves of one label are averaged
 * over seeds. Epochs are numbered from 1.
 */
import type { EpochLog, RunRecord } from '../../harness/core/record.js';
import { uniq } from '../aggregate.js';
import { axes, linearScale, type Plot } from './axis.js';
import { marker } from './markers.js';
import { attrs, esc, legend, seriesStyle, svgDoc } from './svg.js';

const W = 520;
const PLOT: Plot = { x: 58, y: 28, w: 440, h: 220 };
/** Points keep this distance from the frame's sides. */
const INSET = 12;

export interface Curve {
  label: string;
  /** Mean loss per epoch (index = epoch), over the seeds that logged that epoch. */
  loss: { epoch: number; loss: number; n: number }[];
}

function describe(runs: RunRecord[], all: RunRecord[]): string {
  const part = (get: (r: RunRecord) => string, what: string) => {
    const mine = uniq(runs.map(get));
    const every = uniq(all.map(get));
    return mine.length === every.length && every.length > 1 ? `all ${what}` : mine.join(', ');
  };
  const parts = [part((r) => r.attack, 'attacks'), part((r) => r.defense, 'defenses')];
  if (uniq(all.map((r) => r.model)).length > 1) parts.unshift(uniq(runs.map((r) => r.model)).join(', '));
  return parts.join(' · ');
}

/** The curves of one stage of one task's runs. */
export function stageCurves(records: RunRecord[], stage: string): Curve[] {
  const logOf = (r: RunRecord) => ((r.trainLog?.[stage]?.length ?? 0) > 0 ? r.trainLog[stage] : undefined);
  // A cached stage is logged only by the run that computed it; the runs that reused it (same
  // stage key) share its curve and its label, so a stage every run shares says so.
  const sharing = records.filter((r) => logOf(r) || r.keys?.[stage] !== undefined);
  const byKey = new Map<string, RunRecord[]>();
  for (const r of sharing) {
    const k = r.keys?.[stage] ?? r.id;
    byKey.set(k, [...(byKey.get(k) ?? []), r]);
  }
  const byLabel = new Map<string, EpochLog[][]>();
  for (const runs of byKey.values()) {
    const log = runs.map(logOf).find((l) => l !== undefined);
    if (!log) continue;
    const label = describe(runs, sharing);
    byLabel.set(label, [...(byLabel.get(label) ?? []), log]);
  }
  return [...byLabel].map(([label, logs]) => {
    const epochs = uniq(logs.flatMap((l) => l.map((e) => e.epoch))).sort((a, b) => a - b);
    return {
      label,
      loss: epochs.map((epoch) => {
        const xs = logs.flatMap((l) => l.filter((e) => e.epoch === epoch && Number.isFinite(e.loss)).map((e) => e.loss));
        return { epoch, loss: xs.reduce((a, b) => a + b, 0) / xs.length, n: xs.length };
      }).filter((p) => p.n > 0),
    };
  });
}

/** The stages logged by a task's runs, in the order runs logged them. */
export function stagesOf(records: RunRecord[]): string[] {
  return uniq(records.flatMap((r) => Object.keys(r.trainLog ?? {}).filter((s) => r.trainLog[s].length > 0)));
}

export function trainingChart(task: string, stage: string, records: RunRecord[]): string {
  const curves = stageCurves(records, stage);
  const epochs = curves.flatMap((c) => c.loss.map((p) => p.epoch + 1));
  const losses = curves.flatMap((c) => c.loss.map((p) => p.loss));
  // Whole epochs only; one epoch still gets an axis from 1 to 2 rather than 0.9 to 1.1.
  const x = linearScale(1, Math.max(2, ...epochs), PLOT.x + INSET, PLOT.x + PLOT.w - INSET, 5, 1);
  const y = linearScale(Math.min(...losses), Math.max(...losses), PLOT.y + PLOT.h, PLOT.y);
  const body = [axes(PLOT, x, y, 'epoch', 'training loss')];
  curves.forEach((c, i) => {
    const { color, dash, marker: shape } = seriesStyle(i);
    if (c.loss.length > 1)
      body.push(`<path${attrs({ d: c.loss.map((p, j) => `${j ? 'L' : 'M'}${x.map(p.epoch + 1).toFixed(1)},${y.map(p.loss).toFixed(1)}`).join(''), stroke: color, 'stroke-dasharray': dash, class: 'series' })}/>`);
    // Points only where a line cannot show the value (one epoch), or sparse curves.
    if (c.loss.length <= 12)
      for (const p of c.loss)
        body.push(marker(shape, x.map(p.epoch + 1), y.map(p.loss), 3, { fill: color, class: 'point' }, `<title>${esc(`${c.label}, epoch ${p.epoch + 1}: loss ${p.loss.toFixed(4)}`)}</title>`));
  });
  const leg = legend(
    curves.map((c, i) => ({ label: c.label, ...seriesStyle(i) })),
    PLOT.x,
    PLOT.y + PLOT.h + 54,
    PLOT.w,
  );
  body.push(leg.svg);
  return svgDoc({ chart: 'training', task, stage }, W, PLOT.y + PLOT.h + 48 + leg.height, `${task}: ${stage} loss per epoch (mean over seeds)`, body.join(''));
}
