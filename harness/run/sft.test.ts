import { beforeAll, describe, expect, it } from 'vitest';
import { initEngine } from '../core/engine.js';
import { tinyModelConfig } from '../core/testing.js';
import { createModel } from '../../models/registry.js';
import { isVisionWeight } from '../../models/layers.js';
import { freshOnTower } from './sft.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

describe("a training-time defense's fresh model", () => {
  it("holds the pre-trained model's vision tower and a fresh language side", () => {
    const cfg = tinyModelConfig();
    const pre = createModel({ ...cfg, seed: cfg.seed + 1 }); // stands in for the pre-trained model: other weights everywhere
    const init = createModel(cfg);
    const fresh = freshOnTower(cfg, pre);
    const values = (m: typeof pre, name: string) => Array.from(m.params.get(name).dataSync());
    const names = [...fresh.params.vars.keys()];
    expect(names.some(isVisionWeight)).toBe(true);
    expect(names.some((n) => !isVisionWeight(n))).toBe(true);
    // the two sources differ on both sides (else the check below could not tell them apart)
    const differ = (n: string) => JSON.stringify(values(pre, n)) !== JSON.stringify(values(init, n));
    expect(names.filter(isVisionWeight).some(differ)).toBe(true);
    expect(names.filter((n) => !isVisionWeight(n)).some(differ)).toBe(true);
    for (const name of names) expect(values(fresh, name), name).toEqual(values(isVisionWeight(name) ? pre : init, name));
    for (const m of [pre, init, fresh]) m.params.dispose();
  });
});
