/**
 * Point labels that do not sit on each other: each label tries a few positions around its
 * point (right, left, above, below, then further out) and takes the first whose box overlaps
 * no label placed before and stays inside the plot; if none fits, the first. Greedy, so the
 * result depends on the order of the points, which is the data's order: deterministic.
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
  label: string;
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const H = 11;

function boxOf(l: PlacedLabel): Box {
  const w = textWidth(l.label);
  const x0 = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
  return { x0, y0: l.y - H + 2, x1: x0 + w, y1: l.y + 2 };
}

const overlaps = (a: Box, b: Box) => a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
const inside = (a: Box, p: Plot) => a.x0 >= p.x && a.x1 <= p.x + p.w && a.y0 >= p.y && a.y1 <= p.y + p.h;

export function placeLabels(points: LabelledPoint[], plot: Plot): PlacedLabel[] {
  const placed: PlacedLabel[] = [];
  const boxes: Box[] = [];
  for (const p of points) {
    const candidates: PlacedLabel[] = [];
    for (const d of [0, 12, 24]) {
      candidates.push(
        { x: p.x + 7, y: p.y + 4 + d, anchor: 'start', label: p.label },
        { x: p.x - 7, y: p.y + 4 + d, anchor: 'end', label: p.label },
        { x: p.x, y: p.y - 8 - d, anchor: 'middle', label: p.label },
        { x: p.x, y: p.y + 16 + d, anchor: 'middle', label: p.label },
        { x: p.x + 7, y: p.y + 4 - d, anchor: 'start', label: p.label },
        { x: p.x - 7, y: p.y + 4 - d, anchor: 'end', label: p.label },
      );
    }
    const free = candidates.find((c) => inside(boxOf(c), plot) && !boxes.some((b) => overlaps(b, boxOf(c))));
    const chosen = free ?? candidates.find((c) => inside(boxOf(c), plot)) ?? candidates[0];
    placed.push(chosen);
    boxes.push(boxOf(chosen));
  }
  return placed;
}
