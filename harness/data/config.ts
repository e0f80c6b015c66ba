/**
 * The `data` field of an experiment: a union on `kind`, ShapesWorld (the default) or a real
 * dataset read from local files in its official format (harness/data/load.ts).
 */
import { z } from 'zod';
import { UserError } from '../core/errors.js';

/** ShapesWorld, the embedded procedural dataset (the default). */
const shapesData = z
  .object({
    kind: z.literal('shapes').default('shapes'),
    /** Images per split (VQA has questionsPerImage samples per image). */
    nTrain: z.number().int().min(1).default(3000),
    nVal: z.number().int().min(1).default(100),
    nTest: z.number().int().min(1).default(300),
    imageSize: z.number().int().min(8).max(256).default(32),
    questionsPerImage: z.number().int().min(1).max(8).default(2),
    /**
     * Images of LM pre-training's own corpus, drawn from a stream no split uses, as LLaVA
     * pre-trains on other data than it is instruction-tuned on. Unset: pre-training reads the
     * clean train split (and configs without it keep their hashes).
     */
    nPretrain: z.number().int().min(1).optional(),
  })
  .strict();

/**
 * Fields every real dataset (local files, harness/data/load.ts) shares. ShapesWorld's sizes are
 * declared as forbidden rather than left unknown, so that a profile's or perTask's `nTrain`
 * layered over a real dataset fails with the fix instead of "unrecognized key".
 */
const realDataFields = (kind: string, minCount: number) => {
  const shapesOnly = (what: string) =>
    z
      .never({
        error: `only for data.kind "shapes"; ${what}; to drop a profile's per-task ShapesWorld sizes, restate "kind": "${kind}" in perTask.<task>.data`,
      })
      .optional();
  const sampled = shapesOnly(`"${kind}" takes its samples from the files (cap them with data.limit)`);
  return {
    /** The dataset directory; the file and directory fields below are relative to it (or absolute). */
    root: z.string({ error: `required for data.kind "${kind}": the directory holding the dataset files` }).min(1),
    /** Max samples per split (captions: images; VQA: questions), a seeded subset; 0 = all. */
    limit: z.number().int().min(0).default(0),
    /** Training-text words seen fewer times map to the tokenizer's unknown token. */
    minCount: z.number().int().min(1).default(minCount),
    /** An image file that does not decode: drop its samples and warn, or stop. */
    onBadImage: z.enum(['skip', 'fail']).default('skip'),
    /** Images are centre-cropped and area-averaged to imageSize × imageSize. */
    imageSize: z.number().int().min(8).max(256).default(32),
    nTrain: sampled,
    nVal: sampled,
    nTest: sampled,
    questionsPerImage: sampled,
    nPretrain: shapesOnly(`on "${kind}" LM pre-training reads the train split`),
  };
};

/** COCO captions: the Karpathy split file (default), or the official annotation files. */
const cocoData = z
  .object({
    kind: z.literal('coco'),
    ...realDataFields('coco', 5),
    format: z.enum(['karpathy', 'official']).default('karpathy'),
    karpathyFile: z.string().min(1).default('dataset_coco.json'),
    /** Karpathy entries name `filepath/filename` (e.g. val2014/COCO_val2014_….jpg) under this directory. */
    imagesDir: z.string().min(1).default('.'),
    trainAnnotations: z.string().min(1).default('annotations/captions_train2014.json'),
    valAnnotations: z.string().min(1).default('annotations/captions_val2014.json'),
    trainImages: z.string().min(1).default('train2014'),
    valImages: z.string().min(1).default('val2014'),
  })
  .strict();

/** Flickr30k captions through the Karpathy split file. */
const flickr30kData = z
  .object({
    kind: z.literal('flickr30k'),
    ...realDataFields('flickr30k', 5),
    karpathyFile: z.string().min(1).default('dataset_flickr30k.json'),
    imagesDir: z.string().min(1).default('flickr30k-images'),
  })
  .strict();

/** VQA v2: official question and annotation files, COCO images. */
const vqav2Data = z
  .object({
    kind: z.literal('vqav2'),
    // minCount 1: VQA models usually keep every question word; answers are limited by topAnswers.
    ...realDataFields('vqav2', 1),
    trainQuestions: z.string().min(1).default('v2_OpenEnded_mscoco_train2014_questions.json'),
    trainAnnotations: z.string().min(1).default('v2_mscoco_train2014_annotations.json'),
    valQuestions: z.string().min(1).default('v2_OpenEnded_mscoco_val2014_questions.json'),
    valAnnotations: z.string().min(1).default('v2_mscoco_val2014_annotations.json'),
    trainImages: z.string().min(1).default('train2014'),
    valImages: z.string().min(1).default('val2014'),
    /** Training keeps questions whose answer is among the K most frequent (0 = all). */
    topAnswers: z.number().int().min(0).default(3000),
  })
  .strict();

const DATA_KINDS = ['shapes', 'coco', 'flickr30k', 'vqav2'] as const;

/** The dataset: a union on `kind`; without one it is ShapesWorld, so older configs parse as before. */
export const dataSchema = z
  .discriminatedUnion('kind', [shapesData, cocoData, flickr30kData, vqav2Data], {
    error: (iss) => (iss.code === 'invalid_union' ? `unknown data kind; choose one of ${DATA_KINDS.join(', ')}` : undefined),
  })
  .default({ kind: 'shapes', nTrain: 3000, nVal: 100, nTest: 300, imageSize: 32, questionsPerImage: 2 });

export type DataConfig = z.infer<typeof dataSchema>;

/** The tasks each kind of dataset can serve. */
export const DATA_TASKS: Record<DataConfig['kind'], readonly ('caption' | 'vqa')[]> = {
  shapes: ['caption', 'vqa'],
  coco: ['caption'],
  flickr30k: ['caption'],
  vqav2: ['vqa'],
};

/** A UserError unless `data` can serve `task`; `where` is the config field holding it. */
export function checkDataTask(data: Pick<DataConfig, 'kind'>, task: 'caption' | 'vqa', where = 'data'): void {
  if (DATA_TASKS[data.kind].includes(task)) return;
  const other = task === 'caption' ? '"coco" or "flickr30k"' : '"vqav2"';
  throw new UserError(
    `${where}.kind: "${data.kind}" is a ${DATA_TASKS[data.kind].join('/')} dataset and cannot serve task "${task}"; drop "${task}" from tasks, or give it its own data with perTask.${task}.data: {"kind": ${other}, ...}`,
  );
}
