/**
 * VQA v2 from local files in the official format:
 *  - questions `v2_OpenEnded_mscoco_<subset>_questions.json`:
 *    {data_subtype?, questions: [{image_id, question, question_id}]};
 *  - annotations `v2_mscoco_<subset>_annotations.json`: {annotations: [{question_id, image_id,
 *    answers: [10 × {answer}], multiple_choice_answer, answer_type, question_type}]};
 *  - images from the COCO image directories, named COCO_<subset>_<12-digit image id>.jpg (the
 *    subset from the questions file's data_subtype, e.g. train2014); the COCO 2017 naming
 *    <12-digit id>.jpg is accepted too.
 * train2014 → train; val2014's images → val and test halves by the seed (test-dev answers are
 * not public). One Sample per question, refs = its 10 answers, like ShapesWorld's VQA samples.
 *
 * Answer vocabulary, the usual VQA practice (e.g. Anderson et al. 2018, top ~3k answers):
 * training keeps only questions whose multiple_choice_answer is among the `topAnswers` most
 * frequent over the whole training annotations (0 = keep all), since a classifier-like decoder
 * cannot learn answers seen a handful of times. Val and test keep every question, so accuracy
 * stays comparable to the official evaluation.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Rng } from '../core/rng.js';
import { checkRoot, cleanText, JsonFile, limitItems, splitValTest, underRoot, type DatasetOptions, type DatasetPlan, type PlannedSample } from './datasetFiles.js';

export interface VqaV2Options extends DatasetOptions {
  trainQuestions: string;
  trainAnnotations: string;
  valQuestions: string;
  valAnnotations: string;
  trainImages: string;
  valImages: string;
  /** Keep training questions whose answer is among the K most frequent; 0 = all. */
  topAnswers: number;
}

const QUESTIONS_FORMAT = 'VQA v2 questions {"questions": [{"image_id", "question", "question_id"}]}';
const ANNOTATIONS_FORMAT =
  'VQA v2 annotations {"annotations": [{"question_id", "image_id", "answers": [{"answer"}], "multiple_choice_answer", "answer_type", "question_type"}]}';

/** A question joined with its annotation, before its image is read. */
interface Entry {
  questionId: number;
  imageId: number;
  question: string;
  answers: string[];
  multipleChoiceAnswer: string;
  answerType: string;
  questionType: string;
  /** Image file names to try, in order. */
  candidates: string[];
  namedBy: string;
}

interface Annotation {
  at: string;
  imageId: number;
  answers: string[];
  multipleChoiceAnswer: string;
  answerType: string;
  questionType: string;
}

function readAnnotations(file: JsonFile): Map<number, Annotation> {
  const out = new Map<number, Annotation>();
  file.topArray('annotations').forEach((raw, k) => {
    const at = `annotations[${k}]`;
    const an = file.object(raw, at);
    const qid = file.int(an.question_id, `${at}.question_id`);
    if (out.has(qid)) file.fail(`${at}.question_id`, `repeats question ${qid} (first at ${out.get(qid)!.at})`);
    const answers = file.array(an.answers, `${at}.answers`).map((a, j) => cleanText(file.string(file.object(a, `${at}.answers[${j}]`).answer, `${at}.answers[${j}].answer`)));
    if (answers.length === 0) file.fail(`${at}.answers`, 'is empty (VQA v2 has 10 answers per question)');
    out.set(qid, {
      at,
      imageId: file.int(an.image_id, `${at}.image_id`),
      answers,
      multipleChoiceAnswer: cleanText(file.string(an.multiple_choice_answer, `${at}.multiple_choice_answer`)),
      answerType: file.string(an.answer_type, `${at}.answer_type`),
      questionType: file.string(an.question_type, `${at}.question_type`),
    });
  });
  return out;
}

