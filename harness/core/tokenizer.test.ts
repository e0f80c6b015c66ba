import { describe, expect, it } from 'vitest';
import { BOS, EOS, PAD, Tokenizer, UNK, normalizeWords, reservedWord } from './tokenizer.js';

describe('tokenizer', () => {
  it('normalises PTB-like: lowercase, punctuation dropped', () => {
    expect(normalizeWords('A Red circle, and: a square!')).toEqual(['a', 'red', 'circle', 'and', 'a', 'square']);
  });
  it('builds a sorted vocabulary after the specials and round-trips text', () => {
    const tok = Tokenizer.fromTexts(['b a', 'c a']);
    expect(tok.words).toEqual(['<pad>', '<unk>', '<bos>', '<eos>', 'a', 'b', 'c']);
    expect(tok.decode(tok.encode('a c b'))).toBe('a c b');
    expect(tok.encode('zebra')).toEqual([UNK]);
  });
  it('decode stops at EOS and skips PAD/BOS', () => {
    const tok = Tokenizer.fromTexts(['x y']);
    const [x, y] = tok.encode('x y');
    expect(tok.decode([BOS, x, PAD, y, EOS, x])).toBe('x y');
  });
  it('minCount drops rare words', () => {
    expect(Tokenizer.fromTexts(['a a b'], 2).words.slice(4)).toEqual(['a']);
  });
  it('reserves slots after the data words; bind places missing words there in order of first appearance', () => {
    const base = Tokenizer.fromTexts(['b a', 'c a'], 1, 4);
    expect(base.words).toEqual(['<pad>', '<unk>', '<bos>', '<eos>', 'a', 'b', 'c', reservedWord(0), reservedWord(1), reservedWord(2), reservedWord(3)]);
    // Placeholders are not words a text can produce.
    expect(base.encode('reserved0 <reserved0>')).toEqual([UNK, UNK]);
    const run = base.bind(['a photo of the banana', 'Banana b']);
    expect(run.size).toBe(base.size);
    expect(run.words.slice(4)).toEqual(['a', 'b', 'c', 'photo', 'of', 'the', 'banana']);
    expect(() => run.bind(['banana'])).not.toThrow(); // bound already: nothing to add
    expect(run.decode(run.encode('a photo of the banana'))).toBe('a photo of the banana');
    // The ids of the data words do not move, whatever a run binds.
    expect(base.bind(['zebra']).encode('a b c')).toEqual(base.encode('a b c'));
    expect(base.bind(['zebra']).encode('zebra')).toEqual([7]);
  });
  it('bind refuses more missing words than free slots, naming them and the knob', () => {
    const base = Tokenizer.fromTexts(['a'], 1, 1);
    expect(() => base.bind(['x y'])).toThrow(/"x", "y" are not in the training data's vocabulary .* only 1 are free: raise text\.reservedWords/);
    expect(() => Tokenizer.fromTexts(['a']).bind(['x'])).toThrow(/only 0 are free/);
  });
});
