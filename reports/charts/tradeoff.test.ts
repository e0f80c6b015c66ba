import { describe, expect, it } from 'vitest';
import { paperTables } from '../aggregate.js';
import { record } from '../records.testutil.js';
import { seriesStyle } from './svg.js';
import { tradeoffChart } from './tradeoff.js';

describe('trade-off chart', () => {
  it('draws each point’s 95% intervals over seeds as whiskers, none for a single seed', () => {
    const three = [0.8, 0.9, 1].map((asr, k) => record({ seed: k + 1, metrics: { ASR: asr, 'CIDEr-D': 2 + k / 10 } }));
    const svg = tradeoffChart(paperTables(three)[0]);
    expect(svg.match(/class="whisker"/g)).toHaveLength(2); // one point: an ASR and a clean whisker
    expect(tradeoffChart(paperTables([record({})])[0])).not.toContain('class="whisker"');
  });

  it('gives each of 12 defenses its own colour and marker pair: none/aug and pcr/jitter differ', () => {
    const ids = ['none', 'pcr', 'pcr-aug', 'pcr-cv', 'ft', 'fp', 'nad', 'abl', 'aug', 'jitter', 'remove', 'extra'];
    const styles = ids.map((_, i) => seriesStyle(i));
    expect(new Set(styles.map((s) => `${s.color} ${s.marker}`)).size).toBe(12);
    expect(new Set(Array.from({ length: 24 }, (_, i) => `${seriesStyle(i).color} ${seriesStyle(i).marker}`)).size).toBe(24);
    const svg = tradeoffChart(paperTables(ids.map((defense, i) => record({ defense, metrics: { ASR: 0.1 * (i % 5), 'CIDEr-D': 1 + i / 10 } })))[0]);
    /** The drawn point of a defense: its element, marker and colour. */
    const shapeOf = (d: string) => {
      const [, el, at] = new RegExp(`<(circle|path)([^>]*)data-defense="${d}"`).exec(svg)!;
      return `${el} ${/data-marker="([a-z-]+)"/.exec(at)?.[1] ?? ''} ${/fill="([^"]+)"/.exec(at)![1]}`;
    };
    expect(shapeOf('aug')).toBe(`path triangle ${seriesStyle(0).color}`); // none's colour, another shape
    expect(shapeOf('none')).not.toBe(shapeOf('aug'));
    expect(shapeOf('pcr')).not.toBe(shapeOf('jitter'));
  });
});