/** The questions of one subset joined with their annotations, in the questions file's order. */
function readSubset(root: string, questionsRel: string, annotationsRel: string, imagesDir: string, defaultSubtype: string, fields: [string, string]): Entry[] {
  const qfile: JsonFile = new JsonFile(underRoot(root, questionsRel), fields[0], QUESTIONS_FORMAT);
  const afile: JsonFile = new JsonFile(underRoot(root, annotationsRel), fields[1], ANNOTATIONS_FORMAT);
  const top = qfile.object(qfile.root, '');
  const subtype = top.data_subtype === undefined ? defaultSubtype : qfile.string(top.data_subtype, 'data_subtype');
  const annotations = readAnnotations(afile);
  const seen = new Set<number>();
  return qfile.topArray('questions').map((raw, i) => {
    const at = `questions[${i}]`;
    const q = qfile.object(raw, at);
    const questionId = qfile.int(q.question_id, `${at}.question_id`);
    const imageId = qfile.int(q.image_id, `${at}.image_id`);
    const question = cleanText(qfile.string(q.question, `${at}.question`));
    if (seen.has(questionId)) qfile.fail(`${at}.question_id`, `repeats question ${questionId}`);
    seen.add(questionId);
    const an = annotations.get(questionId);
    if (!an) qfile.fail(`${at}.question_id`, `question ${questionId} has no annotation in ${afile.path} (are the two files of the same subset?)`);
    if (an.imageId !== imageId) qfile.fail(`${at}.image_id`, `is ${imageId} but ${afile.path} ${an.at}.image_id is ${an.imageId}`);
    const id12 = String(imageId).padStart(12, '0');
    return {
      questionId,
      imageId,
      question,
      answers: an.answers,
      multipleChoiceAnswer: an.multipleChoiceAnswer,
      answerType: an.answerType,
      questionType: an.questionType,
      candidates: [`COCO_${subtype}_${id12}.jpg`, `${id12}.jpg`].map((f) => underRoot(root, join(imagesDir, f))),
      namedBy: `${at}.image_id in ${qfile.path}`,
    };
  });
}

/** The K most frequent answers (ties broken alphabetically, so the set is deterministic); 0 = all. */
export function topAnswerSet(answers: Iterable<string>, k: number): Set<string> {
  const counts = new Map<string, number>();
  for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([a]) => a);
  return new Set(k > 0 ? ranked.slice(0, k) : ranked);
}

/** The selected questions as planned samples; an image's file is the first candidate that exists. */
function toPlanned(entries: Entry[], dirField: string): PlannedSample[] {
  return entries.map((e) => ({
    path: e.candidates.find((p) => existsSync(p)) ?? e.candidates[0],
    namedBy: e.namedBy,
    dirField,
    sample: (image) => ({
      id: `q${e.questionId}`,
      imageId: String(e.imageId),
      image,
      prompt: e.question,
      refs: e.answers,
      answerType: e.answerType,
      questionType: e.questionType,
    }),
  }));
}

export function planVqaV2(o: VqaV2Options, seed: number): DatasetPlan {
  const root = checkRoot(o.root, 'VQA v2 (question and annotation JSON files and the COCO image directories)');
  const allTrain = readSubset(root, o.trainQuestions, o.trainAnnotations, o.trainImages, 'train2014', ['data.trainQuestions', 'data.trainAnnotations']);
  const keep = topAnswerSet(allTrain.map((e) => e.multipleChoiceAnswer), o.topAnswers);
  const train = allTrain.filter((e) => keep.has(e.multipleChoiceAnswer));
  const valAll = readSubset(root, o.valQuestions, o.valAnnotations, o.valImages, 'val2014', ['data.valQuestions', 'data.valAnnotations']);
  const halves = splitValTest([...new Set(valAll.map((e) => e.imageId))], new Rng(seed).fork('vqav2:val/test'));
  const valImages = new Set(halves.val);
  const rng = new Rng(seed).fork('vqav2:limit');
  const chosen = {
    train: limitItems(train, o.limit, rng.fork('train')),
    val: limitItems(valAll.filter((e) => valImages.has(e.imageId)), o.limit, rng.fork('val')),
    test: limitItems(valAll.filter((e) => !valImages.has(e.imageId)), o.limit, rng.fork('test')),
  };
  return {
    name: 'vqav2',
    task: 'vqa',
    splits: { train: toPlanned(chosen.train, 'data.trainImages'), val: toPlanned(chosen.val, 'data.valImages'), test: toPlanned(chosen.test, 'data.valImages') },
  };
}
