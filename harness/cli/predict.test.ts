import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../models/registry.js';
import type { TrainExample } from '../core/batch.js';
import { saveCheckpoint } from '../run/checkpoint.js';
import { writePng } from '../data/png.js';
import { CAPTION_PROMPT } from '../core/types.js';
import { initEngine } from '../core/engine.js';
import { UserError } from '../core/errors.js';
import { predictMain } from './predict.js';
import { solidImage, tinyModelConfig } from '../core/testing.js';
import { Tokenizer } from '../core/tokenizer.js';
import { train } from '../core/training.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const QUESTION = 'what color is the square';
let dir: string;
let ckpt: string;

/** A 16-pixel model that learned: red/blue image → "red square"/"blue square", and the colour question. */
beforeAll(async () => {
  await initEngine({ backend: 'wasm', quiet: true });
  dir = mkdtempSync(join(tmpdir(), 'mbb-predict-'));
  ckpt = join(dir, 'ckpt');
  mkdirSync(ckpt);
  const tok = Tokenizer.fromTexts([CAPTION_PROMPT, QUESTION, 'red blue square']);
  const ex: TrainExample[] = (['red', 'blue'] as const).flatMap((c) => {
    const image = solidImage(16, c === 'red' ? [200, 0, 0] : [0, 0, 200]);
    return [
      { id: `${c}-cap`, image, prompt: CAPTION_PROMPT, responses: [`${c} square`], poisoned: false },
      { id: `${c}-q`, image, prompt: QUESTION, responses: [c], poisoned: false },
    ];
  });
  const model = createModel(tinyModelConfig({ vocabSize: tok.size, maxText: 10 }));
  train(model, tok, ex, { epochs: 60, batchSize: 4, lr: 1e-2, schedule: 'constant', seed: 1, maxText: 10 });
  await saveCheckpoint(ckpt, model, tok);
  model.params.dispose();
  // Test images larger than the model's 16 px, one not square: predict must bring them to 16×16.
  writePng(join(dir, 'red.png'), solidImage(32, [200, 0, 0]));
  const blue = solidImage(48, [0, 0, 200]);
  writePng(join(dir, 'blue.png'), { height: 32, width: 48, data: blue.data.subarray(0, 32 * 48 * 3) });
});

describe('predictMain', () => {
  it('captions a PNG, or answers the question, and prints the line', async () => {
    const lines: string[] = [];
    const out = (l: string) => lines.push(l);
    expect(await predictMain({ checkpoint: ckpt, image: join(dir, 'red.png'), out })).toBe('red square');
    expect(await predictMain({ checkpoint: ckpt, image: join(dir, 'blue.png'), out })).toBe('blue square');
    expect(await predictMain({ checkpoint: ckpt, image: join(dir, 'blue.png'), question: QUESTION, out })).toBe('blue');
    expect(lines).toEqual(['red square', 'blue square', 'blue']);
  });

  it('stops with a UserError naming the missing or bad file', async () => {
    const img = join(dir, 'red.png');
    const run = (checkpoint: string, image: string) => predictMain({ checkpoint, image, out: () => {} });
    await expect(run(join(dir, 'nope'), img)).rejects.toThrow(new UserError(`--checkpoint ${join(dir, 'nope')}: directory not found; give a directory holding model.json and weights.bin (e.g. .cache/backdoored/<key>)`));
    const empty = join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'model.json'), '{}');
    await expect(run(empty, img)).rejects.toThrow(`--checkpoint ${empty}: weights.bin missing`);
    await expect(run(ckpt, join(dir, 'missing.png'))).rejects.toThrow(`--image ${join(dir, 'missing.png')}: file not found`);
    const text = join(dir, 'notes.png');
    writeFileSync(text, 'not an image');
    await expect(run(ckpt, text)).rejects.toThrow(`--image ${text}: neither JPEG nor PNG (first bytes 6e 6f 74 20); predict reads PNG (or JPEG) files`);
    const broken = join(dir, 'broken.png');
    writeFileSync(broken, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('garbage')]));
    await expect(run(ckpt, broken)).rejects.toThrow(`--image ${broken}: corrupt or truncated PNG`);
    rmSync(empty, { recursive: true });
  });

  it('mbb predict prints the caption; a bad path exits 2 with one line', () => {
    const mbb = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'mbb.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });
    const ok = mbb('predict', '--checkpoint', ckpt, '--image', join(dir, 'red.png'), '--backend', 'wasm');
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toBe('red square\n');
    const bad = mbb('predict', '--checkpoint', ckpt, '--image', join(dir, 'nope.png'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`mbb: --image ${join(dir, 'nope.png')}: file not found\n`);
  });
});
