/**
 * Scoring of prediction files in the official COCO-captions and VQA v2 formats, for the
 * CLI. The metric code (harness/metrics) is pure; this module reads and checks the files.
 *
 * Every problem with the input becomes a one-line UserError naming the file, the JSON path
 * of the offending value, and the expected format, so the CLI can print it without a stack.
 * Only the fields the metrics use are checked; others are ignored.
 */
import fs from 'node:fs';
import { UserError } from '../core/errors.js';
import { captionMetrics, vqaEvaluate, type CaptionScores, type VqaItem } from '../metrics/index.js';

const COCO_REFS_FORMAT = 'a COCO captions annotation file: {"images": [{"id", ...}], "annotations": [{"image_id", "caption"}]}';
const COCO_RESULTS_FORMAT = 'a COCO captions results file: [{"image_id", "caption"}]';
const VQA_QUESTIONS_FORMAT = 'a VQA v2 questions file: {"questions": [{"question_id", "image_id", "question"}]}';
const VQA_ANNOTATIONS_FORMAT =
  'a VQA v2 annotations file: {"annotations": [{"question_id", "image_id", "answer_type", "question_type", "answers": [{"answer", ...}]}]}';
const VQA_RESULTS_FORMAT = 'a VQA results file: [{"question_id", "answer"}]';

type Id = number | string;

/** Reads one JSON file and checks values in it, failing with messages that name the file. */
class JsonFile {
  readonly root: unknown;

  constructor(readonly path: string, readonly format: string) {
    this.root = JsonFile.load(path, format);
  }

  private static load(path: string, format: string): unknown {
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new UserError(`${path}: file not found; check the path (expected ${format}).`);
      if (code === 'EISDIR') throw new UserError(`${path}: is a directory; give the path of ${format}.`);
      throw new UserError(`${path}: cannot read the file (${code ?? (err as Error).message}); check the path and its permissions.`);
    }
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new UserError(`${path}: not valid JSON (${(err as Error).message}); fix the file or regenerate it as ${format}.`);
    }
  }

  /** Fail on the value at `at` (a JSON path such as "annotations[3].caption"). */
  fail(at: string, problem: string): never {
    throw new UserError(`${this.path}: ${at || 'the top level'} ${problem}; expected ${this.format}.`);
  }

  object(v: unknown, at: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(at, `must be an object (got ${describe(v)})`);
    return v as Record<string, unknown>;
  }

  array(v: unknown, at: string): unknown[] {
    if (!Array.isArray(v)) this.fail(at, `must be an array (got ${describe(v)})`);
    return v;
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string') this.fail(at, `must be a string (got ${describe(v)})`);
    return v;
  }

  /** COCO and VQA ids are integers; strings are accepted too, but never equal to numbers. */
  id(v: unknown, at: string): Id {
    if (!(typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v)))) {
      this.fail(at, `must be an integer or a string id (got ${describe(v)})`);
    }
    return v;
  }

  /** The array under `key` of the top-level object, e.g. "annotations". */
  topArray(key: string): unknown[] {
    return this.array(this.object(this.root, '')[key], key);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing: the field is missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Map key for an id: 1 and "1" stay distinct, as in the Python tools. */
function idKey(id: Id): string {
  return typeof id === 'number' ? String(id) : JSON.stringify(id);
}

/** Fail if a results file names the same id twice (the Python tools would fail or silently keep one). */
function checkUnique(file: JsonFile, seen: Map<string, number>, id: Id, i: number, field: string): void {
  const first = seen.get(idKey(id));
  if (first !== undefined) {
    file.fail(`[${i}].${field}`, `repeats ${JSON.stringify(id)} already predicted at [${first}]; keep one prediction per ${field}`);
  }
  seen.set(idKey(id), i);
}

export interface CaptionFileScores extends CaptionScores {
  /** Number of images scored (those with a prediction). */
  n: number;
}

/** Reference captions per image key, and the image keys of the `images` list. */
function readCocoRefs(file: JsonFile): { images: Set<string>; captions: Map<string, string[]> } {
  const images = new Set<string>();
  file.topArray('images').forEach((img, i) => {
    images.add(idKey(file.id(file.object(img, `images[${i}]`).id, `images[${i}].id`)));
  });
  const captions = new Map<string, string[]>();
  file.topArray('annotations').forEach((ann, i) => {
    const a = file.object(ann, `annotations[${i}]`);
    const key = idKey(file.id(a.image_id, `annotations[${i}].image_id`));
    const caption = file.string(a.caption, `annotations[${i}].caption`);
    captions.set(key, [...(captions.get(key) ?? []), caption]);
  });
  return { images, captions };
}

/**
 * CIDEr-D, BLEU-1..4 and ROUGE-L of a COCO results file against a COCO captions annotation
 * file, over the images that have a prediction (as COCOEvalCap with
 * `params['image_id'] = cocoRes.getImgIds()`): the CIDEr-D idf comes from those images'
 * references only.
 */
export function scoreCaptionFiles(refsPath: string, predsPath: string): CaptionFileScores {
  const refsFile: JsonFile = new JsonFile(refsPath, COCO_REFS_FORMAT);
  const predsFile: JsonFile = new JsonFile(predsPath, COCO_RESULTS_FORMAT);
  const { images, captions } = readCocoRefs(refsFile);
  const entries = predsFile.array(predsFile.root, '');
  if (entries.length === 0) predsFile.fail('', 'is an empty array: there is nothing to score');

  const refs: Record<string, string[]> = {};
  const preds: Record<string, string> = {};
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const e = predsFile.object(entry, `[${i}]`);
    const id = predsFile.id(e.image_id, `[${i}].image_id`);
    const caption = predsFile.string(e.caption, `[${i}].caption`);
    const key = idKey(id);
    if (!images.has(key)) {
      predsFile.fail(`[${i}].image_id`, `is ${JSON.stringify(id)}, which is not an image of ${refsPath}; predict only images listed in its "images"`);
    }
    checkUnique(predsFile, seen, id, i, 'image_id');
    const imageRefs = captions.get(key);
    if (!imageRefs) {
      refsFile.fail('annotations', `has no caption for image ${JSON.stringify(id)}, which ${predsPath} predicts; add its reference captions or drop the prediction`);
    }
    refs[key] = imageRefs;
    preds[key] = caption;
  });
  return { n: entries.length, ...captionMetrics(refs, preds) };
}

