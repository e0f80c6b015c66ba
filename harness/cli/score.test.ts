import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.js';
import { scoreCaptionFiles, scoreVqaFiles } from './score.js';
import { loadReferenceVectors } from '../metrics/referenceVectors.testutil.js';

const { captions } = loadReferenceVectors();
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mbb-score-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Write `data` (JSON-encoded unless a string) to a fixture file and return its path. */
function fixture(name: string, data: unknown): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, typeof data === 'string' ? data : JSON.stringify(data));
  return p;
}

/** A COCO annotation file and results file for a reference caption set (integer ids). */
function cocoFiles(name: string, refs: Record<string, string[]>, preds: Record<string, string>) {
  const ids = Object.keys(refs);
  let annId = 0;
  const annotations = {
    info: {},
    images: ids.map((k, i) => ({ id: 100 + i, file_name: `${k}.png` })),
    annotations: ids.flatMap((k, i) => refs[k].map((caption) => ({ id: annId++, image_id: 100 + i, caption }))),
  };
  const results = ids.filter((k) => k in preds).map((k) => ({ image_id: 100 + ids.indexOf(k), caption: preds[k] }));
  return { refsPath: fixture(`${name}-refs.json`, annotations), predsPath: fixture(`${name}-preds.json`, results) };
}

/** Expect a one-line UserError whose message matches every pattern. */
function expectUserError(fn: () => unknown, ...patterns: RegExp[]): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(UserError);
  const msg = (caught as Error).message;
  expect(msg).not.toContain('\n');
  for (const p of patterns) expect(msg).toMatch(p);
}

describe('scoreCaptionFiles', () => {
  for (const v of captions) {
    it(`reproduces the reference scores of ${v.name} from COCO files`, () => {
      const { refsPath, predsPath } = cocoFiles(v.name, v.refs, v.preds);
      const s = scoreCaptionFiles(refsPath, predsPath);
      expect(s.n).toBe(Object.keys(v.preds).length);
      for (const k of ['CIDEr-D', 'BLEU-1', 'BLEU-2', 'BLEU-3', 'BLEU-4', 'ROUGE-L'] as const) {
        expect(Math.abs(s[k] - v.expected[k]), k).toBeLessThan(1e-6);
      }
    });
  }

  it('nlg-eval: CIDEr-D 1.242192', () => {
    const v = captions.find((c) => c.name === 'nlg-eval')!;
    const { refsPath, predsPath } = cocoFiles('nlg', v.refs, v.preds);
    expect(scoreCaptionFiles(refsPath, predsPath)['CIDEr-D']).toBeCloseTo(1.242192, 6);
  });

  it('scores only the images that have predictions', () => {
    const v = captions.find((c) => c.name === 'nlg-eval')!;
    const refs = { ...v.refs, extra: ['a reference of an image nobody predicted'] };
    const { refsPath, predsPath } = cocoFiles('subset', refs, v.preds);
    const s = scoreCaptionFiles(refsPath, predsPath);
    expect(s.n).toBe(2);
    expect(s['CIDEr-D']).toBeCloseTo(v.expected['CIDEr-D'], 9);
  });

  const refsOk = { images: [{ id: 1 }, { id: 2 }], annotations: [{ image_id: 1, caption: 'a cat' }, { image_id: 2, caption: 'a dog' }] };

  it('missing file', () => {
    const p = path.join(dir, 'nope.json');
    expectUserError(() => scoreCaptionFiles(p, p), /nope\.json: file not found; check the path/);
  });

  it('invalid JSON', () => {
    const refsPath = fixture('bad.json', '{"images": [');
    expectUserError(() => scoreCaptionFiles(refsPath, refsPath), /bad\.json: not valid JSON/, /COCO captions annotation file/);
  });

  it('wrong shape names the JSON path', () => {
    const preds = fixture('ok-preds.json', [{ image_id: 1, caption: 'a cat' }]);
    const badCaption = fixture('bad-caption.json', { ...refsOk, annotations: [...refsOk.annotations, { image_id: 1, caption: 7 }] });
    expectUserError(() => scoreCaptionFiles(badCaption, preds), /bad-caption\.json: annotations\[2\]\.caption must be a string \(got the number 7\)/);
    const noImages = fixture('no-images.json', { annotations: [] });
    expectUserError(() => scoreCaptionFiles(noImages, preds), /no-images\.json: images must be an array \(got nothing: the field is missing\)/);
    const notArray = fixture('preds-object.json', { image_id: 1, caption: 'x' });
    expectUserError(() => scoreCaptionFiles(fixture('refs-ok.json', refsOk), notArray), /preds-object\.json: the top level must be an array/, /COCO captions results file/);
    const badId = fixture('preds-badid.json', [{ image_id: 1.5, caption: 'x' }]);
    expectUserError(() => scoreCaptionFiles(fixture('refs-ok.json', refsOk), badId), /\[0\]\.image_id must be an integer or a string id \(got the number 1\.5\)/);
  });

  it('a prediction for an unknown image, duplicates, empty results', () => {
    const refsPath = fixture('refs-ok.json', refsOk);
    const unknown = fixture('preds-unknown.json', [{ image_id: 1, caption: 'a cat' }, { image_id: 3, caption: 'a bird' }]);
    expectUserError(() => scoreCaptionFiles(refsPath, unknown), /preds-unknown\.json: \[1\]\.image_id is 3, which is not an image of .*refs-ok\.json/);
    const asString = fixture('preds-string.json', [{ image_id: '1', caption: 'a cat' }]);
    expectUserError(() => scoreCaptionFiles(refsPath, asString), /is "1", which is not an image/);
    const dup = fixture('preds-dup.json', [{ image_id: 1, caption: 'a cat' }, { image_id: 1, caption: 'a dog' }]);
    expectUserError(() => scoreCaptionFiles(refsPath, dup), /\[1\]\.image_id repeats 1 already predicted at \[0\]/);
    const empty = fixture('preds-empty.json', []);
    expectUserError(() => scoreCaptionFiles(refsPath, empty), /preds-empty\.json: the top level is an empty array/);
  });

  it('an image without reference captions', () => {
    const refsPath = fixture('refs-nocap.json', { images: [{ id: 1 }, { id: 2 }], annotations: [{ image_id: 1, caption: 'a cat' }] });
    const preds = fixture('preds-2.json', [{ image_id: 2, caption: 'a dog' }]);
    expectUserError(() => scoreCaptionFiles(refsPath, preds), /refs-nocap\.json: annotations has no caption for image 2/);
  });
});

