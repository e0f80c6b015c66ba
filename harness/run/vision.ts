/**
 * The vision tower's own pre-training, before the LM ever sees it (LLaVA starts from a CLIP
 * encoder trained elsewhere and keeps it frozen). Nothing can be downloaded here, so the tower
 * learns on its own ShapesWorld corpus: scenes drawn from a stream of the seed that no dataset
 * split uses, labelled densely. Each patch token predicts the shape, colour, size and position
 * word (ShapesWorld's `positionOf`, or "between positions" where it has none) of the object whose
 * box holds the patch centre, or "background". Trained from the captions alone,
 * the tower never learnt shapes (VQA "what shape" stayed at chance); this objective teaches
 * them to the tower directly, as an ImageNet or CLIP encoder brings them to a real MLLM.
 *
 * The corpus is ShapesWorld whatever the run's dataset is: on COCO or VQA v2 a tower
 * pre-trained on shapes is not what a real model would start from (docs/models.md).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../core/engine.js';
import { adam } from '../core/adam.js';
import { loadWeights, saveWeights } from './checkpoint.js';
import { imagesToTensor } from '../core/batch.js';
import { COLORS, generateScene, POSITIONS, positionOf, renderScene, SHAPES, type Scene } from '../data/shapesWorld.js';
import type { RgbImage } from '../core/types.js';
import type { EpochLog } from '../core/record.js';
import { Rng } from '../core/rng.js';
import type { Store } from './store.js';
import type { RunContext } from './context.js';
import { stepLogger } from './stepLog.js';
import { learningRate } from '../core/training.js';
import { Params } from '../../models/params.js';
import { dense, isVisionWeight, VISION_TOWER, vit, type VitSizes } from '../../models/layers.js';

export interface VisionPretrainConfig {
  epochs: number;
  /** Scenes in the corpus (a held-out set of VAL_IMAGES more measures the tower each epoch). */
  images: number;
  batchSize: number;
  lr: number;
}

/** Held-out corpus scenes the epoch log's accuracies are measured on. */
const VAL_IMAGES = 300;
const SIZES = ['small', 'large'] as const;
/**
 * The per-token label sets: class 0 is background, then the attribute's values; position has
 * one more, for objects between two position words (positionOf gives none).
 */
const HEADS = { shape: SHAPES.length + 1, colour: COLORS.length + 1, size: SIZES.length + 1, position: POSITIONS.length + 2 } as const;
type Head = keyof typeof HEADS;

export type PatchLabels = Record<Head, Int32Array>;

/**
 * Labels of a scene's patch grid (row-major, grid × grid): the object whose box
 * [cx ± r] × [cy ± r] contains the patch centre, 0 where none does (objects never overlap).
 */
export function patchLabels(scene: Scene, patch: number): PatchLabels {
  const grid = scene.size / patch;
  const out = Object.fromEntries(Object.keys(HEADS).map((h) => [h, new Int32Array(grid * grid)])) as PatchLabels;
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      const px = gx * patch + (patch - 1) / 2;
      const py = gy * patch + (patch - 1) / 2;
      const o = scene.objects.find((ob) => Math.abs(px - ob.cx) <= ob.r && Math.abs(py - ob.cy) <= ob.r);
      if (!o) continue;
      const i = gy * grid + gx;
      out.shape[i] = SHAPES.indexOf(o.shape) + 1;
      out.colour[i] = COLORS.indexOf(o.color) + 1;
      out.size[i] = SIZES.indexOf(o.size) + 1;
      const where = positionOf(o, scene.size);
      out.position[i] = where ? POSITIONS.indexOf(where) + 1 : POSITIONS.length + 1;
    }
  }
  return out;
}

interface CorpusItem {
  image: RgbImage;
  labels: PatchLabels;
}

function corpus(seed: number, part: 'train' | 'val', n: number, imageSize: number, patch: number): CorpusItem[] {
  const rng = new Rng(seed).fork(`vision-corpus:${part}`);
  return Array.from({ length: n }, (_, i) => {
    const scene = generateScene(rng.fork(`img${i}`), imageSize);
    return { image: renderScene(scene), labels: patchLabels(scene, patch) };
  });
}

function labelTensors(items: CorpusItem[]): Record<Head, tf.Tensor1D> {
  const cat = (h: Head) => {
    const n = items[0].labels[h].length;
    const all = new Int32Array(items.length * n);
    items.forEach((it, i) => all.set(it.labels[h], i * n));
    return tf.tensor1d(all, 'int32');
  };
  return Object.fromEntries((Object.keys(HEADS) as Head[]).map((h) => [h, cat(h)])) as Record<Head, tf.Tensor1D>;
}

export interface VisionTower {
  /** The tower's weights, named as in every family (`vit/...`). */
  weights: tf.NamedTensorMap;
  /** Per epoch: training loss and held-out accuracy over object patches (`val shape`, …). */
  log: EpochLog[];
}

/**
 * Trains a ViT of the given sizes with a linear head per attribute on every patch token.
 * Deterministic in (sizes, config, seed). The caller owns the returned weights.
 */
