/**
 * Point labels that sit neither on each other nor on the points: a deterministic greedy pass.
 * Each label tries positions around its point, nearest first (right, left, above, below, then
 * rings further out, those joined to the point by a leader line), and takes the first whose
 * box stays inside the plot and overlaps no label placed before and no point. A label that
 * finds no place becomes a footnote: a small number tried at the same positions, its text
 * listed under the chart. Points go in the data's order, so a chart is the same on every run.
 */
import type { Plot } from './axis.js';
import { textWidth } from './svg.js';

export interface LabelledPoint {
  x: number;
  y: number;
  label: string;
}

export interface PlacedLabel {
  x: number;
  y: number;
  anchor: 'start' | 'end' | 'middle';
  /** The text drawn: the label, or its footnote number. */
  label: string;
  /** From the point to the label, when the label sits beyond the first ring. */
  leader?: { x1: number; y1: number; x2: number; y2: number };
}

export interface Placement {
  labels: PlacedLabel[];
  /** Labels that found no place, in footnote order (footnote k is drawn as "k"). */
  footnotes: string[];
}

export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Label height and point radius (plus a pixel of air) in px, at the charts' 10.5 px label font. */
const H = 11;
const POINT_R = 6;

export function labelBox(l: Pick<PlacedLabel, 'x' | 'y' | 'anchor' | 'label'>): Box {
  const w = textWidth(l.label);
  const x0 = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
  return { x0, y0: l.y - H + 2, x1: x0 + w, y1: l.y + 2 };
}

export const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
const inside = (a: Box, p: Plot) => a.x0 >= p.x && a.x1 <= p.x + p.w && a.y0 >= p.y && a.y1 <= p.y + p.h;

/**
 * Rings of candidate positions around a point: the first hugs it, later ones get a leader line.
 * A text label goes at most 56 px out (further, its leader is harder to follow than a
 * footnote); a footnote number, being small, may go further into the plot's free space.
 */
const RING_STEP = 14;
const TEXT_RINGS = 5;
const NUMBER_RINGS = 16;

function candidates(p: LabelledPoint, label: string, rings: number): PlacedLabel[] {
  const out: PlacedLabel[] = [];
  for (let k = 0; k < rings; k++) {
    const d = k * RING_STEP;
    const leader = d > 0;
    const ring: PlacedLabel[] = [
      { x: p.x + 7 + d, y: p.y + 4, anchor: 'start', label },
      { x: p.x - 7 - d, y: p.y + 4, anchor: 'end', label },
      { x: p.x, y: p.y - 8 - d, anchor: 'middle', label },
      { x: p.x, y: p.y + 16 + d, anchor: 'middle', label },
      { x: p.x + 7 + d, y: p.y - 8 - d, anchor: 'start', label },
      { x: p.x - 7 - d, y: p.y - 8 - d, anchor: 'end', label },
      { x: p.x + 7 + d, y: p.y + 16 + d, anchor: 'start', label },
      { x: p.x - 7 - d, y: p.y + 16 + d, anchor: 'end', label },
    ];
    for (const c of ring) out.push(leader ? { ...c, leader: leaderTo(p, labelBox(c)) } : c);
  }
  return out;
}

/** A line from the point's edge to the nearest point of the label's box. */
function leaderTo(p: LabelledPoint, b: Box): PlacedLabel['leader'] {
  const x2 = Math.min(Math.max(p.x, b.x0), b.x1);
  const y2 = Math.min(Math.max(p.y, b.y0), b.y1);
  const d = Math.hypot(x2 - p.x, y2 - p.y) || 1;
  return { x1: p.x + ((x2 - p.x) / d) * POINT_R, y1: p.y + ((y2 - p.y) / d) * POINT_R, x2, y2 };
}

export function placeLabels(points: LabelledPoint[], plot: Plot): Placement {
  const pointBoxes: Box[] = points.map((p) => ({ x0: p.x - POINT_R, y0: p.y - POINT_R, x1: p.x + POINT_R, y1: p.y + POINT_R }));
  const taken: Box[] = [];
  const labels: PlacedLabel[] = [];
  const footnotes: string[] = [];
  const free = (c: PlacedLabel) => {
    const b = labelBox(c);
    return inside(b, plot) && !taken.some((t) => overlaps(t, b)) && !pointBoxes.some((t) => overlaps(t, b));
  };
  for (const p of points) {
    let chosen = candidates(p, p.label, TEXT_RINGS).find(free);
    if (!chosen) {
      const n = String(footnotes.length + 1);
      footnotes.push(p.label);
      // Only a plot full to its edges leaves a number no room; then it goes beside its point regardless.
      const spots = candidates(p, n, NUMBER_RINGS);
      chosen = spots.find(free) ?? spots[0];
    }
    labels.push(chosen);
    taken.push(labelBox(chosen));
  }
  return { labels, footnotes };
}
