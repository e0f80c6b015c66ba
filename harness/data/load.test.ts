import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configForTask, experimentSchema, layer, parseWith } from '../config/schema.js';
import { dataSchema } from './config.js';
import { UserError } from '../core/errors.js';
import type { RunSpec } from '../run/runSpec.js';
import { loadDataset } from '../run/context.js';
import { PROFILES } from '../config/profiles.js';
import { writeCocoKarpathyFixture } from './fixtures.js';
import { loadSplits, vocabMinCount } from './load.js';
import { generateShapesWorld } from './shapesWorld.js';

/**
 * The `data` schema before real datasets, verbatim, plus the one field added since
 * (`nPretrain`, optional without a default, so a config without it parses as it did): every
 * ShapesWorld config must parse as before.
 */
const oldShapesSchema = z
  .object({
    kind: z.literal('shapes').default('shapes'),
    nTrain: z.number().int().min(1).default(3000),
    nVal: z.number().int().min(1).default(100),
    nTest: z.number().int().min(1).default(300),
    imageSize: z.number().int().min(8).max(256).default(32),
    questionsPerImage: z.number().int().min(1).max(8).default(2),
    nPretrain: z.number().int().min(1).optional(),
  })
  .strict()
  .default({ kind: 'shapes', nTrain: 3000, nVal: 100, nTest: 300, imageSize: 32, questionsPerImage: 2 });

