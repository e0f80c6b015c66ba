import { describe, expect, it } from 'vitest';
import { linearScale, niceStep, pointScale } from './axis.js';
import { esc, legend, svgDoc } from './svg.js';

describe('chart scales', () => {
  it('picks steps of 1, 2 or 5 × 10^k', () => {
    expect(niceStep(100, 5)).toBe(20);
    expect(niceStep(1, 5)).toBeCloseTo(0.2);
    expect(niceStep(0.37, 4)).toBeCloseTo(0.1);
    expect(niceStep(7, 5)).toBe(2);
    expect(niceStep(30, 5)).toBe(10);
  });

  it('widens the domain to whole steps covering the data, ticks on every step', () => {
    const s = linearScale(2.214, 2.355, 0, 100);
    expect(s.domain[0]).toBeLessThanOrEqual(2.214);
    expect(s.domain[1]).toBeGreaterThanOrEqual(2.355);
    expect(s.ticks.map((t) => t.label)).toEqual(['2.20', '2.25', '2.30', '2.35', '2.40']);
    expect(s.map(s.domain[0])).toBeCloseTo(0);
    expect(s.map(s.domain[1])).toBeCloseTo(100);
    // an inverted pixel range (SVG y grows downwards)
    const y = linearScale(0, 100, 300, 20);
    expect(y.map(0)).toBe(300);
    expect(y.map(100)).toBe(20);
    expect(y.ticks.map((t) => t.label)).toEqual(['0', '20', '40', '60', '80', '100']);
  });

  it('survives one value and no values, and keeps whole ticks with minStep', () => {
    const one = linearScale(5, 5, 0, 100);
    expect(one.map(5)).toBeCloseTo(50);
    const none = linearScale(Infinity, -Infinity, 0, 100);
    expect(none.domain).toEqual([0, 1]);
    expect(linearScale(1, 2, 0, 100, 5, 1).ticks.map((t) => t.label)).toEqual(['1', '2']);
  });

  it('places categories in the middle of equal slots', () => {
    const s = pointScale(['shuffle', 'noise'], 0, 100);
    expect([s.map(0), s.map(1)]).toEqual([25, 75]);
    expect(s.ticks.map((t) => t.label)).toEqual(['shuffle', 'noise']);
  });
});

describe('SVG helpers', () => {
  it('escape text and attributes', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    const svg = svgDoc({ chart: '"><script>' }, 10, 10, '<b>t</b>', '');
    expect(svg).not.toContain('<script>');
    expect(svg).not.toContain('<b>');
    expect(svg).toContain('data-chart="&quot;&gt;&lt;script&gt;"');
  });

  it('wraps a legend to a new row when it runs out of width', () => {
    const items = ['a long label one', 'a long label two', 'a long label three'].map((label) => ({ label, color: '#000' }));
    expect(legend(items, 0, 0, 1000).height).toBe(16);
    expect(legend(items, 0, 0, 150).height).toBe(48);
    expect(legend([], 0, 0, 100).height).toBe(0);
  });
});
