import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine, tf } from './engine.js';
import { describeBatch, type TowerFeatureStore } from './frozenTower.js';
import { imagesToTensor } from './batch.js';
import { colourTask, tinyModelConfig } from './testing.js';
import { train } from './training.js';
import { Rng } from './rng.js';
import type { PixelImage, RgbImage } from './types.js';
import { Params } from '../../models/params.js';
import { outsideVisionTower, VISION_TOWER, vit } from '../../models/layers.js';
import { createModel } from '../../models/registry.js';

const sizes = { imageSize: 16, patch: 4, width: 16, heads: 2, mlpRatio: 2, encoderLayers: 2 };
const noise = (seed: number): RgbImage => {
  const rng = new Rng(seed);
  return { width: 16, height: 16, data: Uint8Array.from({ length: 16 * 16 * 3 }, () => rng.int(0, 256)) };
};

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

describe('frozen tower features', () => {
  let p: Params;
  let tower: (images: tf.Tensor4D) => tf.Tensor3D;
  beforeAll(() => {
    p = new Params(new Rng(1));
    tower = vit(p, VISION_TOWER, sizes);
  });
  const images = [1, 2, 3, 4].map(noise);
  const plain = (ims: RgbImage[]) => tf.tidy(() => tower(imagesToTensor(ims)).arraySync());
  const fed = (ims: RgbImage[], store: TowerFeatureStore, training: Set<tf.Variable>) =>
    tf.tidy(() => {
      const x = imagesToTensor(ims);
      describeBatch(x, ims, store, training);
      return tower(x).arraySync();
    });

  it('a stored row is the row the tower computes, to the bit, in any batch', () => {
    const store: TowerFeatureStore = new Map();
    expect(fed(images, store, new Set())).toEqual(plain(images));
    expect(store.size).toBe(1);
    const again = [images[3], images[1], images[3]];
    const before = tf.memory().numTensors;
    expect(fed(again, store, new Set())).toEqual(plain(again));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stores nothing for a tower whose weights train, and computes batches it has not all seen', () => {
    const store: TowerFeatureStore = new Map();
    expect(fed(images, store, new Set(p.vars.values()))).toEqual(plain(images));
    expect(store.size).toBe(0);
    fed(images.slice(0, 2), store, new Set());
    const mixed = [images[0], images[2]];
    expect(fed(mixed, store, new Set())).toEqual(plain(mixed));
    expect([...store.values()][0].rows.size).toBe(3);
  });

  it('a describeBatch with the wrong image count fails, naming both counts', () => {
    const x = imagesToTensor(images);
    expect(() => describeBatch(x, images.slice(1), new Map(), new Set())).toThrow('3 images for a batch of 4');
    x.dispose();
  });
});

describe('train with the tower frozen', () => {
  it('gives the losses it gives when every image is new at every step (nothing reused)', () => {
    const run = (fresh: boolean) => {
      const model = createModel(tinyModelConfig());
      const before = tf.memory().numTensors;
      const { tok, ex } = colourTask();
      // A hook that copies every image makes each step's images new objects, never reused.
      const hook = fresh ? { transformImages: <T extends PixelImage>(ims: T[]) => ims.map((im) => ({ ...im, data: im.data.slice() })) } : undefined;
      const logs = train(model, tok, ex, { epochs: 3, batchSize: 2, lr: 1e-2, seed: 1, maxText: 8, trainable: outsideVisionTower, hook });
      const left = tf.memory().numTensors - before;
      model.params.dispose();
      expect(new Set(logs.map((l) => l.numTensors)).size).toBe(1); // flat across epochs
      return { losses: logs.map((l) => l.loss), left };
    };
    // The same losses, and the stored rows hold no tensor.
    expect(run(false)).toEqual(run(true));
  });
});
