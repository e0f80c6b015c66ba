/**
 * Captioning datasets from local files, in their official JSON formats:
 *  - COCO captions annotations (`annotations/captions_train2014.json`, `captions_val2014.json`):
 *    {images: [{id, file_name}], annotations: [{image_id, caption}]}. COCO releases no test
 *    captions, so val2014's images are split into val and test halves by the seed.
 *  - the Karpathy split (`dataset_coco.json`, `dataset_flickr30k.json`), the split captioning
 *    papers report on: {images: [{filename, filepath?, split, sentences: [{raw, tokens}]}]}, with
 *    split train | restval | val | test; restval joins train (113k COCO training images), as in
 *    Karpathy & Fei-Fei (2015) and most captioning papers since.
 * One Sample per image with all its captions as references (COCO: 5–7), the same shape as
 * ShapesWorld's captioning samples. `limit` keeps a seeded subset of each split's images.
 */
import { basename, extname, join } from 'node:path';
import { Rng } from '../core/rng.js';
import { checkRoot, cleanText, JsonFile, limitItems, splitValTest, underRoot, type DatasetOptions, type DatasetPlan, type PlannedSample } from './datasetFiles.js';
import { CAPTION_PROMPT } from '../core/types.js';

export interface KarpathyOptions extends DatasetOptions {
  /** Dataset name in the splits and messages: 'coco' | 'flickr30k'. */
  name: string;
  /** The split file, relative to root (dataset_coco.json / dataset_flickr30k.json). */
  karpathyFile: string;
  /** Directory the entries' `filepath/filename` are relative to, relative to root. */
  imagesDir: string;
}

export interface CocoOfficialOptions extends DatasetOptions {
  trainAnnotations: string;
  valAnnotations: string;
  trainImages: string;
  valImages: string;
}

const KARPATHY_FORMAT = 'a Karpathy split file {"images": [{"filename", "filepath"?, "split", "sentences": [{"raw", "tokens"}]}]}';
const COCO_FORMAT = 'COCO captions annotations {"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}';
const KARPATHY_SPLITS: Record<string, 'train' | 'val' | 'test'> = { train: 'train', restval: 'train', val: 'val', test: 'test' };

/** An image entry before its pixels are read. */
interface Entry {
  imageId: string;
  path: string;
  captions: string[];
  /** Where the dataset names the image, for messages. */
  namedBy: string;
}

/** The selected entries as planned samples (images decoded later, by decodePlan). */
function toPlanned(entries: Entry[], dirField: string): PlannedSample[] {
  return entries.map((e) => ({
    path: e.path,
    namedBy: e.namedBy,
    dirField,
    sample: (image) => ({ id: e.imageId, imageId: e.imageId, image, prompt: CAPTION_PROMPT, refs: e.captions }),
  }));
}

function limitSplits(name: string, byName: Record<'train' | 'val' | 'test', Entry[]>, limit: number, seed: number) {
  const rng = new Rng(seed).fork(`${name}:limit`);
  return {
    train: limitItems(byName.train, limit, rng.fork('train')),
    val: limitItems(byName.val, limit, rng.fork('val')),
    test: limitItems(byName.test, limit, rng.fork('test')),
  };
}

