import { describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseOverride, parseWith } from './schema.js';
import { UserError } from '../core/errors.js';

describe('experiment config', () => {
  it('fills defaults', () => {
    const c = parseWith(experimentSchema, {}, 'test');
    expect(c.tasks).toEqual(['caption', 'vqa']);
    expect(c.defenses.map((d) => d.id)).toEqual(['none', 'pcr']);
    expect(c.attacks[0].id).toBe('badnets');
  });
  it('names the field and the bad value in one line', () => {
    expect(() => parseWith(experimentSchema, { sft: { epochs: -3 } }, 'cfg.json')).toThrow(UserError);
    expect(() => parseWith(experimentSchema, { sft: { epochs: -3 } }, 'cfg.json')).toThrow(/cfg\.json: sft\.epochs: .*got -3/);
    expect(() => parseWith(experimentSchema, { tasks: ['captions'] }, 'cfg')).toThrow(/tasks\.0/);
    expect(() => parseWith(experimentSchema, { sft: { epoch: 3 } }, 'cfg')).toThrow(/sft.*epoch/);
  });
  it('layers profiles and --set overrides', () => {
    const merged = layer({ sft: { epochs: 6, lr: 1 }, seeds: [1] }, parseOverride('sft.epochs=2'));
    expect(merged).toEqual({ sft: { epochs: 2, lr: 1 }, seeds: [1] });
    expect(parseOverride('seeds=[1,2]')).toEqual({ seeds: [1, 2] });
    expect(parseOverride('name=abc')).toEqual({ name: 'abc' });
    expect(() => parseOverride('nonsense')).toThrow(/key\.path=value/);
  });
});

describe('per-task overrides', () => {
  it('layer over the base for that task only, validated', async () => {
    const { configForTask } = await import('./schema.js');
    const c = parseWith(experimentSchema, { perTask: { vqa: { data: { nTrain: 7 }, sft: { epochs: 2 } } } }, 'cfg');
    expect(configForTask(c, 'vqa').data.nTrain).toBe(7);
    expect(configForTask(c, 'vqa').sft.epochs).toBe(2);
    expect(configForTask(c, 'vqa').sft.lr).toBe(c.sft.lr);
    expect(configForTask(c, 'caption').data.nTrain).toBe(c.data.nTrain);
    const bad = parseWith(experimentSchema, { perTask: { vqa: { sft: { epochs: -1 } } } }, 'cfg');
    expect(() => configForTask(bad, 'vqa')).toThrow(/perTask\.vqa: sft\.epochs/);
  });
});
