import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, loadWeights } from './checkpoint.js';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { initEngine, tf } from '../core/engine.js';
import { expandGrid } from '../plan/grid.js';
import { executeRun } from './pipeline.js';
import { PROFILES } from '../config/profiles.js';
import { Store } from './store.js';
import { colourTask, tinyModelConfig } from '../core/testing.js';
import { train } from '../core/training.js';
import { patchLabels, pretrainVision, vitSizes } from './vision.js';
import type { Scene } from '../data/shapesWorld.js';
import { isVisionWeight, outsideVisionTower } from '../../models/layers.js';
import { createModel } from '../../models/registry.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

const snapshot = (vars: Map<string, tf.Variable>, keep: (name: string) => boolean) =>
  Object.fromEntries([...vars].filter(([n]) => keep(n)).map(([n, v]) => [n, [...v.dataSync()]]));

describe('vision: patch labels', () => {
  it('labels exactly the patches whose centre lies in an object box, with shape, colour, size and position ids', () => {
    const scene: Scene = {
      size: 16,
      background: { level: 50, tint: [0, 0, 0], gradAmp: 0, gradAngle: 0, textureSeed: 1 },
      // Box [5, 11] × [1, 7]: patch centres (4-px patches) are 1.5, 5.5, 9.5, 13.5.
      objects: [{ shape: 'triangle', color: 'blue', size: 'large', cx: 8, cy: 4, r: 3, rgb: [0, 0, 200] }],
    };
    const l = patchLabels(scene, 4);
    // Columns 1 and 2 (centres 5.5, 9.5), rows 0 and 1 (centres 1.5, 5.5).
    const on = [1, 2, 5, 6];
    for (let i = 0; i < 16; i++) {
      expect(l.shape[i]).toBe(on.includes(i) ? 3 : 0); // triangle is SHAPES[2]
      expect(l.colour[i]).toBe(on.includes(i) ? 3 : 0); // blue is COLORS[2]
      expect(l.size[i]).toBe(on.includes(i) ? 2 : 0); // large
      expect(l.position[i]).toBe(on.includes(i) ? 3 : 0); // 'top' (POSITIONS[2]): centre 7.5, dx 0.5, dy −3.5
    }
  });
});

describe('vision: the tower pre-training', () => {
  const sizes = vitSizes(tinyModelConfig());
  const cfg = { epochs: 2, images: 48, batchSize: 16, lr: 3e-3 };

  it('returns the vit weights alone, the same for the same seed, with held-out accuracies per epoch and no leaked tensors', () => {
    const before = tf.memory().numTensors;
    const a = pretrainVision(sizes, cfg, 1);
    const b = pretrainVision(sizes, cfg, 1);
    const names = Object.keys(a.weights);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every(isVisionWeight)).toBe(true);
    // Every tower weight a family has is covered.
    const model = createModel(tinyModelConfig());
    expect(names.sort()).toEqual([...model.params.vars.keys()].filter(isVisionWeight).sort());
    model.params.dispose();
    for (const n of names) expect(a.weights[n].dataSync()).toEqual(b.weights[n].dataSync());
    expect(a.log).toHaveLength(2);
    for (const e of a.log) for (const h of ['val shape', 'val colour', 'val size', 'val position']) expect(e.val![h]).toBeGreaterThanOrEqual(0);
    tf.dispose([...Object.values(a.weights), ...Object.values(b.weights)]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('training with the tower frozen leaves its weights as they were and trains the rest', () => {
    const model = createModel(tinyModelConfig());
    const { tok, ex } = colourTask();
    const towerBefore = snapshot(model.params.vars, isVisionWeight);
    const restBefore = snapshot(model.params.vars, outsideVisionTower);
    train(model, tok, ex, { epochs: 2, batchSize: 2, lr: 1e-2, seed: 1, maxText: 8, trainable: outsideVisionTower });
    expect(snapshot(model.params.vars, isVisionWeight)).toEqual(towerBefore);
    const rest = snapshot(model.params.vars, outsideVisionTower);
    expect(Object.keys(rest).filter((n) => rest[n].some((v, i) => v !== restBefore[n][i])).length).toBeGreaterThan(0);
    model.params.dispose();
  });
});

describe('vision: in the pipeline', () => {
  it('a frozen pre-trained tower reaches the backdoored model unchanged, and the stage is cached and shared', async () => {
    const over = { tasks: ['caption', 'vqa'], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }], data: { nTrain: 40, nVal: 4, nTest: 4 }, vision: { epochs: 1, images: 32 } };
    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, over), 'test');
    const [caption, vqa] = expandGrid(exp);
    const store = new Store(mkdtempSync(join(tmpdir(), 'mbb-vision-')));
    const rec = await executeRun(caption, store, () => {});
    expect(rec.cached).toMatchObject({ vision: false, pretrain: false });
    expect(rec.trainLog.vision).toHaveLength(1);
    const [visionKey] = readdirSync(join(store.root, 'vision'));
    const tower = loadWeights(store.dir('vision', visionKey));
    const { model } = loadCheckpoint(store.dir('backdoored', rec.keys.sft));
    for (const [name, v] of model.params.vars) if (isVisionWeight(name)) expect(v.dataSync()).toEqual(tower[name].dataSync());
    model.params.dispose();
    tf.dispose(Object.values(tower));
    // The other task reuses the tower (same sizes and seed).
    const other = await executeRun(vqa, store, () => {});
    expect(other.cached).toMatchObject({ vision: true, pretrain: false });
    expect(other.keys.vision).toBe(visionKey); // one curve in the report's training charts, not one per run
  });
});
