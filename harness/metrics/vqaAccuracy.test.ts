import { describe, expect, it } from 'vitest';
import { pyRound } from './pyString.js';
import { processDigitArticle, processPunctuation, vqaAccuracy, vqaEvaluate, vqaScore } from './vqaAccuracy.js';
import { loadReferenceVectors } from './referenceVectors.testutil.js';

const { vqa } = loadReferenceVectors();
const rep = (a: string, k: number) => new Array<string>(k).fill(a);

describe('VQA accuracy matches the official vqaEval', () => {
  it('has the 21 reference cases', () => expect(vqa).toHaveLength(21));
  vqa.forEach((c, i) => {
    it(`case ${i}: ${JSON.stringify(c.pred)} -> ${c.accuracy}`, () => {
      expect(vqaAccuracy(c.pred, c.answers)).toBe(c.accuracy);
    });
  });

  it('the documented examples', () => {
    expect(vqaAccuracy('no', [...rep('yes', 8), ...rep('no', 2)])).toBe(60);
    expect(vqaAccuracy('two', [...rep('2', 3), ...rep('3', 7)])).toBe(90);
    expect(vqaAccuracy('Yes', rep('yes', 10))).toBe(0);
  });

  it('cleans newlines, tabs and surrounding spaces even when annotators agree', () => {
    expect(vqaAccuracy(' yes\n', rep('yes', 10))).toBe(100);
    expect(vqaAccuracy('yes', [...rep('yes\t', 9), ' yes'])).toBe(100);
  });

  it('leaves out records by equality, like the Python dicts (distinct answer_ids)', () => {
    const answers = [...rep('yes', 8), 'no', 'no'].map((answer, i) => ({ answer, answer_confidence: 'yes', answer_id: i + 1 }));
    expect(vqaAccuracy('no', answers)).toBe(60);
    // Without ids the two "no" records are equal dicts, and the official code drops both.
    const noIds = [...rep('yes', 8), 'no', 'no'].map((answer) => ({ answer }));
    expect(vqaScore('no', noIds)).toBeCloseTo((8 * (2 / 3)) / 10, 12);
  });
});

describe('official answer normalisation', () => {
  it('processPunctuation deletes or spaces marks depending on the original text', () => {
    expect(processPunctuation('left-side')).toBe('left side');
    expect(processPunctuation('left - side')).toBe('left  side');
    expect(processPunctuation('10,000')).toBe('10000');
    // A digit-comma-digit anywhere deletes every mark, even between words.
    expect(processPunctuation('1,000 left-side')).toBe('1000 leftside');
  });

  it('periodStrip removes periods not followed by a digit, at most 32 of them', () => {
    expect(processPunctuation('st. louis 3.5.')).toBe('st louis 3.5');
    expect(processPunctuation('.'.repeat(40))).toBe('.'.repeat(8));
  });

  it('processDigitArticle maps number words, drops articles, restores contractions', () => {
    expect(processDigitArticle('The Two dogs')).toBe('2 dogs');
    expect(processDigitArticle('dont know')).toBe("don't know");
    expect(processDigitArticle('an apple  a day')).toBe('apple day');
    expect(processDigitArticle('constructor')).toBe('constructor');
  });
});

describe('vqaEvaluate aggregates like evaluate()', () => {
  it('averages unrounded per-question accuracies, overall and per answer type', () => {
    const items = [
      { pred: 'yes', answers: rep('yes', 10), answerType: 'yes/no', questionType: 'is the' },
      { pred: 'no', answers: [...rep('yes', 8), ...rep('no', 2)], answerType: 'yes/no', questionType: 'is the' },
      { pred: 'two', answers: [...rep('2', 3), ...rep('3', 7)], answerType: 'number', questionType: 'how many' },
    ];
    const r = vqaEvaluate(items);
    expect(r.n).toBe(3);
    expect(r.overall).toBe(pyRound((100 * (1 + 0.6 + 0.9)) / 3, 2));
    expect(r.overall).toBe(83.33);
    expect(r.perAnswerType).toEqual({ 'yes/no': 80, number: 90 });
    expect(r.perQuestionType).toEqual({ 'is the': 80, 'how many': 90 });
    expect(vqaEvaluate(items, { ndigits: null }).overall).toBeCloseTo(250 / 3, 10);
  });
});

describe('pyRound', () => {
  it('rounds half to even on exact ties, like Python round()', () => {
    expect(pyRound(0.125, 2)).toBe(0.12);
    expect(pyRound(0.375, 2)).toBe(0.38);
    expect(pyRound(2.5, 0)).toBe(2);
    expect(pyRound(-12.125, 2)).toBe(-12.12);
    expect(pyRound(2.675, 2)).toBe(2.67); // 2.675 is stored just below the tie
    expect(pyRound(89.99999999999999, 2)).toBe(90);
  });
});
