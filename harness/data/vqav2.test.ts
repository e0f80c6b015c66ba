import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../config/schema.js';
import { dataSchema, type DataConfig } from './config.js';
import { UserError } from '../core/errors.js';
import { writeVqaV2Fixture, type Fixture } from './fixtures.js';
import { loadSplits } from './load.js';
import { topAnswerSet } from './vqav2.js';

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `vqa-test-${label}-`));
const data = (fx: Fixture, over: Record<string, unknown> = {}): DataConfig => parseWith(dataSchema, { ...fx.data, ...over }, 'test data');
const small = { nTrain: 8, nVal: 4, nTest: 4 };
const TRAIN_Q = 'v2_OpenEnded_mscoco_train2014_questions.json';
const TRAIN_A = 'v2_mscoco_train2014_annotations.json';
const VAL_A = 'v2_mscoco_val2014_annotations.json';

async function userError(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

function editJson(path: string, edit: (json: any) => void): void {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  edit(json);
  writeFileSync(path, JSON.stringify(json));
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('VQA v2', () => {
  const fx = writeVqaV2Fixture(tmp('main'));
  const trainAnn = readJson(join(fx.root, TRAIN_A)).annotations as any[];

  it('joins questions with annotations: one sample per question, its 10 answers as refs', async () => {
    const ds = await loadSplits(data(fx), 'vqa', 1);
    expect([ds.name, ds.task]).toEqual(['vqav2', 'vqa']);
    expect(ds.train).toHaveLength(48); // 24 images × 2 questions, all answers in the top 3000
    const q = readJson(join(fx.root, TRAIN_Q)).questions[5];
    const s = ds.train[5];
    const an = trainAnn.find((a) => a.question_id === q.question_id);
    expect(s).toMatchObject({ id: `q${q.question_id}`, imageId: String(q.image_id), prompt: q.question, answerType: an.answer_type, questionType: an.question_type });
    expect(s.refs).toEqual(an.answers.map((a: any) => a.answer));
    expect(s.refs).toHaveLength(10);
    expect([s.image.height, s.image.width]).toEqual([32, 32]);
    // Questions of one image share the decoded image (each file read once).
    expect(ds.train[0].imageId).toBe(ds.train[1].imageId);
    expect(ds.train[0].image).toBe(ds.train[1].image);
  });

  it('splits val2014 into val and test by image, disjoint, every question once', async () => {
    const ds = await loadSplits(data(fx), 'vqa', 1);
    const valImages = new Set(ds.val.map((s) => s.imageId));
    expect(ds.test.some((s) => valImages.has(s.imageId))).toBe(false);
    expect(valImages.size).toBe(6); // 12 val2014 images, halved
    const all = readJson(join(fx.root, 'v2_OpenEnded_mscoco_val2014_questions.json')).questions.map((q: any) => `q${q.question_id}`);
    expect([...ds.val, ...ds.test].map((s) => s.id).sort()).toEqual([...all].sort());
  });

  it('topAnswers keeps training questions whose answer is among the K most frequent; val and test keep all', async () => {
    const counts = new Map<string, number>();
    for (const a of trainAnn) counts.set(a.multiple_choice_answer, (counts.get(a.multiple_choice_answer) ?? 0) + 1);
    const top3 = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3).map(([a]) => a);
    const all = await loadSplits(data(fx), 'vqa', 1);
    const ds = await loadSplits(data(fx, { topAnswers: 3 }), 'vqa', 1);
    expect(ds.train.length).toBe(trainAnn.filter((a) => top3.includes(a.multiple_choice_answer)).length);
    expect(ds.train.length).toBeLessThan(all.train.length);
    expect(new Set(ds.train.map((s) => s.refs[0]))).toEqual(new Set(top3));
    expect(ds.val.map((s) => s.id)).toEqual(all.val.map((s) => s.id));
    expect(ds.test.map((s) => s.id)).toEqual(all.test.map((s) => s.id));
  });

  it('topAnswerSet ranks by count, ties alphabetically; 0 keeps all', async () => {
    const answers = ['yes', 'no', 'yes', 'red', 'no', 'blue', 'yes'];
    expect([...topAnswerSet(answers, 2)]).toEqual(['yes', 'no']);
    expect([...topAnswerSet(answers, 3)]).toEqual(['yes', 'no', 'blue']);
    expect(topAnswerSet(answers, 0).size).toBe(4);
  });

  it('limit caps the questions per split, seeded', async () => {
    const a = await loadSplits(data(fx, { limit: 7 }), 'vqa', 1);
    expect([a.train.length, a.val.length, a.test.length]).toEqual([7, 7, 7]);
    const b = await loadSplits(data(fx, { limit: 7 }), 'vqa', 2);
    expect(b.train.map((s) => s.id)).not.toEqual(a.train.map((s) => s.id));
  });

  it('refuses the caption task', async () => {
    expect(await userError(() => loadSplits(data(fx), 'caption', 1))).toMatch(/data\.kind: "vqav2" is a vqa dataset and cannot serve task "caption"/);
  });
});

describe('VQA v2 image naming', () => {
  it('takes the subset from data_subtype, and accepts COCO 2017 names <12-digit id>.jpg', async () => {
    const fx = writeVqaV2Fixture(tmp('naming'), small);
    for (const p of [...fx.images.train, ...fx.images.val, ...fx.images.test]) renameSync(p, join(dirname(p), basename(p).replace(/^COCO_\w+2014_/, '')));
    const ds = await loadSplits(data(fx), 'vqa', 1);
    expect(ds.train).toHaveLength(16);
    const fx2 = writeVqaV2Fixture(tmp('subtype'), small);
    editJson(join(fx2.root, TRAIN_Q), (j) => (j.data_subtype = 'trainval2014'));
    expect(await userError(() => loadSplits(data(fx2), 'vqa', 1))).toMatch(/image file\(s\) not found: .*train2014\/COCO_trainval2014_000000000001\.jpg \(named by questions\[0\]\.image_id in .*questions\.json\)/);
  });
});

describe('VQA v2 errors', () => {
  it('a missing questions file, and malformed JSON', async () => {
    const fx = writeVqaV2Fixture(tmp('missing'), small);
    rmSync(join(fx.root, TRAIN_Q));
    expect(await userError(() => loadSplits(data(fx), 'vqa', 1))).toMatch(new RegExp(`${join(fx.root, TRAIN_Q)}: not found; put VQA v2 questions .* there or set data\\.trainQuestions`));
    const fx2 = writeVqaV2Fixture(tmp('malformed'), small);
    writeFileSync(join(fx2.root, VAL_A), '{"annotations": [');
    expect(await userError(() => loadSplits(data(fx2), 'vqa', 1))).toMatch(new RegExp(`${join(fx2.root, VAL_A)}: not valid JSON`));
  });

  it('bad annotation fields by JSON path', async () => {
    const fx = writeVqaV2Fixture(tmp('fields'), small);
    const ann = join(fx.root, TRAIN_A);
    editJson(ann, (j) => (j.annotations[2].answers[4].answer = null));
    expect(await userError(() => loadSplits(data(fx), 'vqa', 1))).toBe(
      `${ann}: annotations[2].answers[4].answer: expected a string (got null); expected VQA v2 annotations {"annotations": [{"question_id", "image_id", "answers": [{"answer"}], "multiple_choice_answer", "answer_type", "question_type"}]}`,
    );
    editJson(ann, (j) => {
      j.annotations[2].answers[4].answer = 'yes';
      j.annotations[3].answers = [];
    });
    expect(await userError(() => loadSplits(data(fx), 'vqa', 1))).toMatch(/annotations\[3\]\.answers: is empty/);
    editJson(ann, (j) => {
      j.annotations[3].answers = j.annotations[4].answers;
      j.annotations[5].question_id = '12';
    });
    expect(await userError(() => loadSplits(data(fx), 'vqa', 1))).toMatch(/annotations\[5\]\.question_id: expected an integer id \(got "12"\)/);
  });

  it('a question without an annotation, or naming another image than its annotation', async () => {
    const fx = writeVqaV2Fixture(tmp('join'), small);
    editJson(join(fx.root, TRAIN_A), (j) => j.annotations.splice(4, 1));
    expect(await userError(() => loadSplits(data(fx), 'vqa', 1))).toMatch(/questions\[4\]\.question_id: question \d+ has no annotation in .*v2_mscoco_train2014_annotations\.json/);
    const fx2 = writeVqaV2Fixture(tmp('join2'), small);
    editJson(join(fx2.root, TRAIN_Q), (j) => (j.questions[3].image_id = 424242));
    expect(await userError(() => loadSplits(data(fx2), 'vqa', 1))).toMatch(/questions\[3\]\.image_id: is 424242 but .* annotations\[3\]\.image_id is 2/);
  });

  it('a question about an image whose file does not exist', async () => {
    const fx = writeVqaV2Fixture(tmp('noimg'), small);
    rmSync(fx.images.train[3]);
    expect(await userError(() => loadSplits(data(fx), 'vqa', 1))).toBe(
      `vqav2: 1 image file(s) not found: ${fx.images.train[3]} (named by questions[6].image_id in ${join(fx.root, TRAIN_Q)}); check data.root and data.trainImages, or remove those entries`,
    );
  });

  it('an undecodable image drops all its questions with a warning, or stops with onBadImage "fail"', async () => {
    const fx = writeVqaV2Fixture(tmp('corrupt'), small);
    writeFileSync(fx.images.train[0], Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])); // a PNG signature, then junk
    const warnings: string[] = [];
    const ds = await loadSplits(data(fx), 'vqa', 1, { warn: (l) => warnings.push(l) });
    expect(ds.train).toHaveLength(14); // 16 questions minus the image's 2
    expect(ds.train.some((s) => s.imageId === '1')).toBe(false);
    expect(warnings).toEqual([expect.stringContaining(`vqav2: skipped 1 image(s) that failed to decode, with their samples: ${fx.images.train[0]} (corrupt or truncated PNG`)]);
    expect(await userError(() => loadSplits(data(fx, { onBadImage: 'fail' }), 'vqa', 1))).toMatch(/COCO_train2014_000000000001\.jpg: cannot decode image \(corrupt or truncated PNG/);
  });
});
