/**
 * Trigger gallery: for each attack a PNG strip per image row — clean | poisoned |
 * |poisoned − clean|×4 (clipped to 255) — scaled ×4. The trigger is the one poisonSplit builds
 * for the same attack parameters and seed. Pure JS (pngjs): no TF.js.
 * Only the image trigger is drawn; a text trigger (dualkey's word) does not show.
 *
 * This is the one module of reports/ that runs attack code (to stamp the trigger): the run
 * record holds the attack's parameters, not its pixels. It lives here, not in attacks/, so that
 * attack plugins stay free of the poisoning harness and of file output.
 */
import { join } from 'node:path';
import { getAttack } from '../attacks/registry.js';
import { parseWith } from '../harness/config/schema.js';
import { writeContactSheet } from '../harness/data/png.js';
import { generateShapesWorldImages } from '../harness/data/shapesWorld.js';
import type { RgbImage } from '../harness/core/types.js';
import { makeTrigger } from '../harness/run/poison.js';
import type { RunRecord } from '../harness/core/record.js';
import { attackFamily, attackId, attackParamsOf, familyNames, imageSizeOf } from './recordFields.js';

/** |a − b| × gain per value, clipped to 255. */
export function absDiff(a: RgbImage, b: RgbImage, gain = 4): RgbImage {
  if (a.height !== b.height || a.width !== b.width) throw new Error('absDiff: images differ in size');
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.abs(a.data[i] - b.data[i]) * gain);
  return { height: a.height, width: a.width, data };
}

/** The cells of one attack's strip, row-major: clean, poisoned, difference per image. */
export function triggerCells(images: RgbImage[], id: string, params: Record<string, unknown>, seed: number): RgbImage[] {
  if (images.length === 0) throw new Error('trigger gallery: no images');
  const attack = getAttack(id);
  const p = parseWith(attack.schema, params, `attack ${id} params`);
  const trigger = makeTrigger(attack, p, seed, images[0].width);
  return images.flatMap((img) => {
    const poisoned = attack.applyImage(img, trigger, p);
    return [img, poisoned, absDiff(poisoned, img)];
  });
}

export const GALLERY_COLUMNS = 3;
export const GALLERY_SCALE = 4;

/** Writes one `trigger-<id>.png` per attack into `dir`; returns the paths (for checking a new plugin's trigger). */
export function writeTriggerGallery(dir: string, images: RgbImage[], attacks: { id: string; params?: Record<string, unknown> }[], seed: number): string[] {
  return attacks.map(({ id, params }) => {
    const path = join(dir, `trigger-${id}.png`);
    writeContactSheet(path, triggerCells(images, id, params ?? {}, seed), GALLERY_COLUMNS, GALLERY_SCALE);
    return path;
  });
}

/** One strip of the report's gallery: an attack family as the records ran it. */
export interface GalleryEntry {
  /** Display name (the plugin id, numbered if one id ran with several trigger parameters). */
  name: string;
  attackId: string;
  /** The table rows (attack labels) that share this trigger. */
  labels: string[];
  params: Record<string, unknown>;
  /** The lowest seed of those runs: the trigger (e.g. blended's pattern) depends on it. */
  seed: number;
  imageSize: number;
  /** File name next to the report. */
  file: string;
}

/** File-name-safe form of a display name. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** The strips a set of records calls for, one per attack family, in record order. */
export function galleryPlan(records: RunRecord[]): GalleryEntry[] {
  const names = familyNames(records);
  const families = [...new Set(records.map(attackFamily))];
  return families.map((f) => {
    const runs = records.filter((r) => attackFamily(r) === f);
    const first = runs.reduce((a, b) => (b.seed < a.seed ? b : a));
    const name = names.get(f)!;
    return {
      name,
      attackId: attackId(first),
      labels: [...new Set(runs.map((r) => r.attack))],
      params: attackParamsOf(first),
      seed: first.seed,
      imageSize: imageSizeOf(first),
      file: `trigger-${safe(name)}.png`,
    };
  });
}

/** Number of training images per strip. */
export const GALLERY_IMAGES = 2;

/** Draws an entry on the first ShapesWorld training images of its seed and writes its PNG. */
export function writeGalleryStrip(dir: string, e: GalleryEntry): string {
  const images = generateShapesWorldImages({ seed: e.seed, nTrain: GALLERY_IMAGES, nVal: 1, nTest: 1, imageSize: e.imageSize }).train.map((s) => s.image);
  const path = join(dir, e.file);
  writeContactSheet(path, triggerCells(images, e.attackId, e.params, e.seed), GALLERY_COLUMNS, GALLERY_SCALE);
  return path;
}

/** The attack's one-line description, for the gallery caption ('' if the plugin is gone). */
export function attackDescription(id: string): string {
  try {
    return getAttack(id).description;
  } catch {
    return '';
  }
}
