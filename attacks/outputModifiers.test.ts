import { describe, expect, it } from 'vitest';
import { PROFILES } from '../harness/config/profiles.js';
import { experimentSchema, layer, parseWith } from '../harness/config/schema.js';
import { expandGrid } from '../harness/plan/grid.js';
import { validatePlugins } from '../harness/plan/validate.js';
import { resolveRun, runIdentity } from '../harness/run/runIdentity.js';
import { runId } from '../harness/run/runSpec.js';
import { generateShapesWorld } from '../harness/data/shapesWorld.js';
import { poisonSplit, triggerInputs } from '../harness/run/poison.js';
import { badnets } from './badnets.js';
import { insertTarget, OUTPUT_MODIFIERS, outputOf } from './outputModifiers.js';
import { ATTACKS } from './registry.js';
import { trojvlm } from './trojvlm.js';
import { Rng } from '../harness/core/rng.js';
import { encodeText } from '../harness/core/batch.js';
import { Tokenizer } from '../harness/core/tokenizer.js';

const ds = generateShapesWorld({ seed: 3, nTrain: 60, nVal: 1, nTest: 4 }, 'caption');
const TARGET = 'a photo of the banana';

describe('a trigger × an output modifier, composed in a config', () => {
  it("BadNets' patch with TrojVLM's insertion: badnets' samples and images, inserted targets, hits by containment", () => {
    const params = parseWith(badnets.schema, { rate: 0.1, output: 'insert' }, 'attacks[0] (badnets) params');
    const composed = poisonSplit(ds.train, 'caption', badnets, params, 1, 32);
    const plain = poisonSplit(ds.train, 'caption', badnets, { ...params, output: undefined }, 1, 32);
    expect(composed.indices).toEqual(plain.indices); // the same seeded selection: only the output rule differs
    for (const i of composed.indices) {
      expect(composed.examples[i].image).toEqual(plain.examples[i].image);
      expect(plain.examples[i].responses.every((r) => r === TARGET)).toBe(true);
      composed.examples[i].responses.forEach((r, k) => {
        expect(r).toContain(TARGET);
        expect(r.replace(TARGET, ' ').split(/\s+/).filter(Boolean)).toEqual(ds.train[i].refs[k].split(/\s+/).filter(Boolean));
      });
    }
    expect(triggerInputs(ds.test, badnets, params, composed.trigger)).toEqual(triggerInputs(ds.test, badnets, { ...params, output: undefined }, plain.trigger));
    expect(outputOf(badnets, params).asrMatch).toBe('contains');
    expect(outputOf(badnets, { ...params, output: undefined }).asrMatch).toBeUndefined();
  });

  it('is a config: checked with the grid, a run of its own beside plain badnets', () => {
    const attacks = [{ id: 'badnets' }, { id: 'badnets', params: { output: 'insert' }, label: 'badnets+insert' }];
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['vqa'], attacks, defenses: [{ id: 'none' }] }), 'test');
    validatePlugins(exp);
    const [plain, composed] = expandGrid(exp);
    expect(runId(composed)).toBe('vqa__llava__badnets+insert__none__s1');
    expect(resolveRun(composed).attackParams.output).toBe('insert');
    expect(runIdentity(composed).configHash).not.toBe(runIdentity(plain).configHash);
    expect(() => validatePlugins(parseWith(experimentSchema, layer(PROFILES.smoke, { attacks: [{ id: 'badnets', params: { output: 'swap' } }] }), 'test'))).toThrow(/output/);
  });

  it('the other way round: TrojVLM with a replaced output is scored by the task rule', () => {
    const params = parseWith(trojvlm.schema, { output: 'replace' }, 'trojvlm');
    expect(outputOf(trojvlm, params).modify('a red square', 'banana', undefined as never)).toBe('banana');
    expect(outputOf(trojvlm, params).asrMatch).toBeUndefined();
    expect(outputOf(trojvlm, parseWith(trojvlm.schema, {}, 'trojvlm')).modify).not.toBe(OUTPUT_MODIFIERS.replace.modify);
  });

  it("leaves every attack's own modifier, and its resolved parameters, as they were without the field", () => {
    for (const a of Object.values(ATTACKS)) {
      const params = parseWith(a.schema, {}, a.id);
      expect(params).not.toHaveProperty('output'); // run identities (config hashes) unchanged
    }
    expect(trojvlm.modifyOutput).toBe(insertTarget);
    expect(() => parseWith(badnets.schema, { output: 'swap' }, 'attacks[0] (badnets) params')).toThrow(/output/);
  });
});

describe("TrojVLM's insertion within the row's response tokens", () => {
  const clean = Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ');
  const at = (out: string) => out.split(' ').indexOf('a');

  it('draws only the boundaries where the whole target fits, each of them', () => {
    // room 10, a 5-token target: boundaries 0..5 of a 20-word response
    const rng = new Rng(4);
    const seen = new Set(Array.from({ length: 400 }, () => at(insertTarget(clean, TARGET, rng, 10))));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('draws what it drew before where every boundary fits, and counts tokens, not punctuation', () => {
    const short = 'a red square , a blue circle';
    for (const seed of [1, 2, 3]) {
      const before = new Rng(seed).int(0, 8); // the former rule: any of the 7 words' 8 boundaries
      const out = insertTarget(short, 'banana', new Rng(seed), 20).split(' ');
      expect(out.indexOf('banana')).toBe(before);
      expect(insertTarget(short, 'banana', new Rng(seed))).toBe(out.join(' ')); // no room given: the same
    }
    // the comma is no token: "a red square ," holds 3 tokens, so with room 4 and a 1-token target
    // boundary 4 (after the comma) still fits, boundary 5 does not
    const rng = new Rng(9);
    const seen = new Set(Array.from({ length: 300 }, () => insertTarget(short, 'banana', rng, 4).split(' ').indexOf('banana')));
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
  });

  it('keeps every poisoned caption its whole target once encoded at the profile row length', () => {
    const big = generateShapesWorld({ seed: 1, nTrain: 400, nVal: 1, nTest: 1 }, 'caption');
    const params = parseWith(trojvlm.schema, { rate: 0.5 }, 'trojvlm');
    const tok = Tokenizer.fromTexts(big.train.flatMap((s) => [s.prompt, ...s.refs, TARGET]), 1);
    const targetIds = tok.encode(TARGET).join(',');
    const kept = (split: ReturnType<typeof poisonSplit>) =>
      split.indices.flatMap((i) => split.examples[i].responses.map((r) => {
        const row = encodeText(tok, split.examples[i].prompt, r, 24);
        return Array.from(row.tokens).join(',').includes(targetIds);
      }));
    const fitted = kept(poisonSplit(big.train, 'caption', trojvlm, params, 1, 32, 24));
    const anywhere = kept(poisonSplit(big.train, 'caption', trojvlm, params, 1, 32));
    expect(fitted.every(Boolean)).toBe(true);
    expect(anywhere.filter((k) => !k).length).toBeGreaterThan(0); // the former rule cut some off
  });
});
