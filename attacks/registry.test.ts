import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { pluginFile } from '../harness/core/plugins.js';
import { Rng } from '../harness/core/rng.js';
import { solidImage } from '../harness/core/testing.js';
import { DEFENSES } from '../defenses/registry.js';
import { ATTACKS, getAttack } from './registry.js';
import { attackKind } from './types.js';

describe('attack registry', () => {
  it.each(Object.keys(ATTACKS))('%s: found by its id in its own file of attacks/; its defaults parse, its trigger stamps a copy', (id) => {
    const a = getAttack(id);
    expect(a.id).toBe(id);
    expect(relative(resolve(__dirname, '..'), dirname(resolve(__dirname, '..', pluginFile('attack', id))))).toBe('attacks');
    const params = parseWith(a.schema, {}, id);
    expect(params).toMatchObject({ rate: 0.05, target: '' });
    const trigger = a.makeTrigger(params, { rng: new Rng(1), imageSize: 32 });
    expect(JSON.parse(JSON.stringify(trigger))).toEqual(trigger); // saved with the SFT stage as JSON
    const image = solidImage(32, [90, 120, 150]);
    const before = image.data.slice();
    const stamped = a.applyImage(image, trigger, params);
    expect([stamped.height, stamped.width, stamped.data.length]).toEqual([32, 32, before.length]);
    expect(image.data).toEqual(before); // pure: a new image
    if (attackKind(a, params) === 'training-controlled') expect(typeof a.stepImage).toBe('function');
    expect(typeof a.modifyOutput('a red square', 'banana', new Rng(2))).toBe('string');
    // Stronger settings (climbed by `mbb calibrate`): a parameter of the schema, ascending from above its default, each valid.
    if (a.strength) {
      const { param, values } = a.strength;
      expect([values[0] > (params as unknown as Record<string, number>)[param], values.every((v, i) => i === 0 || v > values[i - 1])]).toEqual([true, true]);
      for (const v of values) expect(() => parseWith(a.schema, { [param]: v }, id)).not.toThrow();
    }
  });

  it('an adaptive attacker names a registered base attack and registered defenses to get past', () => {
    const adaptive = Object.values(ATTACKS).filter((a) => a.adaptive);
    expect(adaptive.map((a) => a.id)).toEqual(expect.arrayContaining(['randpatch', 'viewinv'])); // and copies of randpatch (oneFilePlugins.test.ts)
    for (const a of adaptive) {
      expect(Object.keys(ATTACKS)).toContain(a.adaptive!.base);
      expect(a.adaptive!.base).not.toBe(a.id);
      expect(a.adaptive!.against.length).toBeGreaterThan(0);
      for (const d of a.adaptive!.against) expect(Object.keys(DEFENSES)).toContain(d);
    }
  });

  it('suggests the nearest id for a mistyped one', () => {
    expect(() => getAttack('badnet')).toThrow(/unknown attack "badnet".*badnets/);
  });
});
