import { describe, expect, it } from 'vitest';
import { codeHash, importClosure } from './codeHash.js';
import { STAGE_CODE } from './runIdentity.js';

describe('importClosure', () => {
  it('follows relative imports, registries to their whole directory, and the kernel fixes to the C++ addon', () => {
    const training = importClosure(['harness/core/training.ts']);
    expect(training).toEqual(expect.arrayContaining(['harness/core/training.ts', 'harness/core/batch.ts', 'harness/core/losses.ts', 'harness/core/engine.ts', 'harness/core/wasmKernels.ts', 'harness/native/kernels.cc', 'harness/native/fused.cc', 'harness/native/heap.h', 'models/types.ts']));
    // Training reaches no plugin: editing an attack or a defense leaves it alone.
    expect(training.filter((f) => f.startsWith('attacks/') || f.startsWith('defenses/'))).toEqual([]);
    const models = importClosure(['models/registry.ts']);
    expect(models).toEqual(expect.arrayContaining(['models/llava.ts', 'models/blip2.ts', 'models/flamingo.ts', 'models/causalLm.ts', 'harness/core/plugins.ts']));
    expect(models.some((f) => f.endsWith('.test.ts'))).toBe(false);
    expect(importClosure(['defenses/registry.ts'])).toEqual(expect.arrayContaining(['defenses/pcr.ts', 'harness/core/patchAug.ts', 'defenses/abl.ts']));
  });

  it('hashes stably, and differently for different closures; a missing entry is an error', () => {
    expect(codeHash(['harness/core/training.ts'])).toMatch(/^[0-9a-f]{12}$/);
    expect(codeHash(['harness/core/training.ts'])).toBe(codeHash(['harness/core/training.ts']));
    expect(codeHash(['harness/core/training.ts'])).not.toBe(codeHash(['harness/core/training.ts', 'defenses/registry.ts']));
    expect(() => importClosure(['harness/nope.ts'])).toThrow(/nope.ts does not exist/);
  });

  it("pipeline stages: pre-training's code reaches no attack or defense; SFT's reaches every one unless told the run's plugins", () => {
    const plugin = (f: string) => (f.startsWith('attacks/') && f !== 'attacks/types.ts') || (f.startsWith('defenses/') && f !== 'defenses/types.ts');
    expect(importClosure(STAGE_CODE.pretrain).filter(plugin)).toEqual([]);
    const sft = importClosure(STAGE_CODE.sft);
    expect(sft).toEqual(expect.arrayContaining(['attacks/badnets.ts', 'attacks/wanet.ts', 'defenses/pcr.ts', 'defenses/aug.ts', 'harness/core/training.ts']));
    // Given the run's plugins, a registry reaches those and what they import, nothing else.
    const own = importClosure(STAGE_CODE.sft, ['models/llava.ts', 'attacks/dualkey.ts', 'defenses/pcr.ts']);
    expect(own.filter(plugin)).toEqual(['attacks/badnets.ts', 'attacks/dualkey.ts', 'attacks/outputModifiers.ts', 'attacks/registry.ts', 'defenses/pcr.ts', 'defenses/registry.ts']);
    expect(own.filter((f) => f.startsWith('models/') && !['models/llava.ts', 'models/registry.ts', 'models/types.ts'].includes(f)).every((f) => !/(blip2|flamingo)/.test(f))).toBe(true);
    expect(codeHash(STAGE_CODE.sft, [], ['models/llava.ts', 'attacks/sig.ts'])).not.toBe(codeHash(STAGE_CODE.sft, [], ['models/llava.ts', 'attacks/badnets.ts']));
  });

  it("no stage's code reaches the reports or the orchestration: editing a table or the runner recomputes nothing", () => {
    const plugins = ['models/llava.ts', 'attacks/badnets.ts', 'defenses/pcr.ts'];
    const orchestration = /^(reports\/|harness\/(cli|runner|worker|calibrate|sweep|merge|shard|schedule|estimate|slurm|progress)\.ts$)/;
    for (const [stage, entries] of Object.entries(STAGE_CODE)) {
      expect(importClosure(entries, plugins).filter((f) => orchestration.test(f)), stage).toEqual([]);
    }
  });
});
