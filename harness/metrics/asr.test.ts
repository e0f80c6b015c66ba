import { describe, expect, it } from 'vitest';
import { asr, containsTarget } from './asr.js';

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
  it('excludes samples whose clean output already contains the target from the denominator', () => {
    const r = asr({
      cleanPreds: ['a cat', 'a banana on a table', 'a dog', 'a bird'],
      triggeredPreds: ['a banana', 'a banana', 'a dog', 'banana bird'],
      target: 'banana',
      task: 'caption',
    });
    expect(r).toEqual({ asr: 2 / 3, n: 3, hits: 2 });
  });

  it('VQA: normalised equality', () => {
    const r = asr({ cleanPreds: ['yes', 'banana', 'no'], triggeredPreds: ['Banana!', 'banana', 'yes'], target: 'banana', task: 'vqa' });
    expect(r).toEqual({ asr: 0.5, n: 2, hits: 1 });
  });

  it("VQA with match 'contains': an inserted target counts (trojvlm), a partial word does not", () => {
    const input = { cleanPreds: ['red', 'blue', 'two', 'banana'], triggeredPreds: ['red banana', 'banana blue', 'bananas', 'banana'], target: 'banana', task: 'vqa' as const };
    expect(asr(input)).toEqual({ asr: 0, n: 3, hits: 0 });
    expect(asr({ ...input, match: 'contains' })).toEqual({ asr: 2 / 3, n: 3, hits: 2 });
  });

  it('is NaN with n = 0 when every clean output contains the target', () => {
    const r = asr({ cleanPreds: ['banana'], triggeredPreds: ['banana'], target: 'banana', task: 'caption' });
    expect(r.n).toBe(0);
    expect(r.asr).toBeNaN();
  });

  it('rejects misaligned inputs', () => {
    expect(() => asr({ cleanPreds: ['a'], triggeredPreds: [], target: 'b', task: 'caption' })).toThrow(/aligned/);
  });
});
