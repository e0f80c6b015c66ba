import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { initEngine } from '../core/engine.js';
import { expandGrid } from '../plan/grid.js';
import { runId } from './runSpec.js';
import { executeRun } from './pipeline.js';
import { PROFILES } from '../config/profiles.js';
import { hashFiles, Store } from './store.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

describe('pipeline: the poisoned split is saved with the SFT stage', () => {
  it('stores the indices and trigger asset, and refuses a cached model trained on another split', async () => {
    const exp = parseWith(
      experimentSchema,
      layer(PROFILES.smoke, { tasks: ['caption'], attacks: [{ id: 'blended', params: { rate: 0.1 } }], defenses: [{ id: 'none' }], data: { nTrain: 40, nVal: 4, nTest: 4 } }),
      'test',
    );
    const [spec] = expandGrid(exp);
    const store = new Store(mkdtempSync(join(tmpdir(), 'mbb-pipe-')));
    const rec = await executeRun(spec, store, () => {});
    const dir = store.dir('backdoored', rec.keys.sft);
    const stage = JSON.parse(readFileSync(join(dir, 'stage.json'), 'utf8'));
    expect(stage.split.indices).toHaveLength(4); // round(0.1 × 40)
    expect(stage.split.target).toBe('a photo of the banana');
    expect(Object.keys(stage.split.trigger)).toContain('pattern'); // blended's seeded pattern image
    expect(rec.poisonCount).toBe(4);

    // A cached entry (files consistent with its DONE marker) whose split differs is refused.
    stage.split.indices[0] = (stage.split.indices[0] + 1) % 40;
    writeFileSync(join(dir, 'stage.json'), JSON.stringify(stage));
    const marker = JSON.parse(readFileSync(join(dir, 'DONE'), 'utf8'));
    writeFileSync(join(dir, 'DONE'), JSON.stringify({ ...marker, files: hashFiles(dir) }));
    await expect(executeRun(spec, store, () => {})).rejects.toThrow(/trained on another poisoned split \(indices differ\); delete that cache entry/);
    expect(readdirSync(join(store.root, 'backdoored'))).toEqual([rec.keys.sft]);
  });
});

describe('pipeline: a run is a function of its own inputs, not of the grid around it', () => {
  it('gives identical metrics run alone and inside a grid with two more attacks, two more defenses and a seed', async () => {
    const smoke = (over: Record<string, unknown>) => parseWith(experimentSchema, layer(PROFILES.smoke, over), 'test');
    const alone = expandGrid(smoke({ tasks: ['caption'], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }] }))[0];
    // dualkey declares a trigger word the data lacks: it once shifted every word id and so every initial weight.
    const grid = smoke({ tasks: ['caption'], attacks: [{ id: 'dualkey' }, { id: 'badnets' }, { id: 'trojvlm' }], defenses: [{ id: 'pcr' }, { id: 'none' }, { id: 'ft' }], seeds: [2, 1] });
    const inGrid = expandGrid(grid).find((r) => runId(r) === runId(alone))!;
    const a = await executeRun(alone, new Store(mkdtempSync(join(tmpdir(), 'mbb-alone-'))), () => {});
    const b = await executeRun(inGrid, new Store(mkdtempSync(join(tmpdir(), 'mbb-grid-'))), () => {});
    expect(a.metrics['CIDEr-D']).toBeGreaterThan(0); // a trained model, not two empty ones
    expect(b.metrics).toEqual(a.metrics);
    expect(b.keys).toEqual(a.keys);
    expect([b.provenance.configHash, b.provenance.codeVersion]).toEqual([a.provenance.configHash, a.provenance.codeVersion]);
  });
});

describe('pipeline: a defense whose probe is the backdoored model', () => {
  it('BYE reads the cached plain SFT and gives what its own probe of the same epochs gives; the no-defense run then loads that model', async () => {
    const smoke = (defenses: unknown[]) =>
      expandGrid(parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], attacks: [{ id: 'badnets', params: { rate: 0.1 } }], defenses, data: { nTrain: 40, nVal: 4, nTest: 4 } }), 'test'));
    const [reused, own, none] = smoke([{ id: 'bye' }, { id: 'bye', label: 'bye-own', params: { probeEpochs: 1 } }, { id: 'none' }]); // smoke SFT: 1 epoch
    const store = new Store(mkdtempSync(join(tmpdir(), 'mbb-bye-')));
    const a = await executeRun(reused, store, () => {});
    const b = await executeRun(own, new Store(mkdtempSync(join(tmpdir(), 'mbb-bye-own-'))), () => {});
    expect(a.suspicion['bye.entropy']).toHaveLength(1); // it scored the examples
    expect([a.metrics, a.suspicion, a.removal]).toEqual([b.metrics, b.suspicion, b.removal]);
    expect(readdirSync(join(store.root, 'backdoored'))).toHaveLength(1);
    // It trained that model itself: its record keeps the probe's time apart from its own SFT's.
    expect(a.cached.probe).toBe(false);
    expect(a.timings.probe).toBeGreaterThan(0);
    expect(b.cached.probe).toBeUndefined(); // its own probe is part of its SFT
    const plain = await executeRun(none, store, () => {});
    expect(plain.cached.sft).toBe(true);
    expect(readdirSync(join(store.root, 'backdoored'))).toEqual([plain.keys.sft]);
  });
});

describe('pipeline: a defense that removes training examples', () => {
  it('records the removed set scored against the ground truth, also when the stage is cached', async () => {
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], attacks: [{ id: 'badnets', params: { rate: 0.1 } }], defenses: [{ id: 'remove' }], data: { nTrain: 40, nVal: 4, nTest: 4 } }), 'test');
    const [spec] = expandGrid(exp);
    const store = new Store(mkdtempSync(join(tmpdir(), 'mbb-remove-')));
    const rec = await executeRun(spec, store, () => {});
    // 4 poisoned of 40; ⌈0.1 · 40⌉ = 4 removed
    expect(rec.removal).toMatchObject({ removed: 4, poisoned: 4 });
    expect(rec.removal!.precision).toBeCloseTo(rec.removal!.hits / 4, 12);
    expect(rec.suspicion['remove.lga']).toHaveLength(1);
    const again = await executeRun(spec, store, () => {});
    expect(again.cached.sft).toBe(true);
    expect(again.removal).toEqual(rec.removal);
  });
});

describe('pipeline: pre-training on its own corpus', () => {
  it('pre-trains on data.nPretrain images while SFT keeps the train split', async () => {
    const run = (data: Record<string, unknown>) =>
      expandGrid(parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }], data }), 'test'))[0];
    const stepsOf = async (data: Record<string, unknown>) => {
      const steps = new Set<string>();
      const rec = await executeRun(run(data), new Store(mkdtempSync(join(tmpdir(), 'mbb-corpus-'))), (m) => {
        const n = m.stage === 'pretrain' && m.detail?.match(/step \d+\/(\d+)/);
        if (n) steps.add(n[1]);
      });
      return { rec, steps: [...steps] };
    };
    const data = { nTrain: 40, nVal: 4, nTest: 4 };
    const plain = await stepsOf(data);
    const own = await stepsOf({ ...data, nPretrain: 96 });
    expect(plain.steps).toEqual(['2']); // 40 train images / batch 32
    expect(own.steps).toEqual(['3']); // 96 corpus images / batch 32
    expect(own.rec.trainSize).toBe(plain.rec.trainSize);
    expect(own.rec.keys.pretrain).not.toBe(plain.rec.keys.pretrain);
  });
});
