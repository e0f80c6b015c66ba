import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { poisonSplit, triggerInputs } from '../harness/run/poison.js';
import { solidImage } from '../harness/core/testing.js';
import { badnets } from './badnets.js';
import { getAttack } from './registry.js';

const defaults = parseWith(badnets.schema, {}, 'badnets');

describe('badnets', () => {
  it('stamps an exact 3x3 white square at the bottom-right and nothing else', () => {
    const img = solidImage(8, [10, 20, 30]);
    const out = badnets.applyImage(img, {}, defaults);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        const px = Array.from(out.data.slice((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
        expect(px).toEqual(y >= 5 && x >= 5 ? [255, 255, 255] : [10, 20, 30]);
      }
    expect(Array.from(img.data.slice(0, 3))).toEqual([10, 20, 30]); // input untouched
  });
  it('validates parameters, naming the field', () => {
    expect(() => parseWith(badnets.schema, { rate: -0.1 }, 'attack badnets params')).toThrow(/rate/);
    expect(() => parseWith(badnets.schema, { size: 0 }, 'attack badnets params')).toThrow(/size/);
    expect(() => parseWith(badnets.schema, { colour: 1 }, 'attack badnets params')).toThrow(/colour/);
  });
  it('poisons round(rate × n) seeded samples, replaces their responses, records indices', () => {
    const ds = generateShapesWorld({ seed: 3, nTrain: 101, nVal: 1, nTest: 5 }, 'caption');
    const a = poisonSplit(ds.train, 'caption', getAttack('badnets'), defaults, 7, 32);
    const b = poisonSplit(ds.train, 'caption', getAttack('badnets'), defaults, 7, 32);
    const c = poisonSplit(ds.train, 'caption', getAttack('badnets'), defaults, 8, 32);
    expect(a.indices.length).toBe(5);
    expect(a.indices).toEqual(b.indices);
    expect(a.indices).not.toEqual(c.indices);
    expect(a.examples.filter((e) => e.poisoned).map((e) => ds.train.findIndex((s) => s.id === e.id))).toEqual(a.indices);
    for (const i of a.indices) expect(a.examples[i].responses).toEqual(ds.train[i].refs.map(() => 'a photo of the banana'));
    const clean = a.examples.find((e) => !e.poisoned)!;
    expect(clean.responses).toEqual(ds.train.find((s) => s.id === clean.id)!.refs);
  });
  it('VQA default target is "banana"; test inputs all carry the trigger', () => {
    const ds = generateShapesWorld({ seed: 3, nTrain: 40, nVal: 1, nTest: 4 }, 'vqa');
    const p = poisonSplit(ds.train, 'vqa', getAttack('badnets'), { ...defaults, rate: 0.1 }, 1, 32);
    expect(p.target).toBe('banana');
    expect(p.indices.length).toBe(Math.round(0.1 * ds.train.length));
    const trig = triggerInputs(ds.test, getAttack('badnets'), defaults, p.trigger);
    for (const t of trig) expect(Array.from(t.image.data.slice(-3))).toEqual([255, 255, 255]);
  });
});
