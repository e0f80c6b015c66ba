import { describe, expect, it } from 'vitest';
import { labelBox, overlaps, placeLabels, type Box } from './labels.js';

const plot = { x: 0, y: 0, w: 440, h: 260 };
const pointBox = (p: { x: number; y: number }): Box => ({ x0: p.x - 5, y0: p.y - 5, x1: p.x + 5, y1: p.y + 5 });

/** Every placed label inside the plot, off every other label and off every point. */
function expectClear(points: { x: number; y: number; label: string }[]) {
  const { labels } = placeLabels(points, plot);
  const boxes = labels.map(labelBox);
  boxes.forEach((a, i) => {
    expect(a.x0).toBeGreaterThanOrEqual(plot.x);
    expect(a.x1).toBeLessThanOrEqual(plot.x + plot.w);
    for (let j = 0; j < i; j++) expect(overlaps(a, boxes[j]), `${labels[i].label} on ${labels[j].label}`).toBe(false);
    for (const p of points) expect(overlaps(a, pointBox(p)), `${labels[i].label} on a point`).toBe(false);
  });
}

describe('point labels', () => {
  it('keeps labels of nearby points apart, off the points and inside the plot', () => {
    expectClear([0, 1, 2, 3].map((i) => ({ x: 150, y: 100 + i * 2, label: `attack ${i}` })));
  });

  it('puts a label at the right edge to the left of its point', () => {
    const { labels } = placeLabels([{ x: 435, y: 100, label: 'wanet' }], plot);
    expect(labels[0].anchor).toBe('end');
    expect(labels[0].leader).toBeUndefined();
  });

  it('a crowded corner (a smoke report: 77 points near the origin): leaders, then numbered footnotes, never an overlap; the same every time', () => {
    const attacks = ['badnets', 'blended', 'sig', 'wanet', 'trojvlm', 'dualkey', 'randpatch'];
    const points = attacks.flatMap((a, i) => Array.from({ length: 11 }, (_, d) => ({ x: 4 + ((i * 7 + d * 13) % 60), y: 250 - ((i * 3 + d * 5) % 14), label: a })));
    expectClear(points);
    const first = placeLabels(points, plot);
    expect(first.labels.some((l) => l.leader)).toBe(true);
    expect(first.footnotes.length).toBeGreaterThan(0);
    // Footnoted labels are drawn as their numbers, in order.
    expect(first.labels.filter((l) => /^\d+$/.test(l.label)).map((l) => l.label)).toEqual(first.footnotes.map((_, k) => String(k + 1)));
    expect(placeLabels(points, plot)).toEqual(first);
  });
});
