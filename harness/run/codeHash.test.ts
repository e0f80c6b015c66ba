import { describe, expect, it } from 'vitest';
import { codeHash, importClosure, stageEntry, type StageName } from './codeHash.js';

const STAGES: StageName[] = ['vision', 'pretrain', 'sft', 'repair', 'run'];
/** A plugin's file or one of its helpers: anything in a plugin folder but the boundary every run shares (registry, types, output modifiers). */
const plugin = (f: string) => /^(attacks|defenses|models)\/(?!(registry|types|outputModifiers)\.ts$)/.test(f);

describe('importClosure', () => {
  it('follows relative imports, registries to their whole directory, and the kernel fixes to the C++ addon', () => {
    const training = importClosure(['harness/core/training.ts']);
    expect(training).toEqual(
      expect.arrayContaining(['harness/core/training.ts', 'harness/core/batch.ts', 'harness/core/losses.ts', 'harness/core/engine.ts', 'harness/core/wasmKernels.ts', 'harness/native/kernels.cc', 'harness/native/fused.cc', 'harness/native/heap.h']),
    );
    // A statement that imports types only runs no code: training's `import type` of the model interface is not followed.
    expect(training).not.toContain('models/types.ts');
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

  it('a stage is one file of harness/run/; its code is that file\'s closure and its plugin files\'', () => {
    expect(STAGES.map(stageEntry)).toEqual(['harness/run/vision.ts', 'harness/run/pretrain.ts', 'harness/run/sft.ts', 'harness/run/repair.ts', 'harness/run/pipeline.ts']);
    // Without the run's plugins listed, the stage files alone reach no attack or defense (only
    // the models' registry, which then reaches every family); the vision tower, given its
    // (empty) plugin list, reaches the shared model layers and no family.
    for (const stage of ['vision', 'pretrain', 'sft', 'repair'] as const) expect(importClosure([stageEntry(stage)]).filter((f) => plugin(f) && !f.startsWith('models/')), stage).toEqual([]);
    expect(importClosure([stageEntry('vision')], []).filter(plugin)).toEqual(['models/layers.ts', 'models/params.ts']);
    // Pre-training sees clean data only: no attack or defense file, interfaces included, and not
    // the poisoning code reach its key, so editing one keeps every pre-trained model.
    const pretrain = importClosure([stageEntry('pretrain')], ['models/llava.ts']);
    expect(pretrain.filter((f) => /^(attacks|defenses)\//.test(f) || f === 'harness/run/poison.ts')).toEqual([]);
    // Given the run's plugins, a stage reaches those and what they import, nothing else.
    const own = importClosure([stageEntry('sft')], ['models/llava.ts', 'attacks/dualkey.ts', 'defenses/pcr.ts']);
    expect(own.filter(plugin)).toEqual(['attacks/badnets.ts', 'attacks/dualkey.ts', 'defenses/pcr.ts', 'models/causalLm.ts', 'models/layers.ts', 'models/llava.ts', 'models/params.ts']);
    expect(own).toEqual(expect.arrayContaining(['harness/core/training.ts', 'harness/run/poison.ts', 'harness/run/context.ts']));
    expect(codeHash([stageEntry('sft')], [], ['models/llava.ts', 'attacks/sig.ts'])).not.toBe(codeHash([stageEntry('sft')], [], ['models/llava.ts', 'attacks/badnets.ts']));
  });
});
