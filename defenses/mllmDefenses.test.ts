/** BYE, CleanSight and RobustIT end to end at smoke size, on every model family. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseWith } from '../harness/config/schema.js';
import { initEngine } from '../harness/core/engine.js';
import { expandGrid } from '../harness/plan/grid.js';
import { executeRun } from '../harness/run/pipeline.js';
import { PROFILES } from '../harness/config/profiles.js';
import { Store } from '../harness/run/store.js';
import { MODELS } from '../models/registry.js';

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

describe.each(Object.keys(MODELS))('the MLLM defenses on %s', (family) => {
  it('bye, cleansight and robustit each run end to end and record what they promise', async () => {
    const exp = parseWith(
      experimentSchema,
      layer(PROFILES.smoke, {
        tasks: ['caption'],
        models: [family],
        attacks: [{ id: 'badnets', params: { rate: 0.1 } }],
        defenses: [{ id: 'bye' }, { id: 'cleansight', params: { cleanFraction: 0.25 } }, { id: 'robustit' }],
        data: { nTrain: 40, nVal: 4, nTest: 6 },
      }),
      'test',
    );
    const store = new Store(mkdtempSync(join(tmpdir(), `mbb-mllm-${family}-`)));
    const records = [];
    for (const spec of expandGrid(exp)) records.push(await executeRun(spec, store, () => {}));
    const [bye, cleansight, robustit] = records;
    expect(records.map((r) => [r.defense, r.status, r.defenseStage])).toEqual([
      ['bye', 'ok', 'training'],
      ['cleansight', 'ok', 'inference'],
      ['robustit', 'ok', 'training'],
    ]);
    // BYE: every training example scored (AUROC beside PCR's and ABL's) and the removed set scored.
    expect(bye.suspicion['bye.entropy'][0]).toMatchObject({ n: 40, positives: 4 });
    expect(bye.removal).toMatchObject({ poisoned: 4 });
    // CleanSight: its detection rates on the clean, triggered and shuffled test inputs.
    for (const m of ['flagged clean', 'flagged', 'flagged shuffled']) expect(cleansight.metrics[m]).toBeGreaterThanOrEqual(0);
    expect(cleansight.metrics['flagged clean']).toBeLessThanOrEqual(1);
    // CleanSight reuses the backdoored model; RobustIT trains its own.
    expect(cleansight.keys.sft).not.toEqual(robustit.keys.sft);
    expect(Number.isFinite(robustit.metrics['CIDEr-D'])).toBe(true);
  });
});
