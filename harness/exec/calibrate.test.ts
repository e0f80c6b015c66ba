import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { record } from '../../reports/records.testutil.js';
import { readCalibration } from '../../reports/calibration.js';
import { attackLadder, calibrationExperiment, calibrationRows, climbLadder, CLEAN_LABEL, DEFAULT_LADDER, DEFAULT_RULE, nextRungs } from './calibrate.js';
import { expandGrid } from '../plan/grid.js';
import { refLabel, type RunSpec } from '../run/runSpec.js';
import type { RunRecord } from '../core/record.js';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { PROFILES } from '../config/profiles.js';

const base = (over: Record<string, unknown> = {}) =>
  parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], attacks: [{ id: 'badnets' }, { id: 'sig' }], seeds: [1, 2, 3], ...over }), 'test');
// The rate ladder alone; the strength rungs above it have their own tests below.
const spec = { rates: [0.05, 0.01, 0.2], ...DEFAULT_RULE, strength: false };

describe('calibration grid', () => {
  it('every attack at every rung, ascending, plus the clean reference at rate 0; no defense', () => {
    const exp = calibrationExperiment(base(), spec);
    expect(exp.attacks.map((a) => [a.label, a.params.rate])).toEqual([
      [CLEAN_LABEL, 0],
      ['badnets@0.01', 0.01],
      ['badnets@0.05', 0.05],
      ['badnets@0.2', 0.2],
      ['sig@0.01', 0.01],
      ['sig@0.05', 0.05],
      ['sig@0.2', 0.2],
    ]);
    expect(exp.defenses).toEqual([{ id: 'none', params: {} }]);
    // A rung is one rate on every task, whatever rate a task's own params give the attack.
    const perTask = calibrationExperiment(base({ tasks: ['caption', 'vqa'], attacks: [{ id: 'badnets', params: { rate: 0.2 }, perTask: { vqa: { rate: 0.02 } } }] }), spec);
    expect(expandGrid(perTask).map((r) => [r.task, refLabel(r.attack), r.attack.params.rate])).toContainEqual(['vqa', 'badnets@0.05', 0.05]);
    expect(DEFAULT_LADDER).toEqual([0.01, 0.02, 0.05, 0.1, 0.2]);
  });

  it('refuses fewer than 3 seeds and rates outside (0, 1], naming the fix', () => {
    expect(() => calibrationExperiment(base({ seeds: [1, 2] }), spec)).toThrow(/seeds has 2 seed\(s\); the rule needs ≥ 3 .*--set 'seeds=\[1,2,3\]'/);
    expect(() => calibrationExperiment(base(), { ...spec, rates: [0, 0.1] })).toThrow(/expected poisoning rates in \(0, 1\]/);
  });
});

describe('the calibration rule', () => {
  /** Three seeds of one rung: val ASR in percent, val CIDEr-D. */
  const rung = (attack: string, asr: number[], clean: number[]) =>
    asr.map((a, k) => record({ attack, seed: k + 1, metrics: { 'val ASR': a / 100, 'val CIDEr-D': clean[k] } }));
  const recs = [
    ...rung(CLEAN_LABEL, [0, 0, 0], [2.0, 2.0, 2.0]),
    // badnets: 1% too weak; 5%: mean 96, lo = 96 − 4.303 · 1/√3 = 93.5 ≥ 90, clean 97.5% → chosen; 20% not needed
    ...rung('badnets@0.01', [50, 60, 70], [2, 2, 2]),
    ...rung('badnets@0.05', [95, 96, 97], [1.95, 1.95, 1.95]),
    ...rung('badnets@0.2', [100, 100, 100], [1.9, 1.9, 1.9]),
    // sig: 20% implants but costs 10% of the clean metric; 5% keeps it but lo = 85 − 4.303 · 5/√3 = 72.6
    ...rung('sig@0.01', [0, 1, 2], [2, 2, 2]),
    ...rung('sig@0.05', [80, 85, 90], [2, 2, 2]),
    ...rung('sig@0.2', [98, 99, 100], [1.8, 1.8, 1.8]),
  ];

  it('picks the smallest rung with a 95% lower bound ≥ 90% and ≥ 95% of the clean model; else the closest', () => {
    const rows = calibrationRows(recs, base(), spec);
    const of = (attack: string) => rows.filter((r) => r.attack === attack).map((r) => [r.rate, r.verdict, r.meetsAsr, r.meetsClean]);
    expect(of('badnets')).toEqual([
      [0.01, '', false, true],
      [0.05, 'chosen', true, true],
      [0.2, '', true, false],
    ]);
    const b5 = rows.find((r) => r.attack === 'badnets' && r.rate === 0.05)!;
    expect(b5.valAsrLo).toBeCloseTo(96 - 4.302652729749462 / Math.sqrt(3), 9);
    expect(b5.cleanRatio).toBeCloseTo(0.975, 12);
    // The interval is clipped to [0, 100] as the tables clip it: sig at 20% would reach 99 + 2.5.
    const s20 = rows.find((r) => r.attack === 'sig' && r.rate === 0.2)!;
    expect(s20.valAsrLo).toBeCloseTo(99 - 4.302652729749462 / Math.sqrt(3), 9);
    expect(s20.valAsrHi).toBe(100);
    // sig reaches no rung: the closest among the rungs that keep the clean floor is 5%
    expect(of('sig')).toEqual([
      [0.01, '', false, true],
      [0.05, 'best', false, true],
      [0.2, '', true, false],
    ]);
  });

  it('never accepts a rung with fewer than 3 seeds', () => {
    const two = recs.filter((r) => !(r.attack === 'badnets@0.05' && r.seed === 3));
    const rows = calibrationRows(two, base(), spec);
    expect(rows.find((r) => r.attack === 'badnets' && r.rate === 0.05)).toMatchObject({ n: 2, meetsAsr: false });
  });
});

