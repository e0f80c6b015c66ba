import { describe, expect, it } from 'vitest';
import { experimentSchema, parseWith } from '../config/schema.js';
import { expandGrid, experimentHash, planStages, splitSizes } from './grid.js';
import { runId } from '../run/runSpec.js';
import { validatePlugins } from './validate.js';
import { hashOf } from '../core/hash.js';

const exp = (over: Record<string, unknown> = {}) =>
  parseWith(experimentSchema, { tasks: ['caption'], attacks: [{ id: 'badnets' }, { id: 'sig', params: { delta: 30 } }], defenses: [{ id: 'none' }], ...over }, 'test');

describe('the poisoning-rate axis', () => {
  it('runs each attack once per rate, rate overridden, label suffixed', () => {
    const runs = expandGrid(exp({ rates: [0.01, 0.05] }));
    expect(runs.map(runId)).toEqual([
      'caption__llava__badnets@0.01__none__s1',
      'caption__llava__badnets@0.05__none__s1',
      'caption__llava__sig@0.01__none__s1',
      'caption__llava__sig@0.05__none__s1',
    ]);
    expect(runs.map((r) => r.attack.params)).toEqual([{ rate: 0.01 }, { rate: 0.05 }, { delta: 30, rate: 0.01 }, { delta: 30, rate: 0.05 }]);
  });

  it('leaves run ids and config hashes unchanged when no rates are given', () => {
    const runs = expandGrid(exp());
    expect(runs.map(runId)).toEqual(['caption__llava__badnets__none__s1', 'caption__llava__sig__none__s1']);
    expect(runs[0].attack).toEqual({ id: 'badnets', params: {} });
    expect('rates' in runs[0].exp && runs[0].exp.rates !== undefined).toBe(false);
  });

  it('refuses rates outside [0, 1]', () => {
    expect(() => exp({ rates: [0.05, 1.5] })).toThrow(/rates\.1: .*got 1\.5/);
  });
});

describe("an attack's per-task parameters", () => {
  it("a task's runs take its perTask params over params, under one label; a rates axis overrides both", () => {
    const e = exp({ tasks: ['caption', 'vqa'], attacks: [{ id: 'badnets', params: { rate: 0.2 }, perTask: { vqa: { rate: 0.02 } } }] });
    expect(expandGrid(e).map((r) => [runId(r), r.attack])).toEqual([
      ['caption__llava__badnets__none__s1', { id: 'badnets', params: { rate: 0.2 } }],
      ['vqa__llava__badnets__none__s1', { id: 'badnets', params: { rate: 0.02 } }],
    ]);
    expect(expandGrid({ ...e, rates: [0.1] }).map((r) => [runId(r), r.attack.params])).toEqual([
      ['caption__llava__badnets@0.1__none__s1', { rate: 0.1 }],
      ['vqa__llava__badnets@0.1__none__s1', { rate: 0.1 }],
    ]);
  });

  it('checks them before any run, naming the attack and the task', () => {
    const e = exp({ tasks: ['caption', 'vqa'], attacks: [{ id: 'badnets', perTask: { vqa: { rate: 2 } } }] });
    expect(() => validatePlugins(e)).toThrow(/attacks\[0\] \(badnets\) on vqa params/);
  });
});

describe('machine fields', () => {
  it('do not change a run’s config hash or the experiment hash (shards on unequal machines agree)', () => {
    const a = expandGrid(exp());
    const b = expandGrid(exp({ workers: 8 }));
    expect(b.map((r) => hashOf(r))).toEqual(a.map((r) => hashOf(r)));
    expect(experimentHash(exp({ workers: 8 }))).toBe(experimentHash(exp()));
    expect(experimentHash(exp({ seeds: [2] }))).not.toBe(experimentHash(exp()));
  });
});

describe('planStages', () => {
  const stageOf = (id: string) => ({ none: 'none', pcr: 'training', ft: 'post', jitter: 'inference' })[id]!;
  it('counts one pretrain per chain, one SFT per attack × training defense, one repair per post defense, one eval per run', () => {
    const e = exp({ seeds: [1, 2], defenses: [{ id: 'none' }, { id: 'pcr' }, { id: 'ft' }, { id: 'jitter' }] });
    const stages = planStages(expandGrid(e), stageOf);
    const count = (kind: string) => stages.filter((s) => s.kind === kind).length;
    expect(count('pretrain')).toBe(2); // 2 seeds × 1 model × 1 task
    expect(count('sft')).toBe(2 * 2 * 2); // × 2 attacks × (plain SFT shared by none/ft/jitter, PCR's SFT)
    expect(count('repair')).toBe(2 * 2); // ft, per backdoored model
    expect(count('eval')).toBe(2 * 2 * 4); // every run
    const pre = stages.find((s) => s.kind === 'pretrain')!;
    expect(pre.units).toBe(e.pretrain.epochs * 3000); // the default nTrain
    const ev = stages.find((s) => s.kind === 'eval')!;
    expect(ev.units).toBe((2 * 300 + 100) * e.text.captionMaxText); // default nTest, nVal
    expect(new Set(stages.filter((s) => s.kind === 'sft').map((s) => s.variant))).toEqual(new Set(['none', 'pcr']));
  });

  it('uses the per-task config: VQA samples are images × questions', () => {
    const e = exp({ tasks: ['vqa'], data: { nTrain: 100, questionsPerImage: 3 } });
    const pre = planStages(expandGrid(e), stageOf).find((s) => s.kind === 'pretrain')!;
    expect(pre.units).toBe(e.pretrain.epochs * 300);
    const own = exp({ tasks: ['vqa'], data: { nTrain: 100, questionsPerImage: 3, nPretrain: 400 } });
    const stages = planStages(expandGrid(own), stageOf);
    expect(stages.find((s) => s.kind === 'pretrain')!.units).toBe(own.pretrain.epochs * 1200); // its own corpus
    expect(stages.find((s) => s.kind === 'sft')!.units).toBe(own.sft.epochs * 300); // SFT keeps the train split
  });

  it('sizes a real dataset by its limit, and plans it even when only the files know its size', () => {
    const coco = (data: Record<string, unknown>) => exp({ data: { kind: 'coco', root: '/data/coco', ...data } });
    expect(splitSizes(coco({ limit: 500 }), 'caption')).toEqual({ train: 500, val: 500, test: 500, pretrain: 500 });
    expect(splitSizes(coco({}), 'caption')).toBeUndefined();
    const pre = planStages(expandGrid(coco({})), stageOf).find((s) => s.kind === 'pretrain')!;
    expect(pre.units).toBeGreaterThan(0); // a nominal size: enough to balance shards
  });
});