/** COCO or Flickr30k through the Karpathy split file. */
export function planKarpathyCaptions(o: KarpathyOptions, seed: number): DatasetPlan {
  const root = checkRoot(o.root, `${o.name} (${o.karpathyFile} and the images)`);
  const file: JsonFile = new JsonFile(underRoot(root, o.karpathyFile), 'data.karpathyFile', KARPATHY_FORMAT);
  const byName: Record<'train' | 'val' | 'test', Entry[]> = { train: [], val: [], test: [] };
  const seen = new Map<string, number>();
  file.topArray('images').forEach((raw, i) => {
    const at = `images[${i}]`;
    const im = file.object(raw, at);
    const filename = file.string(im.filename, `${at}.filename`);
    const filepath = im.filepath === undefined ? '' : file.string(im.filepath, `${at}.filepath`);
    const splitName = file.string(im.split, `${at}.split`);
    const split = Object.hasOwn(KARPATHY_SPLITS, splitName) ? KARPATHY_SPLITS[splitName] : undefined;
    if (!split) file.fail(`${at}.split`, `expected "train", "restval", "val" or "test" (got ${JSON.stringify(splitName)})`);
    const captions = file.array(im.sentences, `${at}.sentences`).map((s, j) => {
      const sat = `${at}.sentences[${j}]`;
      const sent = file.object(s, sat);
      // raw is the caption as written; tokens (lowercased words) stand in when raw is absent.
      if (sent.raw === undefined && sent.tokens !== undefined) {
        return file.array(sent.tokens, `${sat}.tokens`).map((t, k) => file.string(t, `${sat}.tokens[${k}]`)).join(' ');
      }
      return cleanText(file.string(sent.raw, `${sat}.raw`));
    });
    const imageId = basename(filename, extname(filename));
    const dup = seen.get(imageId);
    if (dup !== undefined) file.fail(`${at}.filename`, `names image ${JSON.stringify(imageId)} again (first at images[${dup}])`);
    seen.set(imageId, i);
    const kept = captions.filter((c) => c.length > 0);
    if (kept.length === 0) return; // an image without captions teaches nothing
    byName[split].push({ imageId, path: underRoot(root, join(o.imagesDir, filepath, filename)), captions: kept, namedBy: `${at}.filename in ${file.path}` });
  });
  const chosen = limitSplits(o.name, byName, o.limit, seed);
  return {
    name: o.name,
    task: 'caption',
    splits: { train: toPlanned(chosen.train, 'data.imagesDir'), val: toPlanned(chosen.val, 'data.imagesDir'), test: toPlanned(chosen.test, 'data.imagesDir') },
  };
}

/** The entries of one official COCO captions annotations file (images with ≥ 1 caption, file order). */
function cocoEntries(root: string, annotations: string, field: string, imagesDir: string): Entry[] {
  const file: JsonFile = new JsonFile(underRoot(root, annotations), field, COCO_FORMAT);
  const images = new Map<number, { fileName: string; at: string; captions: string[] }>();
  file.topArray('images').forEach((raw, i) => {
    const at = `images[${i}]`;
    const im = file.object(raw, at);
    const id = file.int(im.id, `${at}.id`);
    if (images.has(id)) file.fail(`${at}.id`, `repeats image id ${id} (first at ${images.get(id)!.at})`);
    images.set(id, { fileName: file.string(im.file_name, `${at}.file_name`), at, captions: [] });
  });
  file.topArray('annotations').forEach((raw, k) => {
    const at = `annotations[${k}]`;
    const an = file.object(raw, at);
    const imageId = file.int(an.image_id, `${at}.image_id`);
    const caption = cleanText(file.string(an.caption, `${at}.caption`));
    const im = images.get(imageId);
    if (!im) file.fail(`${at}.image_id`, `image ${imageId} is not in "images" (an annotation of an image that does not exist)`);
    if (caption.length > 0) im.captions.push(caption);
  });
  const entries: Entry[] = [];
  for (const [id, im] of images) {
    if (im.captions.length === 0) continue;
    entries.push({ imageId: String(id), path: underRoot(root, join(imagesDir, im.fileName)), captions: im.captions, namedBy: `${im.at}.file_name in ${file.path}` });
  }
  return entries;
}

/** COCO captions from the official annotation files: train2014 → train; val2014 → val + test halves. */
export function planCocoCaptions(o: CocoOfficialOptions, seed: number): DatasetPlan {
  const root = checkRoot(o.root, 'COCO (annotations/ and the image directories)');
  const train = cocoEntries(root, o.trainAnnotations, 'data.trainAnnotations', o.trainImages);
  const { val, test } = splitValTest(cocoEntries(root, o.valAnnotations, 'data.valAnnotations', o.valImages), new Rng(seed).fork('coco:val/test'));
  const chosen = limitSplits('coco', { train, val, test }, o.limit, seed);
  return {
    name: 'coco',
    task: 'caption',
    splits: { train: toPlanned(chosen.train, 'data.trainImages'), val: toPlanned(chosen.val, 'data.valImages'), test: toPlanned(chosen.test, 'data.valImages') },
  };
}