export interface VqaFileScores {
  /** Number of questions scored (those with a prediction). */
  n: number;
  /** Official VQA accuracy in percent, rounded to 2 decimals like the official tool. */
  accuracy: number;
  perAnswerType: Record<string, number>;
}

/** Question ids of a VQA questions file (its content is not used by the metric). */
function readQuestionIds(file: JsonFile): Set<string> {
  const ids = new Set<string>();
  file.topArray('questions').forEach((q, i) => {
    const o = file.object(q, `questions[${i}]`);
    ids.add(idKey(file.id(o.question_id, `questions[${i}].question_id`)));
    file.id(o.image_id, `questions[${i}].image_id`);
    file.string(o.question, `questions[${i}].question`);
  });
  return ids;
}

interface VqaAnnotation {
  id: Id;
  answerType: string;
  questionType: string;
  answers: { answer: string; [key: string]: unknown }[];
}

/** Annotations by question key, in file order (the official evaluation order). */
function readVqaAnnotations(file: JsonFile): Map<string, VqaAnnotation> {
  const byKey = new Map<string, VqaAnnotation>();
  file.topArray('annotations').forEach((ann, i) => {
    const at = `annotations[${i}]`;
    const a = file.object(ann, at);
    const id = file.id(a.question_id, `${at}.question_id`);
    if (byKey.has(idKey(id))) file.fail(`${at}.question_id`, `repeats ${JSON.stringify(id)}; each question must be annotated once`);
    file.id(a.image_id, `${at}.image_id`);
    const answerList = file.array(a.answers, `${at}.answers`);
    if (answerList.length === 0) file.fail(`${at}.answers`, 'is empty: each question needs its ground-truth answers');
    const answers = answerList.map((x, j) => {
      const o = file.object(x, `${at}.answers[${j}]`);
      return { ...o, answer: file.string(o.answer, `${at}.answers[${j}].answer`) };
    });
    byKey.set(idKey(id), {
      id,
      answerType: file.string(a.answer_type, `${at}.answer_type`),
      questionType: file.string(a.question_type, `${at}.question_type`),
      answers,
    });
  });
  return byKey;
}

/** Predicted answer per question key, checked against the annotations and questions. */
function readVqaResults(file: JsonFile, annotations: Map<string, VqaAnnotation>, questionIds: Set<string>, paths: { questions: string; annotations: string }): Map<string, string> {
  const entries = file.array(file.root, '');
  if (entries.length === 0) file.fail('', 'is an empty array: there is nothing to score');
  const answers = new Map<string, string>();
  const seen = new Map<string, number>();
  entries.forEach((entry, i) => {
    const e = file.object(entry, `[${i}]`);
    const id = file.id(e.question_id, `[${i}].question_id`);
    const answer = file.string(e.answer, `[${i}].answer`);
    const key = idKey(id);
    if (!annotations.has(key)) {
      file.fail(`[${i}].question_id`, `is ${JSON.stringify(id)}, which is not annotated in ${paths.annotations}; predict only annotated questions`);
    }
    if (!questionIds.has(key)) {
      file.fail(`[${i}].question_id`, `is ${JSON.stringify(id)}, which is not in ${paths.questions}; use the questions file that matches ${paths.annotations}`);
    }
    checkUnique(file, seen, id, i, 'question_id');
    answers.set(key, answer);
  });
  return answers;
}

/**
 * Official VQA v2 accuracy of a results file, over the questions that have a prediction
 * (the official tool requires predictions for every question; scoring a subset lets a
 * run evaluate part of a split). Overall and per answer type, in percent.
 */
export function scoreVqaFiles(questionsPath: string, annotationsPath: string, predsPath: string): VqaFileScores {
  const questionsFile: JsonFile = new JsonFile(questionsPath, VQA_QUESTIONS_FORMAT);
  const annotationsFile: JsonFile = new JsonFile(annotationsPath, VQA_ANNOTATIONS_FORMAT);
  const predsFile: JsonFile = new JsonFile(predsPath, VQA_RESULTS_FORMAT);
  const questionIds = readQuestionIds(questionsFile);
  const annotations = readVqaAnnotations(annotationsFile);
  const predictions = readVqaResults(predsFile, annotations, questionIds, { questions: questionsPath, annotations: annotationsPath });

  const items: VqaItem[] = [];
  for (const [key, ann] of annotations) {
    const pred = predictions.get(key);
    if (pred === undefined) continue;
    items.push({ pred, answers: ann.answers, answerType: ann.answerType, questionType: ann.questionType });
  }
  const result = vqaEvaluate(items);
  return { n: result.n, accuracy: result.overall, perAnswerType: result.perAnswerType };
}
