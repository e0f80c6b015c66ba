import { describe, expect, it } from 'vitest';
import { onlyFilter } from './only.js';

const ids = ['caption__llava__sig__none__s1', 'caption__llava__sig__bye__s1', 'caption__llava__sig__none__s2', 'vqa__llava__sig__none__s1', 'caption__llava__pcr_w_o_aug__none__s1'];

describe('--only', () => {
  it('keeps the runs whose whole id a pattern matches, * standing for any characters', () => {
    const keep = (...p: string[]) => ids.filter(onlyFilter(p, ids));
    expect(keep('caption__llava__sig__none__s1')).toEqual(['caption__llava__sig__none__s1']);
    expect(keep('caption__*__none__s1')).toEqual(['caption__llava__sig__none__s1', 'caption__llava__pcr_w_o_aug__none__s1']);
    expect(keep('*__s2', 'vqa__*')).toEqual(['caption__llava__sig__none__s2', 'vqa__llava__sig__none__s1']);
    // whole ids only: a prefix is not a match, and regex characters in an id are literal
    expect(() => keep('caption__llava__sig__none')).toThrow(/--only caption__llava__sig__none: no run of this grid/);
    expect(() => keep('caption__llava__sig__none__s.')).toThrow(/no run of this grid/);
  });

  it('stops on a pattern that matches nothing, naming it, the nearest id and the form of an id', () => {
    expect(() => onlyFilter(['caption__llava__sig__none__s1', 'caption__llava__sig__nome__s1'], ids)).toThrow(
      /^--only caption__llava__sig__nome__s1: no run of this grid has a matching id \(5 runs, ids like caption__llava__sig__none__s1; nearest: caption__llava__sig__none__s1\); a pattern is a whole id, <task>__<model>__<attack>__<defense>__s<seed>, where \* stands for any characters$/,
    );
  });
});
