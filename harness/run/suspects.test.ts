import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type { LabelledExample } from './examples.js';
import { removalQuality, scoreCollector, suspectCsv, suspectTables, suspicionAuroc } from './suspects.js';

const ex = (id: string, poisoned: boolean) => ({ id, poisoned }) as LabelledExample;

describe('suspicion scores', () => {
  const examples = [ex('a', false), ex('b', true), ex('c', false), ex('d', true)];
  const { sink, analysis } = scoreCollector();
  sink('pcr.invariance', 0, ['a', 'b', 'c', 'd'], [0.1, 0.4, 0.3, 0.2]); // d below c: AUROC 3/4
  sink('pcr.invariance', 1, ['a', 'b'], [0.1, 0.9]); // a batch of the epoch
  sink('pcr.invariance', 1, ['c'], [0.2]); // another batch; d unscored (viewFraction < 1)

  it('scores each epoch by AUROC against the poisoned examples', () => {
    expect(suspicionAuroc(suspectTables(analysis, examples))['pcr.invariance']).toEqual([
      { epoch: 0, n: 4, positives: 2, auroc: 0.75 },
      { epoch: 1, n: 3, positives: 1, auroc: 1 },
    ]);
  });

  it('ranks every example, most suspect first by the last epoch, unscored last, with the ground truth', () => {
    const [t] = suspectTables(analysis, examples);
    expect(t.name).toBe('pcr.invariance');
    expect(t.rows.map((r) => [r.id, r.poisoned])).toEqual([['b', true], ['c', false], ['a', false], ['d', true]]);
    const rows = parse(suspectCsv(t), { columns: true }) as Record<string, string>[];
    expect(rows[0]).toEqual({ rank: '1', id: 'b', poisoned: '1', 'epoch 0': '0.4', 'epoch 1': '0.9' });
    expect(rows[3]).toEqual({ rank: '4', id: 'd', poisoned: '1', 'epoch 0': '0.2', 'epoch 1': '' });
  });
});

describe('removalQuality', () => {
  it('precision and recall of a removed set against the poisoned ground truth', () => {
    const ex = ['a', 'b', 'c', 'd', 'e'].map((id, i) => ({ id, poisoned: i < 2 })) as unknown as LabelledExample[];
    expect(removalQuality(['a', 'c', 'd'], ex)).toEqual({ removed: 3, poisoned: 2, hits: 1, precision: 1 / 3, recall: 0.5 });
    expect(removalQuality([], ex)).toMatchObject({ removed: 0, hits: 0, recall: 0 });
    expect(removalQuality([], ex).precision).toBeNaN();
  });
});