async function userError(f: () => unknown): Promise<string> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('data config', () => {
  it('parses every ShapesWorld config exactly as before (profiles, per-task overrides)', async () => {
    const inputs = [undefined, {}, { nTrain: 160, nVal: 20, nTest: 40 }, { kind: 'shapes', imageSize: 64, questionsPerImage: 1 }];
    for (const d of inputs) {
      expect(parseWith(dataSchema, d, 't')).toEqual(oldShapesSchema.parse(d));
      expect(parseWith(dataSchema, d, 't')).not.toHaveProperty('nPretrain'); // absent, not undefined: hashes unchanged
    }
    for (const [name, profile] of Object.entries(PROFILES)) {
      const exp = parseWith(experimentSchema, profile, name);
      expect(exp.data).toEqual(oldShapesSchema.parse(profile.data));
      for (const task of exp.tasks) {
        const over = (exp.perTask[task]?.data ?? {}) as Record<string, unknown>;
        expect(configForTask(exp, task).data).toEqual(oldShapesSchema.parse({ ...(profile.data as object), ...over }));
      }
    }
    expect(() => parseWith(dataSchema, { nTrain: 0 }, 'cfg')).toThrow(/cfg: nTrain: Too small/);
  });

  it('fills the official file names as defaults for each real kind', async () => {
    expect(parseWith(dataSchema, { kind: 'coco', root: '/d' }, 't')).toMatchObject({
      format: 'karpathy',
      karpathyFile: 'dataset_coco.json',
      trainAnnotations: 'annotations/captions_train2014.json',
      valImages: 'val2014',
      limit: 0,
      minCount: 5,
      onBadImage: 'skip',
      imageSize: 32,
    });
    expect(parseWith(dataSchema, { kind: 'flickr30k', root: '/d' }, 't')).toMatchObject({ karpathyFile: 'dataset_flickr30k.json', imagesDir: 'flickr30k-images' });
    expect(parseWith(dataSchema, { kind: 'vqav2', root: '/d' }, 't')).toMatchObject({
      trainQuestions: 'v2_OpenEnded_mscoco_train2014_questions.json',
      valAnnotations: 'v2_mscoco_val2014_annotations.json',
      topAnswers: 3000,
      minCount: 1,
    });
  });

  it('names the field and the fix for bad real-data configs', async () => {
    expect(await userError(() => parseWith(experimentSchema, { data: { kind: 'coco' } }, 'cfg'))).toMatch(/cfg: data\.root: required for data\.kind "coco"/);
    expect(await userError(() => parseWith(experimentSchema, { data: { kind: 'imagenet', root: '/d' } }, 'cfg'))).toMatch(/data\.kind: unknown data kind; choose one of shapes, coco, flickr30k, vqav2/);
    expect(await userError(() => parseWith(experimentSchema, { data: { kind: 'coco', root: '/d', onBadImage: 'ignore' } }, 'cfg'))).toMatch(/data\.onBadImage/);
    expect(await userError(() => parseWith(experimentSchema, { data: { kind: 'flickr30k', root: '/d', trainAnnotations: 'x.json' } }, 'cfg'))).toMatch(/data: unknown key "trainAnnotations"/);
    expect(await userError(() => parseWith(experimentSchema, { data: { kind: 'vqav2', root: '/d', nTrain: 100 } }, 'cfg'))).toMatch(
      /data\.nTrain: only for data\.kind "shapes"; "vqav2" takes its samples from the files \(cap them with data\.limit\).*\(got 100\)/,
    );
    expect(await userError(() => parseWith(experimentSchema, { data: { kind: 'coco', root: '/d', nPretrain: 100 } }, 'cfg'))).toMatch(
      /data\.nPretrain: only for data\.kind "shapes"; on "coco" LM pre-training reads the train split/,
    );
  });

  it('layers a per-task nTrain over ShapesWorld, and refuses it over a real dataset', async () => {
    const shapes = parseWith(experimentSchema, { perTask: { vqa: { data: { nTrain: 7 } } } }, 'cfg');
    expect(configForTask(shapes, 'vqa').data).toMatchObject({ kind: 'shapes', nTrain: 7 });
    const real = parseWith(experimentSchema, { tasks: ['vqa'], data: { kind: 'vqav2', root: '/d' }, perTask: { vqa: { data: { nTrain: 7 } } } }, 'cfg');
    expect(await userError(() => configForTask(real, 'vqa'))).toMatch(/^perTask\.vqa: data\.nTrain: only for data\.kind "shapes".*restate "kind": "vqav2" in perTask\.<task>\.data/);
  });

  it('a data object of another kind replaces the one below instead of merging', async () => {
    // The smoke profile's ShapesWorld sizes do not leak into a COCO config layered over it.
    const coco = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], data: { kind: 'coco', root: '/d' } }), 'cfg');
    expect(coco.data).toMatchObject({ kind: 'coco', root: '/d' });
    expect(coco.data.nTrain).toBeUndefined();
    // The default profile's perTask.vqa ShapesWorld sizes are dropped by restating the kind there, as the error says.
    const user = { tasks: ['vqa'], data: { kind: 'vqav2', root: '/d', limit: 50 }, perTask: { vqa: { data: { kind: 'vqav2' } } } };
    const vqa = configForTask(parseWith(experimentSchema, layer(PROFILES.default, user), 'cfg'), 'vqa');
    expect(vqa.data).toMatchObject({ kind: 'vqav2', root: '/d', limit: 50 });
    expect(vqa.model.merge).toBe(1); // the profile's other per-task fields still apply
    // One task on COCO, the other on VQA v2.
    const both = parseWith(experimentSchema, { data: { kind: 'coco', root: '/c' }, perTask: { vqa: { data: { kind: 'vqav2', root: '/v' } } } }, 'cfg');
    expect(configForTask(both, 'caption').data).toMatchObject({ kind: 'coco', root: '/c' });
    expect(configForTask(both, 'vqa').data).toEqual(parseWith(dataSchema, { kind: 'vqav2', root: '/v' }, 't'));
    // Without a kind the override merges as before.
    expect(layer({ data: { kind: 'coco', root: '/a' } }, { data: { limit: 3 } })).toEqual({ data: { kind: 'coco', root: '/a', limit: 3 } });
  });

  it('refuses a dataset that cannot serve a task, naming where it was set', async () => {
    const coco = parseWith(experimentSchema, { data: { kind: 'coco', root: '/d' } }, 'cfg'); // tasks default to both
    expect(await userError(() => configForTask(coco, 'vqa'))).toBe(
      'data.kind: "coco" is a caption dataset and cannot serve task "vqa"; drop "vqa" from tasks, or give it its own data with perTask.vqa.data: {"kind": "vqav2", ...}',
    );
    const per = parseWith(experimentSchema, { perTask: { caption: { data: { kind: 'vqav2', root: '/d' } } } }, 'cfg');
    expect(await userError(() => configForTask(per, 'caption'))).toMatch(/^perTask\.caption\.data\.kind: "vqav2" is a vqa dataset/);
  });

  it('minimum word count: every word on ShapesWorld, data.minCount on real data', async () => {
    expect(vocabMinCount(parseWith(dataSchema, {}, 't'))).toBe(1);
    expect(vocabMinCount(parseWith(dataSchema, { kind: 'coco', root: '/d', minCount: 3 }, 't'))).toBe(3);
  });
});

