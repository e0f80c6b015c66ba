import { describe, expect, it } from 'vitest';
import { experimentSchema, parseWith, type ExperimentConfig } from '../config/schema.js';
import { estimateGrid, formatEstimate, measureRates } from './estimate.js';
import type { RunRecord } from '../core/record.js';

const STAGES: Record<string, string> = { none: 'none', pcr: 'training', aug: 'training', ft: 'post', nad: 'post', jitter: 'inference' };
const stageOf = (id: string) => STAGES[id];

const exp = (over: Record<string, unknown> = {}): ExperimentConfig =>
  parseWith(
    experimentSchema,
    {
      tasks: ['caption'],
      models: ['llava'],
      seeds: [1],
      attacks: [{ id: 'badnets' }, { id: 'sig' }],
      defenses: [{ id: 'none' }, { id: 'pcr' }, { id: 'ft' }],
      data: { nTrain: 100, nVal: 10, nTest: 20 },
      pretrain: { epochs: 10 },
      sft: { epochs: 2 },
      ...over,
    },
    'test',
  );

// Eval units of that config: (2 × 20 test + 10 val) sequences × 24 caption tokens = 1200.
function rec(defense: string, cached: Record<string, boolean>, timings: Record<string, number>, status: 'ok' | 'failed' = 'ok'): RunRecord {
  return {
    id: `caption__llava__badnets__${defense}__s1`,
    status,
    task: 'caption',
    model: 'llava',
    attack: 'badnets',
    defense,
    defenseStage: stageOf(defense),
    seed: 1,
    metrics: {},
    attackParams: {},
    defenseParams: {},
    target: '',
    poisonCount: 0,
    trainSize: 100,
    keys: {},
    cached,
    suspicion: {},
    timings,
    trainLog: {},
    examples: [],
    provenance: { backend: 'wasm', engineFixes: [], tfjs: '', node: '', codeVersion: '', configHash: '', date: '' },
    config: { exp: exp(), defense: { id: defense } },
  };
}

const measured = [
  // pretrain 100 s / (10 epochs × 100) = 0.1 s per sample-epoch; plain SFT 20 s / 200 = 0.1; eval 10 s / 1200
  rec('none', { pretrain: false, sft: false }, { data: 1, pretrain: 100, sft: 20, eval: 9 }),
  // PCR's SFT: 40 s / 200 = 0.2; its pretrain was loaded from the cache (0.01 s): not a measurement
  rec('pcr', { pretrain: true, sft: false }, { data: 1, pretrain: 0.01, sft: 40, eval: 11 }),
  // FT's repair: 5 s / 100 training samples = 0.05; its SFT was the cached backdoored model
  rec('ft', { pretrain: true, sft: true, repair: false }, { data: 1, pretrain: 0.01, sft: 0.02, repair: 5, eval: 9 }),
  // A failed run says nothing about cost.
  rec('none', { pretrain: false, sft: false }, { pretrain: 1e6 }, 'failed'),
];

describe('measureRates', () => {
  it('takes seconds per unit only from stages the record computed', () => {
    const rates = measureRates(measured, stageOf);
    const rate = (k: string) => rates.get(k)!.seconds / rates.get(k)!.units;
    expect(rate('pretrain|caption|llava|')).toBeCloseTo(0.1, 12);
    expect(rates.get('pretrain|caption|llava|')!.records).toBe(1);
    expect(rate('sft|caption|llava|none')).toBeCloseTo(0.1, 12);
    expect(rate('sft|caption|llava|pcr')).toBeCloseTo(0.2, 12);
    expect(rate('repair|caption|llava|ft')).toBeCloseTo(0.05, 12);
    expect(rate('eval|caption|llava|')).toBeCloseTo(32 / 3600, 12); // (10 + 12 + 10) s over 3 × 1200 tokens
    expect([...rates.keys()].sort()).toEqual(['eval|caption|llava|', 'pretrain|caption|llava|', 'repair|caption|llava|ft', 'sft|caption|llava|none', 'sft|caption|llava|pcr']);
  });

  it('measures the backdoored model a probing defense (BYE) trained itself as plain SFT, apart from its own', () => {
    // BYE's SFT 30 s / 200 = 0.15; the probe it trained: plain SFT, 20 s / 200 = 0.1.
    const bye = rec('bye', { pretrain: true, sft: false, probe: false }, { data: 1, pretrain: 0.01, probe: 20, sft: 30, eval: 9 });
    const rates = measureRates([bye], () => 'training');
    expect(rates.get('sft|caption|llava|bye')!.seconds / rates.get('sft|caption|llava|bye')!.units).toBeCloseTo(0.15, 12);
    expect(rates.get('sft|caption|llava|none')!.seconds / rates.get('sft|caption|llava|none')!.units).toBeCloseTo(0.1, 12);
    // A probe loaded from the cache measures nothing.
    const loaded = rec('bye', { pretrain: true, sft: false, probe: true }, { data: 1, pretrain: 0.01, probe: 0.02, sft: 30, eval: 9 });
    expect(measureRates([loaded], () => 'training').has('sft|caption|llava|none')).toBe(false);
  });

  it('measures a vision tower trained in the run per image-epoch, and a cached one not at all', () => {
    const withVision = (cached: boolean) => ({
      ...rec('none', { vision: cached, pretrain: false, sft: false }, { vision: cached ? 0.1 : 50, pretrain: 100, sft: 20 }),
      config: { exp: exp({ vision: { epochs: 5, images: 100 } }), defense: { id: 'none' } },
    });
    const trained = measureRates([withVision(false)], stageOf);
    expect(trained.get('vision|caption|llava|')!.seconds / trained.get('vision|caption|llava|')!.units).toBeCloseTo(0.1, 12); // 50 s / 500 image-epochs
    expect(trained.get('pretrain|caption|llava|')!.seconds).toBe(100);
    expect(measureRates([withVision(true)], stageOf).has('vision|caption|llava|')).toBe(false);
  });
});

