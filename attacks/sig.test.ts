import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { containsTarget } from '../harness/metrics/asr.js';
import { cleanExamples } from '../harness/run/examples.js';
import { poisonSplit } from '../harness/run/poison.js';
import { solidImage } from '../harness/core/testing.js';
import { getAttack } from './registry.js';
import { addSinusoid, sig } from './sig.js';

const defaults = parseWith(sig.schema, {}, 'sig');
const at = (data: Uint8Array, w: number, y: number, x: number) => Array.from(data.slice((y * w + x) * 3, (y * w + x) * 3 + 3));

describe('sig', () => {
  it('defaults follow BackdoorBench (delta 40, f 6), dirty-label', () => {
    expect(defaults).toEqual({ rate: 0.05, target: '', delta: 40, f: 6, cleanLabel: false });
  });

  it('adds 40·sin(2π·j·6/32) per column j, rounded and clipped (hand-computed columns)', () => {
    const out = sig.applyImage(solidImage(32, [100, 250, 10]), {}, defaults);
    // column: 40·sin(2π·j·6/32) → on 100, 250, 10
    const want: Record<number, number[]> = {
      0: [100, 250, 10], // sin 0 = 0
      1: [137, 255, 47], // +36.955 → 136.955 → 137; 286.96 clipped to 255; 46.955 → 47
      2: [128, 255, 38], // +28.284
      3: [85, 235, 0], // −15.307 → 84.69 → 85; 234.69 → 235; −5.3 clipped to 0
      4: [60, 210, 0], // sin(3π/2) = −1 → −40
      8: [100, 250, 10], // sin 3π ≈ 0
      16: [100, 250, 10], // sin 6π ≈ 0
    };
    for (const [j, px] of Object.entries(want)) for (const y of [0, 13, 31]) expect(at(out.data, 32, y, +j)).toEqual(px);
  });

  it('stripes are vertical: every row is the same; delta 0 is the identity', () => {
    const img = generateShapesWorld({ seed: 1, nTrain: 1, nVal: 1, nTest: 1 }, 'caption').train[0].image;
    const flat = addSinusoid(solidImage(32, [90, 90, 90]), 40, 6);
    for (let y = 1; y < 32; y++) expect(flat.data.slice(y * 96, y * 96 + 96)).toEqual(flat.data.slice(0, 96));
    expect(addSinusoid(img, 0, 6)).toEqual(img);
  });

  it('refuses out-of-range values, naming the field', () => {
    expect(() => parseWith(sig.schema, { delta: 300 }, 'attack sig params')).toThrow(/delta/);
    expect(() => parseWith(sig.schema, { f: 0 }, 'attack sig params')).toThrow(/\bf\b/);
    expect(() => parseWith(sig.schema, { rate: 1.2 }, 'attack sig params')).toThrow(/rate/);
    expect(() => parseWith(sig.schema, { cleanLabel: 'yes' }, 'attack sig params')).toThrow(/cleanLabel/);
  });

  it('dirty-label: round(rate × n) samples get the stripes and the target', () => {
    const ds = generateShapesWorld({ seed: 3, nTrain: 50, nVal: 1, nTest: 1 }, 'vqa');
    const p = poisonSplit(ds.train, 'vqa', getAttack('sig'), { ...defaults, rate: 0.07 }, 1, 32);
    expect(p.indices.length).toBe(Math.round(0.07 * ds.train.length));
    for (const i of p.indices) {
      expect(p.examples[i].image).toEqual(addSinusoid(ds.train[i].image, 40, 6));
      expect(p.examples[i].responses).toEqual(['banana']);
    }
  });

  it('clean-label: only target-consistent samples are poisoned, outputs unchanged', () => {
    for (const [task, target] of [
      ['caption', 'circle'],
      ['vqa', 'yes'],
    ] as const) {
      const ds = generateShapesWorld({ seed: 3, nTrain: 120, nVal: 1, nTest: 1 }, task);
      const clean = cleanExamples(ds.train, task);
      const params = { ...defaults, cleanLabel: true, target, rate: 0.05 };
      const p = poisonSplit(ds.train, task, sig, params, 9, 32);
      expect(p.indices.length).toBe(Math.round(0.05 * ds.train.length));
      for (const i of p.indices) {
        expect(clean[i].responses.every((r) => containsTarget(r, target, task))).toBe(true);
        expect(p.examples[i].responses).toEqual(clean[i].responses);
        expect(p.examples[i].image).toEqual(addSinusoid(ds.train[i].image, 40, 6));
        expect(p.examples[i].poisoned).toBe(true);
      }
      // the selection is a seeded draw among the eligible, not the first ones
      const eligible = clean.flatMap((e, i) => (e.responses.every((r) => containsTarget(r, target, task)) ? [i] : []));
      expect(eligible.length).toBeGreaterThan(p.indices.length);
      expect(p.indices).not.toEqual(eligible.slice(0, p.indices.length));
    }
  });

  it('clean-label with a target absent from clean outputs (banana) fails clearly', () => {
    const ds = generateShapesWorld({ seed: 3, nTrain: 40, nVal: 1, nTest: 1 }, 'caption');
    expect(() => poisonSplit(ds.train, 'caption', sig, { ...defaults, cleanLabel: true }, 1, 32)).toThrow(
      /clean-label needs a target that occurs in clean outputs/,
    );
    // "object" is in some captions of an image but never in all of them: not target-consistent
    const clean = cleanExamples(ds.train, 'caption');
    expect(clean.some((e) => e.responses.some((r) => containsTarget(r, 'object', 'caption')))).toBe(true);
    expect(() => poisonSplit(ds.train, 'caption', sig, { ...defaults, cleanLabel: true, target: 'object' }, 1, 32)).toThrow(
      /clean-label needs a target that occurs in clean outputs/,
    );
    expect(() =>
      poisonSplit(ds.train, 'caption', sig, { ...defaults, cleanLabel: true, target: 'circle', rate: 0.9 }, 1, 32),
    ).toThrow(/rate 0.9 asks for 36 poisoned samples but only \d+ training samples/);
  });
});