describe('loadSplits', () => {
  it('gives ShapesWorld samples byte-identical to generateShapesWorld, also through pipeline.loadDataset', async () => {
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { data: { nTrain: 12, nVal: 3, nTest: 5 }, eval: { limit: 4 } }), 'smoke');
    for (const task of ['caption', 'vqa'] as const) {
      const d = exp.data as Extract<typeof exp.data, { kind: 'shapes' }>;
      const direct = generateShapesWorld({ seed: 3, nTrain: d.nTrain, nVal: d.nVal, nTest: d.nTest, imageSize: d.imageSize, questionsPerImage: d.questionsPerImage }, task);
      expect(await loadSplits(exp.data, task, 3)).toEqual(direct);
      const spec: RunSpec = { exp, task, model: 'llava', attack: { id: 'badnets', params: {} }, defense: { id: 'none', params: {} }, seed: 3 };
      expect(await loadDataset(spec)).toEqual({ ...direct, test: direct.test.slice(0, 4) });
    }
  });

  it('reuses the last real dataset of the process, in fresh arrays, while its config, task and seed are the same', async () => {
    const fx = writeCocoKarpathyFixture(mkdtempSync(join(tmpdir(), 'load-memo-')), { nTrain: 4, nVal: 2, nTest: 2 });
    const cfg = parseWith(dataSchema, fx.data, 't');
    const first = await loadSplits(cfg, 'caption', 1);
    first.test = []; // a caller reassigning or slicing a split (as loadDataset does) must not affect the next run
    first.train.pop();
    for (const p of fx.images.train) rmSync(p); // the files are no longer read
    const again = await loadSplits(cfg, 'caption', 1);
    expect([again.train.length, again.test.length]).toEqual([4, 2]);
    expect(again.train[0].image).toBe(first.train[0].image);
    await expect(loadSplits(cfg, 'caption', 2)).rejects.toThrow(/image file\(s\) not found/); // another seed: loaded again
  });
});

describe('a dataset that cannot load stops the grid before any run', () => {
  it('mbb run with missing images: one line naming how many and the first ones, no runs, no report', async () => {
    const { spawnSync } = await import('node:child_process');
    const { existsSync, mkdtempSync, rmSync: rm } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join, resolve } = await import('node:path');
    const { writeCocoKarpathyFixture } = await import('./fixtures.js');
    const root = mkdtempSync(join(tmpdir(), 'mbb-baddata-'));
    const fx = writeCocoKarpathyFixture(root, { nTrain: 8, nVal: 4, nTest: 4 });
    for (const p of fx.images.train.slice(0, 5)) rm(p);
    const out = join(root, 'out');
    const r = spawnSync(
      process.execPath,
      [resolve(__dirname, '../../scripts/mbb.mjs'), 'run', '--profile', 'smoke', '--set', `data=${JSON.stringify({ ...fx.data, imageSize: 32 })}`, '--set', 'tasks=["caption"]', '--out', out, '--cache', join(root, 'cache')],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/coco: 5 image file\(s\) not found: .* and 2 more; check data.root and data.imagesDir/);
    expect(existsSync(join(out, 'runs'))).toBe(false);
    expect(existsSync(join(out, 'report.html'))).toBe(false);
  });
});
