import { describe, expect, it } from 'vitest';
import { MODELS } from '../../models/registry.js';
import { experimentSchema, layer, parseWith } from './schema.js';
import { expandGrid } from '../plan/grid.js';
import { PROFILES } from './profiles.js';
import { validatePlugins } from '../plan/validate.js';
import { resolveRun, runIdentity } from '../run/runIdentity.js';
import { runId } from '../run/runSpec.js';

const parse = (name: string, over: Record<string, unknown> = {}) => parseWith(experimentSchema, layer(PROFILES[name], over), name);

describe('profiles', () => {
  it('default: the six attacks at their calibrated settings per task × none, PCR, FP, jitter, CleanSight × both tasks, llava, one seed', () => {
    const d = parse('default');
    const settings = (t: 'caption' | 'vqa') => expandGrid(d).filter((r) => r.task === t && r.defense.id === 'none').map((r) => [r.attack.id, r.attack.params]);
    // docs/calibration.md's table (harness/config/profiles.ts quotes it): rate, and strength where the ladder climbed
    expect(settings('caption')).toEqual([
      ['badnets', { rate: 0.2 }], ['blended', { rate: 0.2, alpha: 0.3 }], ['sig', { rate: 0.05 }],
      ['wanet', { rate: 0.05 }], ['trojvlm', { rate: 0.2, size: 8 }], ['dualkey', { rate: 0.1 }],
    ]);
    expect(settings('vqa')).toEqual([
      ['badnets', { rate: 0.2 }], ['blended', { rate: 0.2 }], ['sig', { rate: 0.05 }],
      ['wanet', { rate: 0.05 }], ['trojvlm', { rate: 0.2, size: 4 }], ['dualkey', { rate: 0.2, size: 6 }],
    ]);
    expect(d.defenses.map((x) => x.id)).toEqual(['none', 'pcr', 'fp', 'jitter', 'cleansight']);
    expect([d.models, d.tasks, d.seeds]).toEqual([['llava'], ['caption', 'vqa'], [1]]);
    expect(expandGrid(d)).toHaveLength(2 * 6 * 5);
    expect(() => validatePlugins(d)).not.toThrow();
  });

  it('paper: 3 families × 2 tasks × 6 calibrated attacks × 10 defenses × 10 seeds, at the default profile’s sizes', () => {
    const paper = parse('paper');
    expect(paper.models).toEqual(['llava', 'blip2', 'flamingo']);
    expect(paper.tasks).toEqual(['caption', 'vqa']);
    expect(paper.attacks).toEqual(parse('default').attacks);
    expect(paper.defenses.map((d) => d.id)).toEqual(['none', 'pcr', 'pcr-aug', 'pcr-cv', 'ft', 'fp', 'nad', 'abl', 'aug', 'jitter']);
    // 10 seeds: what the power line asks for a 20-point difference (harness/config/profiles.ts)
    expect(paper.seeds).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(expandGrid(paper)).toHaveLength(3 * 2 * 6 * 10 * 10);
    expect(paper.perTask).toEqual(parse('default').perTask);
    expect(paper.vision).toEqual(parse('default').vision);
  });

  it('results: llava × both tasks × 6 calibrated + 2 adaptive attacks (at BadNets’ rate) × every registered defense × 10 seeds', () => {
    const r = parse('results');
    const vqa = expandGrid(r).filter((x) => x.task === 'vqa' && x.defense.id === 'none' && x.seed === 1);
    expect(vqa.map((x) => [x.attack.id, x.attack.params.rate]).slice(6)).toEqual([['viewinv', 0.2], ['randpatch', 0.2]]);
    expect(r.defenses.map((d) => d.id)).toEqual(parse('smoke').defenses.map((d) => d.id));
    // BYE and RobustIT at what their validation sweeps chose per task (docs/defenses.md), the rest at their defaults
    const bye = expandGrid(r).filter((x) => x.defense.id === 'bye' && x.attack.id === 'badnets' && x.seed === 1);
    expect(bye.map((x) => [x.task, resolveRun(x).defenseParams.separation])).toEqual([['caption', 1], ['vqa', 0.5]]);
    const robustit = expandGrid(r).filter((x) => x.defense.id === 'robustit' && x.attack.id === 'badnets' && x.seed === 1);
    expect(robustit.map((x) => [x.task, resolveRun(x).defenseParams.maxShift])).toEqual([['caption', 1], ['vqa', 3]]);
    expect(expandGrid(r)).toHaveLength(2 * 8 * r.defenses.length * 10);
    expect(() => validatePlugins(r)).not.toThrow();
  });

  it('mllm-defenses: a slice of results whose every run is the results grid’s own run, identity and all', () => {
    const slice = expandGrid(parse('mllm-defenses'));
    expect(slice).toHaveLength(2 * 4 * 5 * 3);
    expect([...new Set(slice.map((x) => x.defense.id))]).toEqual(['none', 'pcr', 'bye', 'cleansight', 'robustit']);
    const full = new Map(expandGrid(parse('results')).map((x) => [runId(x), runIdentity(x)]));
    for (const x of slice) expect(runIdentity(x)).toEqual(full.get(runId(x)));
  });

  it('remove-probe: the results grid’s caption remove runs, and the same with a fresh probe, with and without the GMM cut', () => {
    const grid = expandGrid(parse('remove-probe'));
    expect(grid).toHaveLength(6 * 3 * 3);
    expect([...new Set(grid.map((x) => x.task))]).toEqual(['caption']);
    const full = new Map(expandGrid(parse('results')).map((x) => [runId(x), runIdentity(x)]));
    const labelled = (l?: string) => grid.filter((x) => x.defense.label === l);
    const [pre, fresh, gmm] = [labelled(undefined), labelled('remove-fresh'), labelled('remove-gmm')];
    expect([pre.length, fresh.length, gmm.length]).toEqual([18, 18, 18]);
    for (const x of pre) expect(runIdentity(x)).toEqual(full.get(runId(x)));
    for (const x of fresh) expect([full.has(runId(x)), x.defense.params]).toEqual([false, { probeFrom: 'fresh' }]);
    for (const x of gmm) expect([full.has(runId(x)), x.defense.params]).toEqual([false, { probeFrom: 'fresh', cut: 'gmm' }]);
  });

  it('remove-union: VQA, the four attacks, no defense as in the results grid and the union cut with a fresh probe', () => {
    const grid = expandGrid(parse('remove-union'));
    expect(grid).toHaveLength(2 * 4 * 3);
    expect([...new Set(grid.map((x) => x.task))]).toEqual(['vqa']);
    expect([...new Set(grid.map((x) => x.attack.id))]).toEqual(['badnets', 'blended', 'sig', 'dualkey']);
    const full = new Map(expandGrid(parse('results')).map((x) => [runId(x), runIdentity(x)]));
    const none = grid.filter((x) => x.defense.id === 'none');
    const union = grid.filter((x) => x.defense.label === 'remove-union');
    expect([none.length, union.length]).toEqual([12, 12]);
    for (const x of none) expect(runIdentity(x)).toEqual(full.get(runId(x)));
    for (const x of union) expect([full.has(runId(x)), x.defense.params]).toEqual([false, { probeFrom: 'fresh', cut: 'union' }]);
  });

  it('paper validates, or names the model families not registered yet', () => {
    const paper = parse('paper');
    const missing = paper.models.filter((m) => !MODELS[m]);
    if (missing.length) expect(() => validatePlugins(paper)).toThrow(new RegExp(`models: ${missing.map((m) => `"${m}"`).join(', ')} (is|are) not a registered model family`));
    else expect(() => validatePlugins(paper)).not.toThrow();
  });

  it('an unknown model family stops validation with its name and the fix', () => {
    expect(() => validatePlugins(parse('paper', { models: ['llava', 'nosuch'] }))).toThrow(
      /^models: "nosuch" is not a registered model family \(models\/.*has .*llava.*\); remove it with --set models='\["llava"\]' or add the family$/,
    );
  });

  it('two attacks with one label would share a record file: refused', () => {
    expect(() => validatePlugins(parse('smoke', { attacks: [{ id: 'badnets' }, { id: 'badnets', params: { rate: 0.1 } }] }))).toThrow(
      /attacks\[0\] and attacks\[1\] share the label "badnets"; give one a distinct "label"/,
    );
  });

  it('validates each rate of the rates axis with the attack’s own schema', () => {
    expect(() => validatePlugins(parse('smoke', { attacks: [{ id: 'badnets' }], rates: [0.01, 0.1] }))).not.toThrow();
  });
});