export function pretrainVision(sizes: VitSizes, cfg: VisionPretrainConfig, seed: number, onStep?: (i: { epoch: number; step: number; steps: number; loss: number }) => void): VisionTower {
  if (sizes.imageSize % sizes.patch) throw new Error(`vision: patch ${sizes.patch} does not divide imageSize ${sizes.imageSize}`);
  const train = corpus(seed, 'train', cfg.images, sizes.imageSize, sizes.patch);
  const val = corpus(seed, 'val', VAL_IMAGES, sizes.imageSize, sizes.patch);
  const p = new Params(new Rng(seed).fork('vision-tower'));
  const tower = vit(p, VISION_TOWER, sizes);
  const heads = Object.fromEntries(Object.entries(HEADS).map(([h, n]) => [h, dense(p, `head/${h}`, sizes.width, n)])) as Record<Head, (x: tf.Tensor) => tf.Tensor>;
  const features = (x: tf.Tensor4D) => tower(x).reshape([-1, sizes.width]);
  const vars = [...p.vars.values()];
  const optimizer = adam(cfg.lr);
  const rng = new Rng(seed).fork('vision-order');
  const steps = Math.ceil(train.length / cfg.batchSize);
  const log: EpochLog[] = [];
  try {
    for (let epoch = 0; epoch < cfg.epochs; epoch++) {
      const t0 = performance.now();
      const order = rng.shuffle(train.map((_, i) => i));
      let lossSum = 0;
      for (let step = 0; step < steps; step++) {
        const batch = order.slice(step * cfg.batchSize, (step + 1) * cfg.batchSize).map((i) => train[i]);
        const x = imagesToTensor(batch.map((b) => b.image));
        const y = labelTensors(batch);
        optimizer.learningRate = learningRate({ lr: cfg.lr, schedule: 'cosine', warmup: 0.05 }, epoch * steps + step, cfg.epochs * steps);
        const loss = optimizer.minimize(() => {
          const f = features(x);
          const parts = (Object.keys(HEADS) as Head[]).map((h) => tf.losses.softmaxCrossEntropy(tf.oneHot(y[h], HEADS[h]), heads[h](f)));
          return tf.addN(parts) as tf.Scalar;
        }, true, vars)!;
        const value = loss.dataSync()[0];
        tf.dispose([loss, x, ...Object.values(y)]);
        if (!Number.isFinite(value)) throw new Error(`vision pre-training diverged: loss ${value} at epoch ${epoch} step ${step}`);
        lossSum += value;
        onStep?.({ epoch, step, steps, loss: value });
      }
      log.push({ epoch, loss: lossSum / steps, seconds: (performance.now() - t0) / 1000, numTensors: tf.memory().numTensors, val: accuracy(val, features, heads) });
    }
    const weights: tf.NamedTensorMap = {};
    for (const [name, v] of p.vars) if (isVisionWeight(name)) weights[name] = tf.clone(v);
    return { weights, log };
  } finally {
    optimizer.dispose();
    p.dispose();
  }
}

/** Held-out accuracy of each head over the patches that hold an object. */
function accuracy(items: CorpusItem[], features: (x: tf.Tensor4D) => tf.Tensor, heads: Record<Head, (x: tf.Tensor) => tf.Tensor>): Record<string, number> {
  const out: Record<string, number> = {};
  const preds = tf.tidy(() => {
    const f = features(imagesToTensor(items.map((it) => it.image)));
    return (Object.keys(HEADS) as Head[]).map((h) => heads[h](f).argMax(-1));
  });
  const truth = items.flatMap((it) => [...it.labels.shape]);
  (Object.keys(HEADS) as Head[]).forEach((h, k) => {
    const p = preds[k].dataSync();
    const y = items.flatMap((it) => [...it.labels[h]]);
    let n = 0;
    let ok = 0;
    for (let i = 0; i < y.length; i++) {
      if (truth[i] === 0) continue;
      n++;
      ok += p[i] === y[i] ? 1 : 0;
    }
    out[`val ${h}`] = n ? ok / n : NaN;
  });
  tf.dispose(preds);
  return out;
}

/** The ViT sizes of a model config: what the tower's weights depend on. */
export function vitSizes(m: VitSizes): VitSizes {
  return { imageSize: m.imageSize, patch: m.patch, width: m.width, heads: m.heads, mlpRatio: m.mlpRatio, encoderLayers: m.encoderLayers };
}

/** The tower from the stage cache, or pre-trained and cached under `key`. */
export async function cachedVisionTower(store: Store, key: string, make: () => VisionTower): Promise<VisionTower & { cached: boolean }> {
  if (store.has('vision', key)) {
    const dir = store.dir('vision', key);
    const { log } = JSON.parse(readFileSync(join(dir, 'stage.json'), 'utf8')) as { log: EpochLog[] };
    return { weights: loadWeights(dir), log, cached: true };
  }
  const tower = make();
  await store.put('vision', key, async (dir) => {
    await saveWeights(dir, tower.weights);
    writeFileSync(join(dir, 'stage.json'), JSON.stringify({ log: tower.log }));
  });
  return { ...tower, cached: false };
}

/** The vision stage's output: the tower's key and weights, and whether the LM stages keep it frozen. */
export interface VisionStage extends VisionTower {
  key: string;
  freeze: boolean;
  cached: boolean;
}

/**
 * Stage: the vision tower's own pre-training, when configured: shared by every task, family,
 * attack and defense of this seed and tower size. A frozen tower trains no further.
 */
export async function visionStage(ctx: RunContext): Promise<VisionStage | undefined> {
  if (!ctx.r.exp.vision) return undefined;
  const { freeze, ...settings } = ctx.r.exp.vision;
  const sizes = vitSizes(ctx.mcfg);
  const key = ctx.key('vision', { sizes, vision: settings, seed: ctx.r.seed });
  const tower = await cachedVisionTower(ctx.store, key, () => pretrainVision(sizes, settings, ctx.r.seed, stepLogger(ctx.progress, 'vision', settings.epochs)));
  return { ...tower, key, freeze };
}
