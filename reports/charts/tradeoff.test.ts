import { describe, expect, it } from 'vitest';
import { paperTables } from '../aggregate.js';
import { record } from '../records.testutil.js';
import { tradeoffChart } from './tradeoff.js';

describe('trade-off chart', () => {
  it('draws each point’s 95% intervals over seeds as whiskers, none for a single seed', () => {
    const three = [0.8, 0.9, 1].map((asr, k) => record({ seed: k + 1, metrics: { ASR: asr, 'CIDEr-D': 2 + k / 10 } }));
    const svg = tradeoffChart(paperTables(three)[0]);
    expect(svg.match(/class="whisker"/g)).toHaveLength(2); // one point: an ASR and a clean whisker
    expect(tradeoffChart(paperTables([record({})])[0])).not.toContain('class="whisker"');
  });
});
