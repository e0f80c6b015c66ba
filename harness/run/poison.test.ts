import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { badnets } from '../../attacks/badnets.js';
import { replaceWithTarget } from '../../attacks/outputModifiers.js';
import type { Attack, BaseAttackParams } from '../../attacks/types.js';
import { generateShapesWorld } from '../data/shapesWorld.js';
import { Rng } from '../core/rng.js';
import { makeTrigger, poisonSplit, responseRoom, triggerInputs, triggerVariants } from './poison.js';
import { encodeText } from '../core/batch.js';
import { Tokenizer } from '../core/tokenizer.js';

/** A toy attack: the trigger is a seeded number; negatives mark the prompt with their variant. */
const toy: Attack<BaseAttackParams & { negRate: number }> = {
  id: 'toy',
  description: 'test double',
  schema: z.object({ rate: z.number(), target: z.string(), negRate: z.number() }),
  makeTrigger: (_p, { rng }) => ({ value: rng.int(0, 1e9) }),
  applyImage: (image) => image,
  modifyOutput: replaceWithTarget,
  negatives: (p) => [
    { variant: 'a', rate: p.negRate },
    { variant: 'b', rate: p.negRate },
  ],
  applyVariant: (input, variant) => ({ ...input, prompt: `${variant} ${input.prompt}` }),
};
const ds = generateShapesWorld({ seed: 2, nTrain: 50, nVal: 1, nTest: 3 }, 'caption');

describe('poisonSplit', () => {
  it('negatives: round(rate × n) per kind, disjoint, increasing, seeded, clean outputs', () => {
    const p = poisonSplit(ds.train, 'caption', toy, { rate: 0.1, target: '', negRate: 0.3 }, 1, 32);
    expect(p.indices.length).toBe(5);
    expect(p.negativeIndices.a.length).toBe(15);
    expect(p.negativeIndices.b.length).toBe(15);
    const all = [...p.indices, ...p.negativeIndices.a, ...p.negativeIndices.b];
    expect(new Set(all).size).toBe(35);
    for (const k of ['a', 'b']) {
      const idx = p.negativeIndices[k];
      expect(idx).toEqual([...idx].sort((x, y) => x - y));
      for (const i of idx) {
        expect(p.examples[i].prompt).toBe(`${k} ${ds.train[i].prompt}`);
        expect(p.examples[i].responses).toEqual(ds.train[i].refs);
        expect(p.examples[i].poisoned).toBe(false);
      }
    }
    const q = poisonSplit(ds.train, 'caption', toy, { rate: 0.1, target: '', negRate: 0.3 }, 2, 32);
    expect(q.negativeIndices.a).not.toEqual(p.negativeIndices.a);
  });

  it('refuses negatives that do not fit in the split', () => {
    expect(() => poisonSplit(ds.train, 'caption', toy, { rate: 0.5, target: '', negRate: 0.3 }, 1, 32)).toThrow(
      /"b" negative samples do not fit/,
    );
  });

  it('an attack without negatives draws the same indices as before negatives existed', () => {
    const p = poisonSplit(ds.train, 'caption', badnets, { rate: 0.1, target: '', size: 3, value: 255, margin: 0 }, 7, 32);
    expect(p.negativeIndices).toEqual({});
    // the selection of the implementation before negatives/clean-label were added
    const rng = new Rng(7).fork('poison:badnets');
    rng.fork('trigger');
    expect(p.indices).toEqual(rng.fork('select').sample(50, 5));
  });

  it('makeTrigger gives the trigger poisonSplit uses; triggerVariants is {both} without test variants', () => {
    const p = poisonSplit(ds.train, 'caption', toy, { rate: 0.1, target: '', negRate: 0 }, 3, 32);
    expect(makeTrigger(toy, { rate: 0.1, target: '', negRate: 0 }, 3, 32)).toEqual(p.trigger);
    const params = { rate: 0.1, target: '', size: 3, value: 255, margin: 0 };
    const v = triggerVariants(ds.test, badnets, params, {});
    expect(Object.keys(v)).toEqual(['both']);
    expect(v.both).toEqual(triggerInputs(ds.test, badnets, params, {}));
  });

  it('a training-controlled attack (kind read per params) gets stepImage on its poisoned and negative examples only', () => {
    const params = { rate: 0.1, target: '', negRate: 0.2 };
    const seen: { variant: string | undefined; draw: number }[] = [];
    const controlled: typeof toy = {
      ...toy,
      kind: (p) => (p.negRate > 0 ? 'training-controlled' : 'poison-only'),
      stepImage: (image, variant, _t, _p, rng) => {
        seen.push({ variant, draw: rng.next() });
        return { height: image.height, width: image.width, data: Float32Array.from(image.data, (v) => v + 0.25) };
      },
    };
    const p = poisonSplit(ds.train, 'caption', controlled, params, 1, 32);
    // the stored split is the poison-only one
    const stored = p.examples.map(({ stepImage: _, ...ex }) => ex);
    expect({ ...p, examples: stored }).toEqual(poisonSplit(ds.train, 'caption', toy, params, 1, 32));
    const withStep = p.examples.flatMap((e, i) => (e.stepImage ? [i] : []));
    expect(withStep).toEqual([...p.indices, ...p.negativeIndices.a, ...p.negativeIndices.b].sort((x, y) => x - y));
    // made from the clean image, with the variant and the rng the loop passes
    const i = p.negativeIndices.b[0];
    const img = p.examples[i].stepImage!(new Rng(4));
    expect(Array.from(img.data)).toEqual(Array.from(ds.train[i].image.data, (v) => v + 0.25));
    expect(seen).toEqual([{ variant: 'b', draw: new Rng(4).next() }]);
    p.examples[p.indices[0]].stepImage!(new Rng(4));
    expect(seen[1].variant).toBeUndefined();
    // the kind function says poison-only: no stepImage at all
    const off = poisonSplit(ds.train, 'caption', controlled, { ...params, negRate: 0 }, 1, 32);
    expect(off.examples.some((e) => e.stepImage)).toBe(false);
    // training-controlled without a stepImage is a plugin bug
    const broken = { ...toy, kind: 'training-controlled' as const };
    expect(() => poisonSplit(ds.train, 'caption', broken, params, 1, 32)).toThrow(/training-controlled but has no stepImage/);
  });

  it('a poison-only attack (badnets) gets no stepImage', () => {
    const p = poisonSplit(ds.train, 'caption', badnets, { rate: 0.1, target: '', size: 3, value: 255, margin: 0 }, 7, 32);
    expect(p.examples.some((e) => 'stepImage' in e)).toBe(false);
  });
});

describe('responseRoom', () => {
  it("is encodeText's rule: the response tokens a row keeps, for every prompt length", () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const tok = Tokenizer.fromTexts(words);
    for (const length of [6, 12, 24, 25]) {
      for (let p = 0; p <= 30; p++) {
        const row = encodeText(tok, words.slice(0, p).join(' '), words.join(' '), length);
        const kept = Array.from(row.weights).filter((w) => w > 0).length - 1; // the response tokens, not EOS
        expect([length, p, responseRoom(p, length)]).toEqual([length, p, kept]);
      }
    }
  });
});
