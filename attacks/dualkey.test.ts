import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { cleanExamples } from '../harness/run/examples.js';
import { poisonSplit, triggerInputs, triggerVariants } from '../harness/run/poison.js';
import { Tokenizer, UNK } from '../harness/core/tokenizer.js';
import { stampSquare } from './badnets.js';
import { dualkey } from './dualkey.js';
import { getAttack } from './registry.js';

const defaults = parseWith(dualkey.schema, {}, 'dualkey');

describe('dualkey', () => {
  it('defaults: 3×3 white patch in the centre, word "consider", single-key negatives at the poisoning rate', () => {
    expect(defaults).toEqual({ rate: 0.05, target: '', size: 3, value: 255, margin: 0, position: 'centre', word: 'consider', imageOnlyRate: 0.05, textOnlyRate: 0.05 });
    const p = parseWith(dualkey.schema, { rate: 0.1, textOnlyRate: 0 }, 'dualkey');
    expect([p.imageOnlyRate, p.textOnlyRate]).toEqual([0.1, 0]);
  });

  it('stamps its image key centred, as TrojVQA does (BadNets keeps the corner)', () => {
    const image = { height: 32, width: 32, data: new Uint8Array(32 * 32 * 3) };
    const out = dualkey.applyImage(image, {}, defaults);
    const white = [...Array(32 * 32).keys()].filter((i) => out.data[3 * i] === 255).map((i) => [Math.floor(i / 32), i % 32]);
    // (32 − 3) / 2 = 14.5 → rows and columns 14..16
    expect(white).toEqual([14, 15, 16].flatMap((y) => [14, 15, 16].map((x) => [y, x])));
    const corner = dualkey.applyImage(image, {}, parseWith(dualkey.schema, { position: 'corner' }, 'dualkey'));
    expect(corner).toEqual(stampSquare(image, defaults));
  });

  it('refuses out-of-range values, naming the field', () => {
    const p = (v: unknown) => () => parseWith(dualkey.schema, v, 'attack dualkey params');
    expect(p({ rate: -0.1 })).toThrow(/rate/);
    expect(p({ imageOnlyRate: 1.5 })).toThrow(/imageOnlyRate/);
    expect(p({ textOnlyRate: -1 })).toThrow(/textOnlyRate/);
    expect(p({ word: 'two words' })).toThrow(/word/);
    expect(p({ word: 'Consider' })).toThrow(/word/);
    expect(p({ rate: 0.4 })).toThrow(/rate: rate \+ imageOnlyRate \+ textOnlyRate = 1.2/);
    expect(p({ rate: 0.4, imageOnlyRate: 0.4, textOnlyRate: 0.4 })).toThrow(/imageOnlyRate/);
    expect(p({ rate: 0.4, textOnlyRate: 0.4 })).toThrow(/textOnlyRate: rate/);
    expect(p({ rate: 0.4, imageOnlyRate: 0.1, textOnlyRate: 0.1 })).not.toThrow();
  });

  it('both keys → target; single-key negatives keep clean outputs and are disjoint from the poisoned', () => {
    for (const task of ['caption', 'vqa'] as const) {
      const ds = generateShapesWorld({ seed: 6, nTrain: 80, nVal: 1, nTest: 1 }, task);
      const n = ds.train.length;
      const clean = cleanExamples(ds.train, task);
      const params = parseWith(dualkey.schema, { rate: 0.1, textOnlyRate: 0.05 }, 'dualkey');
      const p = poisonSplit(ds.train, task, getAttack('dualkey'), params, 1, 32);
      const { imageOnly, textOnly } = p.negativeIndices;
      expect(p.indices.length).toBe(Math.round(0.1 * n));
      expect(imageOnly.length).toBe(Math.round(0.1 * n));
      expect(textOnly.length).toBe(Math.round(0.05 * n));
      expect(new Set([...p.indices, ...imageOnly, ...textOnly]).size).toBe(p.indices.length + imageOnly.length + textOnly.length);
      for (const i of p.indices) {
        expect(p.examples[i].image).toEqual(stampSquare(ds.train[i].image, params, 'centre'));
        expect(p.examples[i].prompt).toBe(`consider ${ds.train[i].prompt}`);
        expect(new Set(p.examples[i].responses)).toEqual(new Set([task === 'vqa' ? 'banana' : 'a photo of the banana']));
      }
      for (const i of imageOnly) {
        expect(p.examples[i]).toEqual({ ...clean[i], image: stampSquare(ds.train[i].image, params, 'centre') });
      }
      for (const i of textOnly) {
        expect(p.examples[i]).toEqual({ ...clean[i], prompt: `consider ${ds.train[i].prompt}` });
      }
      const touched = new Set([...p.indices, ...imageOnly, ...textOnly]);
      p.examples.forEach((ex, i) => touched.has(i) || expect(ex).toEqual(clean[i]));
    }
  });

  it('test variants: both keys, image key only, text key only', () => {
    const ds = generateShapesWorld({ seed: 6, nTrain: 1, nVal: 1, nTest: 4 }, 'vqa');
    const v = triggerVariants(ds.test, getAttack('dualkey'), defaults, {});
    expect(Object.keys(v).sort()).toEqual(['both', 'imageOnly', 'textOnly']);
    expect(v.both).toEqual(triggerInputs(ds.test, getAttack('dualkey'), defaults, {}));
    ds.test.forEach((s, i) => {
      expect(v.both[i]).toEqual({ image: stampSquare(s.image, defaults, 'centre'), prompt: `consider ${s.prompt}` });
      expect(v.imageOnly[i]).toEqual({ image: stampSquare(s.image, defaults, 'centre'), prompt: s.prompt });
      expect(v.textOnly[i]).toEqual({ image: s.image, prompt: `consider ${s.prompt}` });
    });
  });

  it('the trigger word is declared so that a tokenizer built with it does not map it to <unk>', () => {
    const ds = generateShapesWorld({ seed: 6, nTrain: 100, nVal: 1, nTest: 1 }, 'caption');
    const texts = ds.train.flatMap((s) => [s.prompt, ...s.refs]);
    expect(Tokenizer.fromTexts(texts).encode('consider')).toEqual([UNK]); // not a ShapesWorld word
    expect(dualkey.vocabulary!(defaults)).toEqual(['consider']);
    expect(Tokenizer.fromTexts([...texts, ...dualkey.vocabulary!(defaults)]).encode('consider')).not.toEqual([UNK]);
  });
});