describe('scoreVqaFiles', () => {
  const rep = (a: string, k: number) => new Array<string>(k).fill(a);
  const qs = [
    { qid: 11, img: 1, type: 'yes/no', qtype: 'is the', answers: rep('yes', 10), pred: 'yes' },
    { qid: 12, img: 1, type: 'yes/no', qtype: 'is the', answers: [...rep('yes', 8), ...rep('no', 2)], pred: 'no' },
    { qid: 13, img: 2, type: 'number', qtype: 'how many', answers: [...rep('2', 3), ...rep('3', 7)], pred: 'two' },
    { qid: 14, img: 2, type: 'other', qtype: 'what color', answers: rep('red', 10), pred: 'Red' },
  ];
  const questions = { questions: qs.map((q) => ({ question_id: q.qid, image_id: q.img, question: `q${q.qid}?` })) };
  const annotations = {
    annotations: qs.map((q) => ({
      question_id: q.qid,
      image_id: q.img,
      answer_type: q.type,
      question_type: q.qtype,
      multiple_choice_answer: q.answers[0],
      answers: q.answers.map((answer, j) => ({ answer, answer_confidence: 'yes', answer_id: j + 1 })),
    })),
  };
  const results = qs.map((q) => ({ question_id: q.qid, answer: q.pred }));

  it('official accuracy overall and per answer type', () => {
    const s = scoreVqaFiles(fixture('q.json', questions), fixture('a.json', annotations), fixture('r.json', results));
    expect(s).toEqual({ n: 4, accuracy: 62.5, perAnswerType: { 'yes/no': 80, number: 90, other: 0 } });
  });

  it('scores the subset of questions that have predictions', () => {
    const s = scoreVqaFiles(fixture('q.json', questions), fixture('a.json', annotations), fixture('r2.json', results.slice(0, 2)));
    expect(s).toEqual({ n: 2, accuracy: 80, perAnswerType: { 'yes/no': 80 } });
  });

  it('bad input', () => {
    const q = fixture('q.json', questions);
    const a = fixture('a.json', annotations);
    const r = fixture('r.json', results);
    expectUserError(() => scoreVqaFiles(path.join(dir, 'missing-q.json'), a, r), /missing-q\.json: file not found/, /VQA v2 questions file/);
    expectUserError(() => scoreVqaFiles(q, fixture('a-bad.json', 'nope'), r), /a-bad\.json: not valid JSON/);
    const badAnswer = structuredClone(annotations);
    (badAnswer.annotations[1].answers[4] as Record<string, unknown>).answer = null;
    expectUserError(() => scoreVqaFiles(q, fixture('a-null.json', badAnswer), r), /a-null\.json: annotations\[1\]\.answers\[4\]\.answer must be a string \(got null\)/);
    const noType = structuredClone(annotations) as { annotations: Record<string, unknown>[] };
    delete noType.annotations[0].answer_type;
    expectUserError(() => scoreVqaFiles(q, fixture('a-notype.json', noType), r), /annotations\[0\]\.answer_type must be a string/);
    expectUserError(() => scoreVqaFiles(q, a, fixture('r-unknown.json', [{ question_id: 99, answer: 'yes' }])), /r-unknown\.json: \[0\]\.question_id is 99, which is not annotated/);
    expectUserError(() => scoreVqaFiles(q, a, fixture('r-dup.json', [results[0], results[0]])), /\[1\]\.question_id repeats 11/);
    expectUserError(() => scoreVqaFiles(q, a, fixture('r-noanswer.json', [{ question_id: 11 }])), /\[0\]\.answer must be a string \(got nothing/);
    const fewQuestions = { questions: questions.questions.slice(1) };
    expectUserError(() => scoreVqaFiles(fixture('q-few.json', fewQuestions), a, r), /\[0\]\.question_id is 11, which is not in .*q-few\.json/);
  });
});
