import { describe, expect, it } from 'vitest';
import { placeLabels, type PlacedLabel } from './labels.js';
import { textWidth } from './svg.js';

const box = (l: PlacedLabel) => {
  const w = textWidth(l.label);
  const x0 = l.anchor === 'start' ? l.x : l.anchor === 'end' ? l.x - w : l.x - w / 2;
  return { x0, x1: x0 + w, y0: l.y - 9, y1: l.y + 2 };
};

describe('point labels', () => {
  it('keeps labels of nearby points apart and inside the plot', () => {
    const plot = { x: 0, y: 0, w: 300, h: 200 };
    const points = [0, 1, 2, 3].map((i) => ({ x: 150, y: 100 + i * 2, label: `attack ${i}` }));
    const placed = placeLabels(points, plot);
    for (let i = 0; i < placed.length; i++) {
      const a = box(placed[i]);
      expect(a.x0).toBeGreaterThanOrEqual(0);
      expect(a.x1).toBeLessThanOrEqual(300);
      for (let j = 0; j < i; j++) {
        const b = box(placed[j]);
        expect(a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1).toBe(false);
      }
    }
  });

  it('puts a label at the right edge to the left of its point', () => {
    const [l] = placeLabels([{ x: 295, y: 100, label: 'wanet' }], { x: 0, y: 0, w: 300, h: 200 });
    expect(l.anchor).toBe('end');
  });
});
