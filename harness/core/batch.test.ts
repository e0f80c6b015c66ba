import { describe, expect, it } from 'vitest';
import { encodeText } from './batch.js';
import { BOS, EOS, PAD, Tokenizer } from './tokenizer.js';

describe('encodeText', () => {
  const tok = Tokenizer.fromTexts(['describe the image', 'a red circle']);
  it('lays out prompt <bos> response <eos> with shifted targets and response-only weights', () => {
    const e = encodeText(tok, 'describe the image', 'a red circle', 10);
    const p = tok.encode('describe the image');
    const r = tok.encode('a red circle');
    expect(Array.from(e.tokens)).toEqual([...p, BOS, ...r, EOS, PAD, PAD]);
    expect(Array.from(e.targets.slice(0, 7))).toEqual([...p.slice(1), BOS, ...r, EOS]);
    // Weighted positions predict the response tokens and EOS: BOS→a, a→red, red→circle, circle→EOS.
    expect(Array.from(e.weights)).toEqual([0, 0, 0, 1, 1, 1, 1, 0, 0, 0]);
    expect(e.bosAt).toBe(3);
  });
  it('truncates to fit the row, keeping BOS and EOS', () => {
    const e = encodeText(tok, 'describe the image', 'a red circle a red circle', 6);
    const ids = Array.from(e.tokens);
    expect(ids).toContain(BOS);
    expect(ids[ids.length - 1] === EOS || ids.includes(EOS)).toBe(true);
    expect(ids.length).toBe(6);
  });
});
