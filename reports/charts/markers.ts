/**
 * Marker shapes for chart points and legends. Colour alone separates at most the palette's
 * eight series (svg.ts); a report with ten or more defenses needs a second cue that also
 * survives grey-scale printing and colour blindness, so every series gets a shape as well.
 * The shapes are filled and of about equal area, so that none looks heavier than another.
 */
import { attrs, px } from './svg.js';

export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'plus'] as const;
export type MarkerShape = (typeof MARKERS)[number];

type Attrs = Record<string, string | number | undefined>;

/** A closed path through the points, relative to (cx, cy), in units of r. */
function polygon(cx: number, cy: number, r: number, pts: [number, number][]): string {
  return `${pts.map(([dx, dy], i) => `${i ? 'L' : 'M'}${px(cx + dx * r)},${px(cy + dy * r)}`).join('')}Z`;
}

const PLUS_ARM = 0.42;
const SHAPES: Record<Exclude<MarkerShape, 'circle'>, [number, number][]> = {
  square: [
    [-0.89, -0.89],
    [0.89, -0.89],
    [0.89, 0.89],
    [-0.89, 0.89],
  ],
  triangle: [
    [0, -1.3],
    [1.15, 0.7],
    [-1.15, 0.7],
  ],
  diamond: [
    [0, -1.25],
    [1.25, 0],
    [0, 1.25],
    [-1.25, 0],
  ],
  'triangle-down': [
    [0, 1.3],
    [1.15, -0.7],
    [-1.15, -0.7],
  ],
  plus: [
    [-PLUS_ARM, -1.2],
    [PLUS_ARM, -1.2],
    [PLUS_ARM, -PLUS_ARM],
    [1.2, -PLUS_ARM],
    [1.2, PLUS_ARM],
    [PLUS_ARM, PLUS_ARM],
    [PLUS_ARM, 1.2],
    [-PLUS_ARM, 1.2],
    [-PLUS_ARM, PLUS_ARM],
    [-1.2, PLUS_ARM],
    [-1.2, -PLUS_ARM],
    [-PLUS_ARM, -PLUS_ARM],
  ],
};

/**
 * One marker of radius about `r` centred on (cx, cy); `a` adds attributes (fill, class, data-*)
 * and `inner` children (a <title>).
 */
export function marker(shape: MarkerShape, cx: number, cy: number, r: number, a: Attrs = {}, inner = ''): string {
  const el = shape === 'circle' ? `<circle${attrs({ cx, cy, r, ...a })}` : `<path${attrs({ d: polygon(cx, cy, r, SHAPES[shape]), 'data-marker': shape, ...a })}`;
  return inner ? `${el}>${inner}</${shape === 'circle' ? 'circle' : 'path'}>` : `${el}/>`;
}
