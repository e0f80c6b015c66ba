/**
 * SVG building blocks for the report's charts: escaping, the document element, text, the
 * series styles (colour, marker shape, dash) and a legend. Charts are strings spliced into the
 * HTML unescaped, so every piece of data that reaches an SVG goes through `esc` here: no other
 * escaping protects it.
 */
import { MARKERS, marker, type MarkerShape } from './markers.js';

/** Escapes text and attribute values for XML/HTML (both quote kinds, so any attribute is safe). */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Attributes from an object; numbers are rounded to 0.1 px to keep the page small. */
export function attrs(a: Record<string, string | number | undefined>): string {
  return Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${esc(typeof v === 'number' ? px(v) : v!)}"`)
    .join('');
}

export function px(v: number): string {
  return String(Math.round(v * 10) / 10);
}

export function text(x: number, y: number, s: string, a: Record<string, string | number | undefined> = {}): string {
  return `<text${attrs({ x, y, ...a })}>${esc(s)}</text>`;
}

/**
 * The root element. `data` becomes data-* attributes (the tests count charts by them); the
 * title is both drawn and given as <title> for screen readers.
 */
export function svgDoc(data: Record<string, string>, width: number, height: number, title: string, body: string): string {
  const dataAttrs = Object.fromEntries(Object.entries(data).map(([k, v]) => [`data-${k}`, v]));
  return (
    `<svg xmlns="http://www.w3.org/2000/svg"${attrs({ ...dataAttrs, viewBox: `0 0 ${px(width)} ${px(height)}`, width, height, role: 'img', class: 'chart' })}>` +
    `<title>${esc(title)}</title>` +
    text(8, 16, title, { class: 'chart-title' }) +
    body +
    '</svg>'
  );
}

/** Okabe–Ito, readable by colour-blind readers. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const DASHES = [undefined, '5 3', '2 2', '8 3 2 3'];

export interface SeriesStyle {
  color: string;
  marker: MarkerShape;
  dash?: string;
}

/**
 * Series i's colour, marker and (for lines) dash. Colours cycle through 8 and markers through
 * 6, so (colour, marker) pairs repeat only after lcm(8, 6) = 24 series, and two series of one
 * colour (0 and 8: none and aug in the default order) always differ in shape, and as lines in
 * dash too.
 */
export function seriesStyle(i: number): SeriesStyle {
  return { color: PALETTE[i % PALETTE.length], marker: MARKERS[i % MARKERS.length], dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length] };
}

export interface LegendItem {
  label: string;
  color: string;
  marker?: MarkerShape;
  dash?: string;
  /** 'line' for line series (a stroke with the marker on it), 'dot' for scatter series (the marker). */
  mark?: 'line' | 'dot';
}

/** Rough text width at the chart font size (11 px), for layout only. */
export function textWidth(s: string, fontSize = 11): number {
  return s.length * fontSize * 0.58;
}

/** A legend laid out left to right, wrapping at `width`; returns its SVG and its height. */
export function legend(items: LegendItem[], x: number, y: number, width: number): { svg: string; height: number } {
  const rowH = 16;
  let cx = x;
  let cy = y;
  const parts: string[] = [];
  for (const it of items) {
    const w = 22 + textWidth(it.label) + 14;
    if (cx > x && cx + w > x + width) {
      cx = x;
      cy += rowH;
    }
    const dot = marker(it.marker ?? 'circle', cx + 8, cy - 4, 4, { fill: it.color });
    const mark = it.mark === 'dot' ? dot : `<line${attrs({ x1: cx - 2, y1: cy - 4, x2: cx + 18, y2: cy - 4, stroke: it.color, 'stroke-width': 2, 'stroke-dasharray': it.dash })}/>${dot}`;
    parts.push(`<g class="legend-item">${mark}${text(cx + 22, cy, it.label)}</g>`);
    cx += w;
  }
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: items.length ? cy - y + rowH : 0 };
}