describe('climbing the ladder', () => {
  // badnets implants from 5% on captions, never on VQA; sig nowhere. The fake grid answers each
  // round's runs with these validation numbers and logs what each round ran (seed 1's).
  const asrOf = (s: RunSpec) => {
    const label = refLabel(s.attack);
    if (label === CLEAN_LABEL) return 0;
    return s.task === 'caption' && label.startsWith('badnets') && Number(s.attack.params.rate) >= 0.05 ? 97 - s.seed : 40;
  };
  const climb = async (everyRung: boolean) => {
    const b = base({ tasks: ['caption', 'vqa'] });
    const exp = calibrationExperiment(b, spec);
    const done: RunRecord[] = [];
    const rounds: string[][] = [];
    await climbLadder(b, { ...spec, everyRung }, () => done, async (only) => {
      const specs = expandGrid(exp).filter(only ?? (() => true));
      rounds.push(specs.filter((s) => s.seed === 1).map((s) => `${s.task} ${refLabel(s.attack)}`));
      const clean = (s: RunSpec): Record<string, number> => (s.task === 'caption' ? { 'val CIDEr-D': 2 } : { 'val VQA-acc': 0.7 });
      done.push(...specs.map((s) => record({ task: s.task, attack: refLabel(s.attack), seed: s.seed, metrics: { 'val ASR': asrOf(s) / 100, ...clean(s) } })));
    });
    return { rounds, rows: calibrationRows(done, b, spec) };
  };

  it('walks from the middle rung: down while the ASR criterion holds, up while it does not, and stops at the boundary', async () => {
    const { rounds, rows } = await climb(false);
    expect(rounds).toEqual([
      ['caption clean (rate 0)', 'caption badnets@0.05', 'caption sig@0.05', 'vqa clean (rate 0)', 'vqa badnets@0.05', 'vqa sig@0.05'],
      ['caption badnets@0.01', 'caption sig@0.2', 'vqa badnets@0.2', 'vqa sig@0.2'],
    ]);
    expect(rows.filter((r) => r.verdict).map((r) => [r.task, r.attack, r.rate, r.verdict])).toEqual([
      ['caption', 'badnets', 0.05, 'chosen'],
      ['caption', 'sig', 0.05, 'best'],
      ['vqa', 'badnets', 0.05, 'best'],
      ['vqa', 'sig', 0.05, 'best'],
    ]);
  });

  it('a rung with seeds missing does not steer the walk: it starts at the middle and completes the rung when it reaches it', () => {
    const b = base();
    const one = record({ attack: 'badnets@0.01', seed: 1, metrics: { 'val ASR': 0, 'val CIDEr-D': 2 } });
    const clean = [1, 2, 3].map((seed) => record({ attack: CLEAN_LABEL, seed, metrics: { 'val ASR': 0, 'val CIDEr-D': 2 } }));
    const next = nextRungs(calibrationRows([one, ...clean], b, spec), b, spec);
    expect([...next]).toEqual([
      ['caption|llava|badnets', 1],
      ['caption|llava|sig', 1],
    ]);
  });

  it('ends when the runs of a rung all fail, instead of running it again', async () => {
    const b = base();
    const exp = calibrationExperiment(b, spec);
    let rounds = 0;
    await climbLadder(b, spec, () => [], async (only) => {
      rounds++;
      expect(expandGrid(exp).filter(only!).length).toBeGreaterThan(0);
    });
    expect(rounds).toBe(1);
  });

  it('everyRung runs the whole ladder in one round, and chooses the same rungs', async () => {
    const adaptive = await climb(false);
    const full = await climb(true);
    expect(full.rounds).toHaveLength(1);
    expect(full.rounds[0]).toHaveLength(2 * (1 + 2 * 3));
    const chosen = (rows: typeof full.rows) => rows.filter((r) => r.verdict === 'chosen').map((r) => [r.task, r.attack, r.rate]);
    expect(chosen(full.rows)).toEqual(chosen(adaptive.rows));
  });
});

