import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseWith } from '../harness/config/schema.js';
import { pluginFile } from '../harness/core/plugins.js';
import { DEFENSES, getDefense } from './registry.js';
import { DEFENSE_STAGES, type Defense } from './types.js';

/** The members a defense's stage needs: exactly one of a stage's alternative forms. */
function forms(d: Defense): string[] {
  const has = (k: string) => typeof (d as unknown as Record<string, unknown>)[k] === 'function';
  return ['trainingHook', 'sft', 'repair', 'transformTestImage', 'guardModel'].filter(has);
}
const FORMS: Record<Defense['stage'], string[][]> = { none: [[]], training: [['trainingHook'], ['sft']], post: [['repair']], inference: [['transformTestImage'], ['guardModel']] };

describe('defense registry', () => {
  it.each(Object.keys(DEFENSES))('%s: found by its id in its own file of defenses/, with parseable defaults and the member its stage needs', (id) => {
    const d = getDefense(id);
    expect(d.id).toBe(id);
    expect(relative(resolve(__dirname, '..'), dirname(resolve(__dirname, '..', pluginFile('defense', id))))).toBe('defenses');
    expect(DEFENSE_STAGES).toContain(d.stage);
    expect(() => parseWith(d.schema, {}, id)).not.toThrow();
    expect(FORMS[d.stage]).toContainEqual(forms(d));
  });

  it('has the no-defense reference, and suggests the nearest id for a mistyped one', () => {
    expect(getDefense('none').stage).toBe('none');
    expect(() => getDefense('pcrr')).toThrow(/unknown defense "pcrr".*pcr/);
  });
});
