import { describe, expect, it } from 'vitest';
import { gmmCut, readSuspects } from './gmm-cut.js';

describe('the GMM cut on rankings already made', () => {
  // 10 of 50 examples far more suspect than the rest (suspicion −0.1 against about −1): 8 poisons and 2 clean ones.
  const text = [
    'rank,id,poisoned,epoch 1,epoch 2',
    ...Array.from({ length: 50 }, (_, i) => `${i + 1},ex${i},${i < 8 || i >= 48 ? 1 : 0},0,${i < 10 ? -0.1 - (i % 3) * 0.01 : -1 - (i % 7) * 0.02}`),
  ].join('\n');

  it('drops the more suspect mode of the last epoch, with precision and recall against the poisoned column', () => {
    const items = readSuspects(text, 'x.csv');
    expect(items).toHaveLength(50);
    const r = gmmCut(items);
    expect(r.separation).toBeGreaterThan(2);
    // dropped: ex0–ex9 (ex8, ex9 clean); poisons: ex0–ex7, ex48, ex49
    expect([r.removed, r.precision, r.recall]).toEqual([10, 0.8, 0.8]);
  });

  it('drops nothing from one mode, and says so with a NaN precision', () => {
    const r = gmmCut(Array.from({ length: 40 }, (_, i) => ({ id: `ex${i}`, poisoned: i === 0, score: -1 - i / 40 })));
    expect(r.separation).toBeLessThan(2);
    expect([r.removed, r.precision, r.recall]).toEqual([0, NaN, 0]);
  });

  it('refuses a file of another shape, or a line without a score, by name', () => {
    expect(() => readSuspects('model,attack\nllava,badnets', 'table.csv')).toThrow(/table\.csv: not a suspects file/);
    expect(() => readSuspects('rank,id,poisoned,epoch 2\n1,ex0,0,', 's.csv')).toThrow(/s\.csv: line 2 has no finite last-epoch score/);
  });
});
