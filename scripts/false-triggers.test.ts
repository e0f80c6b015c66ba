import { describe, expect, it } from 'vitest';
import { evaluatedStage, wordSplits } from './false-triggers.js';
import { record } from '../reports/records.testutil.js';

describe('false-trigger attribution by word', () => {
  it('splits the false triggers by each word held by enough items, highest rate first', () => {
    const item = (text: string, hit: boolean) => ({ words: text.split(' '), hit });
    const items = [item('a yellow circle', true), item('a yellow square', true), item('a yellow cross and a red circle', false), item('a red square', false), item('a blue circle', true), item('a blue cross', false)];
    // "a" is in every item (no split); "and" is in one (below min 2)
    expect(wordSplits(items, 2)).toEqual([
      { word: 'circle', with: [2, 3], without: [1, 3] },
      { word: 'yellow', with: [2, 3], without: [1, 3] },
      { word: 'blue', with: [1, 2], without: [2, 4] },
      { word: 'square', with: [1, 2], without: [2, 4] },
      { word: 'cross', with: [0, 2], without: [3, 4] },
      { word: 'red', with: [0, 2], without: [3, 4] },
    ]);
    // a word counts once per item, however often it is said
    expect(wordSplits([item('red red', true), item('blue', false)], 1)).toEqual([
      { word: 'red', with: [1, 1], without: [0, 1] },
      { word: 'blue', with: [0, 1], without: [1, 1] },
    ]);
  });

  it('probes the SFT stage a record evaluated, and refuses a repaired or input-transformed run by name', () => {
    expect(evaluatedStage(record({ defenseStage: 'none' }), 'a.json')).toBe('backdoored');
    expect(evaluatedStage(record({ defense: 'abl', defenseStage: 'training' }), 'a.json')).toBe('defended');
    expect(() => evaluatedStage(record({ defense: 'jitter', defenseStage: 'inference' }), 'a.json')).toThrow(/a\.json: defense jitter acts at stage "inference"/);
    expect(() => evaluatedStage(record({ defense: 'ft', defenseStage: 'post' }), 'a.json')).toThrow(/stage "post"/);
    expect(() => evaluatedStage(record({ status: 'failed' }), 'a.json')).toThrow(/run r failed/);
  });
});
