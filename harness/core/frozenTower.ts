/**
 * A frozen vision tower's features depend on the image alone, so a training loop need compute
 * each training image's only once: pre-training sees the same images for 20 epochs, and an SFT
 * whose defense does not transform the images sees them for every epoch. At the profiles' sizes
 * the tower is ~15% of a VQA step and ~25% of a caption step.
 *
 * The training loop describes a batch tensor as holding given images, unchanged, row for row,
 * and names the variables the loop trains (`describeBatch`). Each tower (`vit`) asks
 * `towerFeatures` for a tensor's features: when none of its weights train and it has seen all
 * the batch's images, it gathers their stored rows; otherwise it computes them on the whole batch,
 * as without the store, and keeps each row if its weights are fixed. Every kernel on the tower's
 * path treats each image on its own with a fixed summation order, so a row is the same to the bit
 * whatever batch it was computed in.
 * A tower outside the trained model (a hook's teacher) is keyed separately: its weights are
 * constant within the loop too.
 */
import { tf } from './engine.js';
import type { PixelImage } from './types.js';

/** One training loop's rows: per tower (its compute function), per image object, its features [N × d] flattened. */
export type TowerFeatureStore = Map<object, { shape: [number, number]; rows: Map<PixelImage, Float32Array> }>;

interface Batch {
  store: TowerFeatureStore;
  images: readonly PixelImage[];
  training: ReadonlySet<tf.Variable>;
}
const described = new WeakMap<tf.Tensor, Batch>();

/** Declares that `imagesT` is exactly `images`, unchanged, one row each, in a loop training `training`. */
export function describeBatch(imagesT: tf.Tensor4D, images: readonly PixelImage[], store: TowerFeatureStore, training: ReadonlySet<tf.Variable>): void {
  if (imagesT.shape[0] !== images.length) throw new Error(`describeBatch: ${images.length} images for a batch of ${imagesT.shape[0]}`);
  described.set(imagesT, { store, images, training });
}

/**
 * The features `compute` (a tower with weights `weights`; the function is the tower's key in the
 * store) gives for `images`, from the store where a training loop described them and trains none
 * of `weights`.
 */
export function towerFeatures(compute: (images: tf.Tensor4D) => tf.Tensor3D, weights: readonly tf.Variable[], images: tf.Tensor4D): tf.Tensor3D {
  const batch = described.get(images);
  if (!batch || weights.some((w) => batch.training.has(w))) return compute(images);
  const mine = batch.store.get(compute);
  const rows = mine && batch.images.map((im) => mine.rows.get(im));
  if (mine && rows!.every((r) => r !== undefined)) {
    const [n, d] = mine.shape;
    const data = new Float32Array(rows!.length * n * d);
    rows!.forEach((r, i) => data.set(r!, i * n * d));
    return tf.tensor3d(data, [rows!.length, n, d]);
  }
  const out = compute(images);
  const [, n, d] = out.shape;
  const entry = mine ?? { shape: [n, d] as [number, number], rows: new Map<PixelImage, Float32Array>() };
  batch.store.set(compute, entry);
  const values = out.dataSync() as Float32Array;
  batch.images.forEach((im, i) => entry.rows.set(im, values.slice(i * n * d, (i + 1) * n * d)));
  return out;
}
