/**
 * Test helper for harness/run/checkpointProcess.test.ts: loads a checkpoint in a fresh process and
 * greedy-decodes the inputs of a JSON file, printing one JSON object on stdout:
 * { decodes: string[], logitsSha256: string } (the digest of the teacher-forced logits on the
 * prompts, so a mismatch is caught even where greedy decoding hides it).
 * Usage: node --import tsx scripts/decode-checkpoint.ts CHECKPOINT_DIR INPUTS.json
 * INPUTS.json: { batchSize, items: [{ prompt, image: { height, width, data: number[] } }] }.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeText, imagesToTensor, textBatch } from '../harness/core/batch.js';
import { loadCheckpoint } from '../harness/run/checkpoint.js';
import type { RgbImage } from '../harness/core/types.js';
import { generate } from '../harness/core/decode.js';
import { initEngine, tf } from '../harness/core/engine.js';

const [dir, inputsPath] = process.argv.slice(2);
if (!dir || !inputsPath) throw new Error('usage: decode-checkpoint.ts CHECKPOINT_DIR INPUTS.json');
await initEngine({ backend: 'wasm', quiet: true });
const spec = JSON.parse(readFileSync(inputsPath, 'utf8')) as {
  batchSize: number;
  items: { prompt: string; image: { height: number; width: number; data: number[] } }[];
};
const inputs = spec.items.map((it) => ({ prompt: it.prompt, image: { ...it.image, data: Uint8Array.from(it.image.data) } as RgbImage }));
const { model, tok } = loadCheckpoint(dir);
const maxText = model.config.maxText;
const decodes = generate(model, tok, inputs, { maxText, batchSize: spec.batchSize });
const logits = tf.tidy(() => {
  const text = textBatch(inputs.map((i) => encodeText(tok, i.prompt, '', maxText)));
  return model.forward(imagesToTensor(inputs.map((i) => i.image)), text.tokens);
});
const values = logits.dataSync();
const logitsSha256 = createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');
process.stdout.write(JSON.stringify({ decodes, logitsSha256 }));
