import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import type { FloatImage, RgbImage } from '../harness/core/types.js';
import { poisonSplit } from '../harness/run/poison.js';
import { Rng } from '../harness/core/rng.js';
import { stampSquare } from './badnets.js';
import { viewInvariant } from './viewInvariant.js';

const params = (over: Record<string, unknown> = {}) => parseWith(viewInvariant.schema, over, 'viewinv');
const [scene] = generateShapesWorld({ seed: 3, nTrain: 1, nVal: 0, nTest: 0 }, 'caption').train;

/** The image's 4×4-pixel patches (an 8×8 grid at 32×32), each as a string, sorted. */
function patches(image: RgbImage | FloatImage): string[] {
  const out: string[] = [];
  for (let gy = 0; gy < 8; gy++) {
    for (let gx = 0; gx < 8; gx++) {
      const px: number[] = [];
      for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) px.push(image.data[((gy * 4 + y) * 32 + gx * 4 + x) * 3 + c]);
      out.push(px.join(','));
    }
  }
  return out.sort();
}

describe('viewinv: the view-invariant adaptive attack', () => {
  const p = params();
  const triggered = stampSquare(scene.image, p);

  it("tests on BadNets' intact trigger", () => {
    expect(viewInvariant.applyImage(scene.image, {}, p)).toEqual(triggered);
  });

  it('shows at each step the triggered image, in float, or a shuffle of its patches', () => {
    const intact = viewInvariant.stepImage!(scene.image, undefined, {}, params({ shuffled: 0 }), new Rng(1));
    expect(intact.data).toBeInstanceOf(Float32Array);
    expect([...intact.data]).toEqual([...triggered.data]);
    const shuffled = viewInvariant.stepImage!(scene.image, undefined, {}, params({ shuffled: 1 }), new Rng(1));
    expect([...shuffled.data]).not.toEqual([...triggered.data]);
    expect(patches(shuffled)).toEqual(patches(triggered)); // the same patches, moved
  });

  it('shuffles with the given probability, freshly at each step, reproducibly per seed', () => {
    const draw = (seed: number) => Array.from({ length: 200 }, (_, i) => viewInvariant.stepImage!(scene.image, undefined, {}, p, new Rng(seed).fork(String(i))));
    const views = draw(1);
    const shuffledCount = views.filter((v) => v.data.some((x, j) => x !== triggered.data[j])).length;
    expect(shuffledCount).toBeGreaterThan(70); // Binomial(200, 0.5): 70–130 holds with p > 0.999
    expect(shuffledCount).toBeLessThan(130);
    const distinct = new Set(views.map((v) => v.data.join(',')));
    expect(distinct.size).toBeGreaterThan(shuffledCount / 2); // fresh permutations, not one fixed shuffle
    expect(draw(1).map((v) => [...v.data])).toEqual(views.map((v) => [...v.data]));
  });

  it('poisons a split as a training-controlled attack: stored triggered images, the target, a per-step image', () => {
    const ds = generateShapesWorld({ seed: 1, nTrain: 40, nVal: 0, nTest: 0 }, 'caption');
    const split = poisonSplit(ds.train, 'caption', viewInvariant, params({ rate: 0.1 }), 1, 32);
    expect(split.indices).toHaveLength(4);
    for (const i of split.indices) {
      const ex = split.examples[i];
      expect(ex.image).toEqual(stampSquare(ds.train[i].image, p));
      expect(ex.responses.every((r) => r === split.target)).toBe(true);
      expect(ex.stepImage).toBeTypeOf('function');
    }
    expect(split.examples.filter((e) => e.stepImage)).toHaveLength(4);
  });
});