describe('stronger settings above the top rate', () => {
  const strong = { ...spec, strength: true };

  it("each attack's declared settings, above the configured one, at the top rate", () => {
    const rates = [0.01, 0.05, 0.2];
    expect(attackLadder({ id: 'badnets', params: {} }, rates)).toEqual([
      { rate: 0.01 },
      { rate: 0.05 },
      { rate: 0.2 },
      { rate: 0.2, strength: { param: 'size', value: 4 } },
      { rate: 0.2, strength: { param: 'size', value: 6 } },
    ]);
    expect(attackLadder({ id: 'badnets', params: { size: 4 } }, rates).slice(3)).toEqual([{ rate: 0.2, strength: { param: 'size', value: 6 } }]);
    expect(attackLadder({ id: 'blended', params: {} }, rates).slice(3).map((r) => r.strength)).toEqual([
      { param: 'alpha', value: 0.3 },
      { param: 'alpha', value: 0.5 },
    ]);
    expect(attackLadder({ id: 'badnets', params: {} }, rates, false)).toHaveLength(3);
  });

  it('are runs of the grid at the top rate with the setting in their params (every task) and their label', () => {
    const exp = calibrationExperiment(base({ attacks: [{ id: 'sig', perTask: { vqa: { delta: 30 } } }] }), strong);
    const sig80 = exp.attacks.find((a) => a.label === 'sig@0.2+delta=80')!;
    expect(sig80.params).toMatchObject({ rate: 0.2, delta: 80 });
    expect(sig80.perTask?.vqa).toMatchObject({ rate: 0.2, delta: 80 });
    expect(exp.attacks.map((a) => a.label)).toEqual([CLEAN_LABEL, 'sig@0.01', 'sig@0.05', 'sig@0.2', 'sig@0.2+delta=60', 'sig@0.2+delta=80']);
  });

  it('are climbed only when no rate holds, and a setting that holds is chosen', async () => {
    // sig implants nowhere by rate; at delta 60 its lower bound is 93 − 4.303·1/√3 = 90.5.
    const asr = (s: RunSpec) => (refLabel(s.attack) === 'sig@0.2+delta=60' || refLabel(s.attack) === 'sig@0.2+delta=80' ? 92 + s.seed / 2 : refLabel(s.attack).startsWith('badnets') ? 97 - s.seed : 40);
    const b = base();
    const exp = calibrationExperiment(b, strong);
    const done: RunRecord[] = [];
    const rounds: string[][] = [];
    await climbLadder(b, strong, () => done, async (only) => {
      const specs = expandGrid(exp).filter(only ?? (() => true));
      rounds.push(specs.filter((s) => s.seed === 1).map((s) => refLabel(s.attack)));
      done.push(...specs.map((s) => record({ attack: refLabel(s.attack), seed: s.seed, metrics: { 'val ASR': asr(s) / 100, 'val CIDEr-D': 2 } })));
    });
    expect(rounds).toEqual([[CLEAN_LABEL, 'badnets@0.05', 'sig@0.05'], ['badnets@0.01', 'sig@0.2'], ['sig@0.2+delta=60']]);
    const rows = calibrationRows(done, b, strong);
    expect(rows.filter((r) => r.verdict).map((r) => [r.attack, r.rate, r.strength, r.verdict])).toEqual([
      ['badnets', 0.01, '', 'chosen'],
      ['sig', 0.2, 'delta=60', 'chosen'],
    ]);
  });
});

describe('mbb calibrate (smoke size, end to end)', () => {
  it('runs the ladder, writes calibration.{json,csv} and a report section', () => {
    const out = mkdtempSync(join(tmpdir(), 'mbb-cal-'));
    const r = spawnSync(
      process.execPath,
      [
        resolve(__dirname, '../../scripts/mbb.mjs'),
        'calibrate',
        '--profile',
        'smoke',
        '--set',
        'tasks=["vqa"]',
        '--set',
        'attacks=[{"id":"badnets"}]',
        '--set',
        'seeds=[1,2,3]',
        '--set',
        'data.nTrain=60',
        '--set',
        'data.nVal=10',
        '--set',
        'data.nTest=10',
        '--rates',
        '0.1,0.5',
        '--every-rung',
        '--no-strength',
        '--out',
        out,
        '--cache',
        join(out, 'cache'),
        '--workers',
        '1',
        '--backend',
        'wasm',
      ],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    const rows = readCalibration(out)!;
    expect(rows.map((x) => [x.attack, x.rate, x.n])).toEqual([
      ['badnets', 0.1, 3],
      ['badnets', 0.5, 3],
    ]);
    expect(rows.filter((x) => x.verdict !== '')).toHaveLength(1);
    expect(r.stdout).toMatch(/^vqa\/llava\/badnets: (rate|reached no rung)/m);
    expect(readFileSync(join(out, 'calibration', 'calibration.csv'), 'utf8').split('\n')[0]).toContain('val ASR lo (%)');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('data-table="calibration"');
    expect(existsSync(join(out, 'runs', 'vqa__llava__clean_rate_0__none__s3.json'))).toBe(true);
  });
});
