/**
 * WaNet on the fly (training-controlled) through the real training loop: what the model is fed
 * at each step, recorded by a hook that changes nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import type { PixelImage } from '../harness/core/types.js';
import { initEngine } from '../harness/core/engine.js';
import { poisonSplit } from '../harness/run/poison.js';
import { tinyModelConfig } from '../harness/core/testing.js';
import { Tokenizer } from '../harness/core/tokenizer.js';
import { defaultLoss, train } from '../harness/core/training.js';
import { createModel } from '../models/registry.js';
import { attackKind } from './types.js';
import { wanet, warpFloat, type WanetTrigger } from './wanet.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const ds = generateShapesWorld({ seed: 5, nTrain: 20, nVal: 1, nTest: 1 }, 'caption');
const tok = Tokenizer.fromTexts(ds.train.flatMap((s) => [s.prompt, ...s.refs, 'a photo of the banana']));
const params = parseWith(wanet.schema, { rate: 0.1 }, 'wanet');
const split = poisonSplit(ds.train, 'caption', wanet, params, 2, 32);

/** Per epoch (one step of the whole split), each example's fed image by id, and the fed tensor's values by id. */
function feed(seed: number) {
  const model = createModel(tinyModelConfig({ imageSize: 32, vocabSize: tok.size, maxText: 16 }));
  const images: Map<string, PixelImage>[] = [];
  const tensors: Map<string, Float32Array>[] = [];
  train(model, tok, split.examples, {
    epochs: 2,
    batchSize: 20,
    lr: 1e-3,
    seed,
    maxText: 16,
    hook: {
      transformImages: (batch) => batch, // a defense's transform slot: sees the attack's images
      loss: (ctx) => {
        images.push(new Map(ctx.ids.map((id, i) => [id, ctx.images[i]])));
        const values = ctx.imagesT.dataSync() as Float32Array;
        const n = 32 * 32 * 3;
        tensors.push(new Map(ctx.ids.map((id, i) => [id, values.slice(i * n, (i + 1) * n)])));
        return defaultLoss(ctx);
      },
    },
  });
  model.params.dispose();
  return { images, tensors };
}

describe('wanet on the fly', () => {
  const poisoned = split.indices.map((i) => ds.train[i].id);
  const cross = split.negativeIndices.cross.map((i) => ds.train[i].id);
  let run: ReturnType<typeof feed>;
  beforeAll(() => {
    run = feed(7);
  });

  it('is training-controlled by default, poison-only with onTheFly false', () => {
    expect(attackKind(wanet, params)).toBe('training-controlled');
    expect(attackKind(wanet, { ...params, onTheFly: false })).toBe('poison-only');
    expect(split.examples.filter((e) => e.stepImage).map((e) => e.id).sort()).toEqual([...poisoned, ...cross].sort());
    const off = poisonSplit(ds.train, 'caption', wanet, { ...params, onTheFly: false }, 2, 32);
    expect(off.examples.some((e) => e.stepImage)).toBe(false);
    // the stored images are the former poison-only ones either way
    expect(off.examples.map((e) => e.image)).toEqual(split.examples.map((e) => e.image));
  });

  it('a training step feeds poisoned examples the fixed warp in float, unrounded, made from the clean image', () => {
    const grid = (split.trigger as WanetTrigger).grid;
    for (const epoch of [0, 1])
      for (const id of poisoned) {
        const clean = ds.train.find((s) => s.id === id)!.image;
        const fed = run.images[epoch].get(id)!;
        expect(fed.data).toBeInstanceOf(Float32Array);
        expect(Array.from(fed.data)).toEqual(Array.from(warpFloat(clean, grid).data));
        const t = run.tensors[epoch].get(id)!;
        const x255 = Array.from(t, (v) => v * 255);
        expect(x255.filter((v) => Math.abs(v - Math.round(v)) > 0.01).length).toBeGreaterThan(t.length / 2);
        x255.forEach((v, i) => expect(Math.abs(v - fed.data[i])).toBeLessThan(1e-3));
      }
    // clean examples are fed their stored uint8 image as before
    const cleanId = ds.train.find((s) => !poisoned.includes(s.id) && !cross.includes(s.id))!.id;
    expect(run.images[0].get(cleanId)).toBe(split.examples.find((e) => e.id === cleanId)!.image);
  });

  it('cross examples get a fresh float warp at every step, reproducible per seed', () => {
    for (const id of cross) {
      const [a, b] = [run.images[0].get(id)!, run.images[1].get(id)!];
      expect(a.data).toBeInstanceOf(Float32Array);
      expect(Array.from(a.data)).not.toEqual(Array.from(b.data));
    }
    const again = feed(7);
    const other = feed(8);
    for (const id of cross)
      for (const epoch of [0, 1]) {
        expect(Array.from(again.images[epoch].get(id)!.data)).toEqual(Array.from(run.images[epoch].get(id)!.data));
        expect(Array.from(other.images[epoch].get(id)!.data)).not.toEqual(Array.from(run.images[epoch].get(id)!.data));
      }
  });
});
