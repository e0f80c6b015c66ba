import { describe, expect, it } from 'vitest';
import { MODELS } from '../../models/registry.js';
import { experimentSchema, layer, parseWith } from './schema.js';
import { expandGrid } from '../plan/grid.js';
import { PROFILES } from './profiles.js';
import { validatePlugins } from '../plan/validate.js';

const parse = (name: string, over: Record<string, unknown> = {}) => parseWith(experimentSchema, layer(PROFILES[name], over), name);

describe('profiles', () => {
  it('keeps the default profile as it was: cached stages and records are keyed by its values', () => {
    expect(PROFILES.default).toEqual({
      name: 'default',
      vision: { epochs: 30 },
      perTask: { vqa: { data: { nTrain: 6000, questionsPerImage: 1 }, model: { merge: 1 }, pretrain: { epochs: 10 }, sft: { epochs: 4 } } },
    });
  });

  it('paper: 3 families × 2 tasks × 6 attacks × 10 defenses × 10 seeds, at the default profile’s sizes', () => {
    const paper = parse('paper');
    expect(paper.models).toEqual(['llava', 'blip2', 'flamingo']);
    expect(paper.tasks).toEqual(['caption', 'vqa']);
    expect(paper.attacks.map((a) => a.id)).toEqual(['badnets', 'blended', 'sig', 'wanet', 'trojvlm', 'dualkey']);
    // The rates each attack needs to implant here (issue 3): blended 10%, trojvlm 20%, else 5%.
    expect(paper.attacks.map((a) => a.params.rate ?? 0.05)).toEqual([0.05, 0.1, 0.05, 0.05, 0.2, 0.05]);
    expect(paper.defenses.map((d) => d.id)).toEqual(['none', 'pcr', 'pcr-aug', 'pcr-cv', 'ft', 'fp', 'nad', 'abl', 'aug', 'jitter']);
    // 10 seeds: what the power line asks for a 20-point difference (harness/config/profiles.ts)
    expect(paper.seeds).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(expandGrid(paper)).toHaveLength(3 * 2 * 6 * 10 * 10);
    expect(paper.perTask).toEqual(parse('default').perTask);
    expect(paper.vision).toEqual(parse('default').vision);
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
