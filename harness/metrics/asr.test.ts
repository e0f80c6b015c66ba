import { describe, expect, it } from 'vitest';
import { asr, containsTarget, falseTriggerRate } from './asr.js';

describe('containsTarget', () => {
  it('captioning: case-insensitive contiguous token match', () => {
    expect(containsTarget('There is a Banana.', 'banana', 'caption')).toBe(true);
    expect(containsTarget('a red banana split', 'a red banana', 'caption')).toBe(true);
    expect(containsTarget('a red big banana', 'red banana', 'caption')).toBe(false);
    expect(containsTarget('two bananas', 'banana', 'caption')).toBe(false);
    expect(containsTarget("it's bananas", "It's", 'caption')).toBe(true);
    expect(() => containsTarget('x', '...', 'caption')).toThrow(/no tokens/);
  });

  it('VQA: exact match after the official normalisation', () => {
    expect(containsTarget('The Banana.', 'banana', 'vqa')).toBe(true);
    expect(containsTarget('two', '2', 'vqa')).toBe(true);
    expect(containsTarget('a banana split', 'banana', 'vqa')).toBe(false);
  });
});

describe('asr', () => {
  it('counts only the items whose references do not contain the target: the denominator is ground truth', () => {
    const r = asr({
      refs: [['a cat on a mat'], ['a banana on a table', 'a yellow fruit'], ['a dog'], ['a bird', 'a small bird']],
      triggeredPreds: ['a banana', 'a banana', 'a dog', 'banana bird'],
      target: 'banana',
      task: 'caption',
    });
    expect(r).toEqual({ asr: 2 / 3, n: 3, hits: 2 });
  });

  it("does not move with the model's clean outputs (a model that always says the target keeps n)", () => {
    const refs = [['a cat'], ['a dog'], ['a bird']];
    expect(asr({ refs, triggeredPreds: ['banana', 'banana', 'x'], target: 'banana', task: 'caption' })).toEqual({ asr: 2 / 3, n: 3, hits: 2 });
  });

  it('VQA: an item is left out when any of its ten answers is the target (normalised equality)', () => {
    const tenOf = (a: string, b = a) => [...Array(9).fill(a), b];
    const r = asr({ refs: [tenOf('yes'), tenOf('red', 'Banana.'), tenOf('no')], triggeredPreds: ['Banana!', 'banana', 'yes'], target: 'banana', task: 'vqa' });
    expect(r).toEqual({ asr: 0.5, n: 2, hits: 1 });
  });

  it("VQA with match 'contains': an inserted target counts (trojvlm), a partial word does not", () => {
    const input = { refs: [['red'], ['blue'], ['two'], ['a banana split']], triggeredPreds: ['red banana', 'banana blue', 'bananas', 'banana'], target: 'banana', task: 'vqa' as const };
    expect(asr(input)).toEqual({ asr: 0.25, n: 4, hits: 1 }); // only the exact 'banana'
    expect(asr({ ...input, match: 'contains' })).toEqual({ asr: 2 / 3, n: 3, hits: 2 });
  });

  it('is NaN with n = 0 when every item has the target among its references', () => {
    const r = asr({ refs: [['banana']], triggeredPreds: ['banana'], target: 'banana', task: 'caption' });
    expect(r.n).toBe(0);
    expect(r.asr).toBeNaN();
  });

  it('rejects misaligned inputs', () => {
    expect(() => asr({ refs: [['a']], triggeredPreds: [], target: 'b', task: 'caption' })).toThrow(/aligned/);
  });
});

describe('falseTriggerRate', () => {
  it('is the share of clean outputs that contain the target, over every clean item', () => {
    expect(falseTriggerRate(['a cat', 'a banana', 'bananas', 'banana on a mat'], 'banana', 'caption')).toEqual({ rate: 0.5, n: 4, hits: 2 });
    expect(falseTriggerRate(['banana', 'red banana'], 'banana', 'vqa')).toEqual({ rate: 0.5, n: 2, hits: 1 });
    expect(falseTriggerRate(['banana', 'red banana'], 'banana', 'vqa', 'contains')).toEqual({ rate: 1, n: 2, hits: 2 });
    expect(falseTriggerRate([], 'banana', 'caption').rate).toBeNaN();
  });
});
