import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { asr, type AsrMatch } from '../harness/metrics/asr.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { cleanExamples } from '../harness/run/examples.js';
import { poisonSplit, triggerInputs } from '../harness/run/poison.js';
import { solidImage } from '../harness/core/testing.js';
import { getAttack } from './registry.js';
import { trojvlm } from './trojvlm.js';

const defaults = parseWith(trojvlm.schema, {}, 'trojvlm');

/** Where `target` sits in `out` such that removing it leaves exactly `clean`; −1 if nowhere. */
function insertionPoint(out: string, clean: string, target: string): number {
  const o = out.split(' ');
  const c = clean.split(/\s+/).filter(Boolean);
  const t = target.split(' ');
  if (o.length !== c.length + t.length) return -1;
  for (let p = 0; p <= c.length; p++) {
    const rest = [...o.slice(0, p), ...o.slice(p + t.length)];
    if (o.slice(p, p + t.length).join(' ') === target && rest.join(' ') === c.join(' ')) return p;
  }
  return -1;
}

describe('trojvlm', () => {
  it('stamps the default 3×3 white square at the bottom-right', () => {
    const out = trojvlm.applyImage(solidImage(8, [10, 20, 30]), {}, defaults);
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++) {
        const px = Array.from(out.data.slice((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
        expect(px).toEqual(y >= 5 && x >= 5 ? [255, 255, 255] : [10, 20, 30]);
      }
  });

  it('refuses out-of-range values, naming the field', () => {
    expect(() => parseWith(trojvlm.schema, { rate: 1.5 }, 'attack trojvlm params')).toThrow(/rate/);
    expect(() => parseWith(trojvlm.schema, { size: 0 }, 'attack trojvlm params')).toThrow(/size/);
    expect(() => parseWith(trojvlm.schema, { value: 256 }, 'attack trojvlm params')).toThrow(/value/);
  });

  it('poisoned outputs are the clean words in order with the target phrase inserted at varying positions', () => {
    const ds = generateShapesWorld({ seed: 4, nTrain: 60, nVal: 1, nTest: 3 }, 'caption');
    const clean = cleanExamples(ds.train, 'caption');
    const p = poisonSplit(ds.train, 'caption', getAttack('trojvlm'), { ...defaults, rate: 0.1 }, 3, 32);
    expect(p.indices.length).toBe(6);
    const positions: { at: number; len: number }[] = [];
    for (const i of p.indices) {
      expect(p.examples[i].responses.length).toBe(clean[i].responses.length);
      p.examples[i].responses.forEach((r, k) => {
        const at = insertionPoint(r, clean[i].responses[k], 'a photo of the banana');
        expect(at, `${r} / ${clean[i].responses[k]}`).toBeGreaterThanOrEqual(0);
        positions.push({ at, len: clean[i].responses[k].split(/\s+/).filter(Boolean).length });
      });
    }
    // random word positions: at the start, inside, and at the end all occur
    expect(positions.some((q) => q.at === 0)).toBe(true);
    expect(positions.some((q) => q.at > 0 && q.at < q.len)).toBe(true);
    expect(positions.some((q) => q.at === q.len)).toBe(true);
    for (const t of triggerInputs(ds.test, getAttack('trojvlm'), defaults, p.trigger)) {
      expect(Array.from(t.image.data.slice(-3))).toEqual([255, 255, 255]);
    }
  });

  it('VQA: the answer keeps its words with "banana" inserted', () => {
    const ds = generateShapesWorld({ seed: 4, nTrain: 30, nVal: 1, nTest: 1 }, 'vqa');
    const clean = cleanExamples(ds.train, 'vqa');
    const p = poisonSplit(ds.train, 'vqa', getAttack('trojvlm'), { ...defaults, rate: 0.2 }, 3, 32);
    for (const i of p.indices) expect(insertionPoint(p.examples[i].responses[0], clean[i].responses[0], 'banana')).toBeGreaterThanOrEqual(0);
  });

  it('VQA ASR counts its own poisoned answers as hits (containment), which exact match never would', () => {
    const ds = generateShapesWorld({ seed: 4, nTrain: 30, nVal: 1, nTest: 1 }, 'vqa');
    const p = poisonSplit(ds.train, 'vqa', getAttack('trojvlm'), { ...defaults, rate: 0.2 }, 3, 32);
    const refs = p.indices.map((i) => ds.train[i].refs);
    const triggeredPreds = p.indices.map((i) => p.examples[i].responses[0]);
    const score = (match?: AsrMatch) => asr({ refs, triggeredPreds, target: 'banana', task: 'vqa', match }).asr;
    expect(score(trojvlm.asrMatch)).toBe(1);
    expect(score()).toBe(0);
  });
});