describe('estimateGrid', () => {
  it('counts the distinct cached stages and costs them with the measured rates', () => {
    const e = estimateGrid(exp({ seeds: [1, 2] }), measured, 2, stageOf);
    expect(e.runs).toBe(2 * 2 * 3);
    // Per chain (seed): 1 pretrain, 2 attacks × (plain SFT + PCR SFT), 2 FT repairs, 6 evaluations.
    expect(e.stages).toBe(2 * (1 + 4 + 2 + 6));
    const row = (kind: string, variant = '') => e.rows.find((r) => r.kind === kind && r.variant === variant)!;
    expect(row('pretrain')).toMatchObject({ count: 2, secondsEach: 100, seconds: 200 });
    expect(row('sft', 'none')).toMatchObject({ count: 4 });
    expect(row('sft', 'none').secondsEach).toBeCloseTo(20, 9);
    expect(row('sft', 'pcr').secondsEach).toBeCloseTo(40, 9);
    expect(row('repair', 'ft').secondsEach).toBeCloseTo(5, 9);
    expect(row('eval')).toMatchObject({ count: 12 });
    expect(row('eval').secondsEach).toBeCloseTo((1200 * 32) / 3600, 9);
    const perChain = 100 + 2 * 20 + 2 * 40 + 2 * 5 + 6 * ((1200 * 32) / 3600);
    expect(e.totalSeconds).toBeCloseTo(2 * perChain, 6);
    // Two equal chains on two workers: one each.
    expect(e.workers).toBe(2);
    expect(e.wallSeconds).toBeCloseTo(perChain, 6);
    expect(e.assumptions).toEqual([]);
  });

  it('scales with the config: twice the epochs and samples, four times the pre-training', () => {
    const base = estimateGrid(exp(), measured, 1, stageOf);
    const big = estimateGrid(exp({ data: { nTrain: 200, nVal: 10, nTest: 20 }, pretrain: { epochs: 20 } }), measured, 1, stageOf);
    const pre = (e: typeof base) => e.rows.find((r) => r.kind === 'pretrain')!.seconds;
    expect(pre(big)).toBeCloseTo(4 * pre(base), 9);
  });

  it('costs unmeasured families, defenses and repairs by stated assumptions', () => {
    const e = estimateGrid(
      exp({ models: ['llava', 'blip2'], defenses: [{ id: 'none' }, { id: 'aug' }, { id: 'nad' }, { id: 'jitter' }] }),
      measured,
      4,
      stageOf,
    );
    const row = (model: string, kind: string, variant = '') => e.rows.find((r) => r.model === model && r.kind === kind && r.variant === variant)!;
    expect(row('blip2', 'pretrain').secondsEach).toBeCloseTo(100, 9);
    expect(row('llava', 'sft', 'aug').secondsEach).toBeCloseTo(40, 9); // the costliest measured SFT (PCR)
    expect(row('llava', 'repair', 'nad').secondsEach).toBeCloseTo(5, 9); // the measured repairs' mean
    expect(e.assumptions).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^blip2: not measured; costed as llava/),
        expect.stringMatching(/^sft with aug: not measured; costed as the costliest/),
        expect.stringMatching(/^repair nad: not measured; costed as the mean/),
      ]),
    );
    // Runs of one chain may run on several workers once their shared stages are cached.
    expect(e.workers).toBe(4);
    const serial = estimateGrid(exp({ models: ['llava', 'blip2'], defenses: [{ id: 'none' }, { id: 'aug' }, { id: 'nad' }, { id: 'jitter' }] }), measured, 1, stageOf);
    expect(serial.wallSeconds).toBeCloseTo(serial.totalSeconds, 6);
    expect(e.wallSeconds).toBeLessThan(serial.wallSeconds / 2);
  });

  it('refuses to guess without any measurement', () => {
    expect(() => estimateGrid(exp(), [], 2, stageOf)).toThrow(/no usable timings/);
    const onlyCached = [rec('pcr', { pretrain: true, sft: false }, { sft: 40, eval: 11, data: 1 })];
    expect(() => estimateGrid(exp(), onlyCached, 2, stageOf)).toThrow(/no measured pretrain stage/);
    expect(() => estimateGrid(exp({ data: { kind: 'coco', root: '/data/coco' } }), measured, 2, stageOf)).toThrow(/caption uses data.kind "coco", whose sizes only its files know; set data.limit/);
  });

  it('prints a table, the total and the wall time', () => {
    const text = formatEstimate(estimateGrid(exp({ seeds: [1, 2] }), measured, 2, stageOf), 'profile test');
    expect(text).toMatch(/^profile test\n12 runs, 26 distinct stages\n/);
    expect(text).toMatch(/pretrain\s+caption\s+llava\s+-\s+2\s+1m40s\s+3m20s/);
    expect(text).toMatch(/total: \d+m\d+s of compute; wall time on 2 worker\(s\): \d+m\d+s/);
  });
});
