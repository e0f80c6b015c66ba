import { describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { expandGrid, planStages } from './grid.js';
import { runId, type RunSpec } from '../run/runSpec.js';
import { PROFILES } from '../config/profiles.js';
import { defenseStage, probesBackdoored } from './validate.js';
import { Scheduler, simulateWall } from './schedule.js';
import { RELATIVE_UNIT_COST } from './shard.js';

// The default profile's sizes with the grid it had when these tests were written (BadNets, none
// vs PCR) and without its vision tower (the tower's test adds it back).
const BASE = { ...PROFILES.default, vision: undefined, attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }, { id: 'pcr' }] };
const grid = (over: Record<string, unknown> = {}) => expandGrid(parseWith(experimentSchema, layer(BASE, over), 'test'));
const id = (r: RunSpec | 'wait' | undefined) => (r === undefined || r === 'wait' ? r : runId(r).replace('__llava', '').replace('__s1', ''));

describe('Scheduler', () => {
  it('default profile: both pre-trainings first, then holds a worker for the VQA PCR run rather than leave it as the tail', () => {
    const runs = grid();
    const s = new Scheduler(runs, defenseStage);
    const get = (name: string) => runs.find((r) => id(r) === name)!;
    // VQA's chain is the costlier (more samples): its first run starts first, caption's next;
    // the other run of each chain waits for its chain's pre-training.
    expect(id(s.next())).toBe('vqa__badnets__none');
    expect(id(s.next())).toBe('caption__badnets__none');
    expect(s.next()).toBe('wait');
    s.progress(get('caption__badnets__none'), 'sft'); // caption pre-training cached
    s.finished(get('caption__badnets__none'), true);
    // caption PCR is ready, but VQA PCR (pending on VQA pre-training) is the bigger job.
    expect(s.next()).toBe('wait');
    s.progress(get('vqa__badnets__none'), 'sft');
    expect(id(s.next())).toBe('vqa__badnets__pcr');
    expect(id(s.next())).toBe('caption__badnets__pcr');
    expect(s.next()).toBeUndefined();
    expect(s.remaining).toBe(0);
  });

  it('BYE computes the backdoored model its probe reads, so the no-defense run waits for it instead of training it again', () => {
    const runs = grid({ tasks: ['caption'], defenses: [{ id: 'bye' }, { id: 'none' }, { id: 'bye', label: 'bye-own', params: { probeEpochs: 2 } }] });
    const s = new Scheduler(runs, defenseStage, probesBackdoored);
    const get = (name: string) => runs.find((r) => id(r) === name)!;
    // BYE's plan flags the backdoored model, none's own SFT, as its probe; its own SFT is the other.
    const sfts = (name: string) => planStages([get(name)], defenseStage, probesBackdoored).filter((p) => p.kind === 'sft');
    expect(sfts('caption__badnets__bye').map((p) => [p.key === sfts('caption__badnets__none')[0].key, p.probe])).toEqual([[true, true], [false, undefined]]);
    expect(sfts('caption__badnets__bye-own').map((p) => p.probe)).toEqual([undefined]);
    expect(id(s.next())).toBe('caption__badnets__bye'); // the costliest: the backdoored model and its own SFT
    // none's one stage is being trained by BYE; bye-own trains its own probe, so it needs nothing BYE holds but pre-training
    expect(s.computes(get('caption__badnets__bye'))).toMatchObject({ probe: true, sft: true });
    expect(s.next()).toBe('wait');
    s.progress(get('caption__badnets__bye'), 'sft'); // pre-training cached
    expect(id(s.next())).toBe('caption__badnets__bye-own');
    expect(s.next()).toBe('wait'); // none still waits for the backdoored model
    s.progress(get('caption__badnets__bye'), 'eval');
    expect(id(s.next())).toBe('caption__badnets__none');
    expect(s.computes(get('caption__badnets__none')).sft).toBe(false);
  });

  it('post-training defenses wait for the shared backdoored model; a failed stage is retried by the next run', () => {
    const runs = grid({ tasks: ['caption'], defenses: [{ id: 'none' }, { id: 'ft' }, { id: 'jitter' }] });
    const s = new Scheduler(runs, defenseStage);
    const first = s.next() as RunSpec;
    expect(s.next()).toBe('wait'); // ft and jitter need first's backdoored model
    s.progress(first, 'sft'); // pre-trained, still training the backdoor
    expect(s.next()).toBe('wait');
    s.finished(first, false); // it failed: the next run computes the stages itself
    const second = s.next() as RunSpec;
    expect(second).toBeDefined();
    expect(s.next()).toBe('wait');
    s.progress(second, 'eval');
    expect(s.next()).not.toBe('wait');
    expect(s.remaining).toBe(0);
  });

  it('work left: unfinished runs and unsettled stages; a finished run is credited only the shared stages it computed', () => {
    const runs = grid({ tasks: ['caption'], defenses: [{ id: 'none' }, { id: 'ft' }, { id: 'pcr' }] });
    const s = new Scheduler(runs, defenseStage);
    const get = (name: string) => runs.find((r) => id(r) === name)!;
    // Each run's plan, costed in relative units: pre-training and the backdoored model are shared by none and ft.
    const cost = (name: string, kind: string) =>
      planStages([get(name)], defenseStage)
        .filter((p) => p.kind === kind)
        .reduce((a, p) => a + p.units * RELATIVE_UNIT_COST[p.kind], 0);
    const [pre, sftNone, sftPcr] = [cost('caption__badnets__none', 'pretrain'), cost('caption__badnets__none', 'sft'), cost('caption__badnets__pcr', 'sft')];
    const own = (name: string) => cost(name, 'repair') + cost(name, 'eval');
    const runsOwn = own('caption__badnets__none') + own('caption__badnets__ft') + own('caption__badnets__pcr');
    expect(s.remainingWork()).toBeCloseTo(pre + sftNone + sftPcr + runsOwn, 6);
    // ft, taken first (the costliest: its repair), computed pre-training and the backdoored
    // model: both leave the work left with it, and are its credit.
    const ft = s.next() as RunSpec;
    expect(id(ft)).toBe('caption__badnets__ft');
    expect(s.workOf(ft, { pretrain: false, sft: false })).toBeCloseTo(pre + sftNone + own('caption__badnets__ft'), 6);
    s.finished(ft, true);
    expect(s.remainingWork()).toBeCloseTo(sftPcr + own('caption__badnets__none') + own('caption__badnets__pcr'), 6);
    // A run that loaded every shared stage from the cache did only its own work.
    expect(s.workOf(get('caption__badnets__none'), { pretrain: true, sft: true })).toBeCloseTo(own('caption__badnets__none'), 6);
    // Runs drained after a crash are no longer work left.
    s.drain();
    expect(s.remainingWork()).toBeCloseTo(sftPcr, 6);
  });

  it("a vision tower is one stage for both tasks' chains: the second chain waits for it, then starts its own pre-training", () => {
    const runs = grid({ vision: { epochs: 30 }, defenses: [{ id: 'none' }] });
    const s = new Scheduler(runs, defenseStage);
    const vqa = s.next() as RunSpec;
    expect(id(vqa)).toBe('vqa__badnets__none');
    expect(s.computes(vqa)).toEqual({ vision: true, pretrain: true, sft: true, probe: false });
    expect(s.next()).toBe('wait'); // caption needs the tower vqa's run is training
    s.progress(vqa, 'vision');
    expect(s.next()).toBe('wait');
    s.progress(vqa, 'pretrain'); // past the tower: it is cached
    const caption = s.next() as RunSpec;
    expect(id(caption)).toBe('caption__badnets__none');
    expect(s.computes(caption)).toEqual({ vision: false, pretrain: true, sft: true, probe: false });
  });

  it('independent chains never wait', () => {
    const s = new Scheduler(grid({ defenses: [{ id: 'none' }], seeds: [1, 2, 3] }), defenseStage);
    const picked = Array.from({ length: 6 }, () => s.next());
    expect(picked.every((r) => r !== 'wait' && r !== undefined)).toBe(true);
    expect(s.next()).toBeUndefined();
  });

  it('simulated on the default profile with session-1 stage times: 2 workers beat 1 by more than 1.9×', () => {
    // Seconds measured in session 1 (pre-training, SFT, PCR SFT, evaluation per task).
    const secs: Record<string, number> = { 'pretrain|caption': 314, 'pretrain|vqa': 457, 'sft|caption|none': 89, 'sft|caption|pcr': 187, 'sft|vqa|none': 184, 'sft|vqa|pcr': 368 };
    const secondsOf = (key: string) => {
      const [kind, chain] = key.split('|');
      const task = chain?.split('/')[0];
      if (kind === 'eval') return 11;
      if (kind === 'pretrain') return secs[`pretrain|${task}`];
      return secs[`sft|${task}|${key.includes('pcr:') ? 'pcr' : 'none'}`];
    };
    const runs = grid();
    const one = simulateWall(runs, defenseStage, secondsOf, 1);
    const two = simulateWall(runs, defenseStage, secondsOf, 2);
    expect(one).toBe(314 + 457 + 89 + 187 + 184 + 368 + 4 * 11);
    expect(one / two).toBeGreaterThan(1.9);
  });
});
