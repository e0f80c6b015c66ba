import { describe, expect, it } from 'vitest';
import { longRows } from './longFormat.js';
import { record } from './records.testutil.js';

describe('long format', () => {
  it('one row per metric, with the removed set’s precision and recall where a defense removed examples', () => {
    const rows = longRows([record({ defense: 'remove', metrics: { ASR: 0.5 }, removal: { removed: 4, poisoned: 4, hits: 3, precision: 0.75, recall: 0.75 } })]);
    expect(rows.map((r) => [r.metric, r.value])).toEqual([
      ['ASR', 0.5],
      ['removal precision', 0.75],
      ['removal recall', 0.75],
      ['removal n', 4],
    ]);
    expect(longRows([record({ metrics: { ASR: null as unknown as number } })]).map((r) => r.value)).toEqual(['']);
  });
});
