/**
 * Every registered model family: a checkpoint written here loads in a fresh node process and
 * decodes exactly as the model that wrote it, and training keeps tf.memory() flat.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS, createModel } from '../../models/registry.js';
import { encodeText, imagesToTensor, textBatch, type TrainExample } from '../core/batch.js';
import { saveCheckpoint } from './checkpoint.js';
import { generateShapesWorld } from '../data/shapesWorld.js';
import { generate } from '../core/decode.js';
import { initEngine, tf } from '../core/engine.js';
import { tinyModelConfig } from '../core/testing.js';
import { Tokenizer } from '../core/tokenizer.js';
import { train } from '../core/training.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = join(ROOT, 'scripts', 'decode-checkpoint.ts');
const MAX_TEXT = 12;
const BATCH = 16;

beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
});

// 16×16 ShapesWorld captions: 48 to train on, the 50 test samples to decode.
const ds = generateShapesWorld({ seed: 3, nTrain: 48, nVal: 1, nTest: 50, imageSize: 16 }, 'caption');
const tok = Tokenizer.fromTexts(ds.train.flatMap((s) => [s.prompt, ...s.refs]));
const trainSet: TrainExample[] = ds.train.map((s) => ({ id: s.id, image: s.image, prompt: s.prompt, responses: s.refs, poisoned: false }));
const inputs = ds.test.map((s) => ({ image: s.image, prompt: s.prompt }));
const config = (family: string) => tinyModelConfig({ family, vocabSize: tok.size, maxText: MAX_TEXT, queries: 4 });

/** As scripts/decode-checkpoint.ts: digest of the teacher-forced logits on the prompts. */
function logitsSha256(model: ReturnType<typeof createModel>): string {
  const logits = tf.tidy(() => {
    const text = textBatch(inputs.map((i) => encodeText(tok, i.prompt, '', MAX_TEXT)));
    return model.forward(imagesToTensor(inputs.map((i) => i.image)), text.tokens);
  });
  const values = logits.dataSync();
  logits.dispose();
  return createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
}

describe.each(Object.keys(MODELS))('%s checkpoint', (family) => {
  it('decodes the same 50 test samples in a new node process as in this one', async () => {
    const model = createModel(config(family));
    train(model, tok, trainSet, { epochs: 10, batchSize: BATCH, lr: 1e-2, seed: 1, maxText: MAX_TEXT });
    const here = generate(model, tok, inputs, { maxText: MAX_TEXT, batchSize: BATCH });
    const digest = logitsSha256(model);
    const dir = mkdtempSync(join(tmpdir(), `mbb-ckpt-${family}-`));
    await saveCheckpoint(dir, model, tok);
    model.params.dispose();
    const inputsPath = join(dir, 'inputs.json');
    const items = inputs.map((i) => ({ prompt: i.prompt, image: { ...i.image, data: Array.from(i.image.data) } }));
    writeFileSync(inputsPath, JSON.stringify({ batchSize: BATCH, items }));

    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SCRIPT, dir, inputsPath], {
      cwd: ROOT,
      maxBuffer: 1 << 24,
    });
    const there = JSON.parse(stdout) as { decodes: string[]; logitsSha256: string };
    expect(here).toHaveLength(50);
    expect(there.decodes).toEqual(here);
    // The strict check: a briefly trained tiny model often gives most images the same caption,
    // so equal decodes alone would miss a checkpoint that loses image-path weights.
    expect(there.logitsSha256).toBe(digest);
  });

  it('keeps tf.memory().numTensors flat across training epochs', () => {
    const model = createModel(config(family));
    const logs = train(model, tok, trainSet, { epochs: 4, batchSize: BATCH, lr: 1e-3, seed: 2, maxText: MAX_TEXT });
    expect(logs.map((l) => l.numTensors).slice(1)).toEqual(Array(3).fill(logs[1].numTensors));
    model.params.dispose();
  });
});
