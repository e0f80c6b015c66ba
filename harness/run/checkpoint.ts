/**
 * Model checkpoints in the TF.js weights format: model.json (model config, tokenizer and a
 * weightsManifest as tf.io writes it) beside one weights.bin. Loads in a fresh process.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../core/engine.js';
import { UserError } from '../core/errors.js';
import { Tokenizer } from '../core/tokenizer.js';
import { createModel } from '../../models/registry.js';
import type { ModelConfig, MultimodalModel } from '../../models/types.js';
import { isVisionWeight } from '../../models/layers.js';

interface ModelJson {
  format: 'mbb-checkpoint';
  generatedBy: string;
  modelConfig: ModelConfig;
  tokenizer: { words: string[] };
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

export async function saveCheckpoint(dir: string, model: MultimodalModel, tok: Tokenizer): Promise<void> {
  const named: tf.NamedTensorMap = {};
  for (const [name, v] of model.params.vars) named[name] = v;
  const { data, specs } = await tf.io.encodeWeights(named);
  const json: ModelJson = {
    format: 'mbb-checkpoint',
    generatedBy: `TensorFlow.js ${tf.version.tfjs}`,
    modelConfig: model.config,
    tokenizer: tok.toJSON(),
    weightsManifest: [{ paths: ['weights.bin'], weights: specs }],
  };
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(data as ArrayBuffer));
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
}

export function loadCheckpoint(dir: string): { model: MultimodalModel; tok: Tokenizer } {
  const path = join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: cannot read checkpoint (${(e as Error).message}); point to a directory written by mbb`);
  }
  if (json.format !== 'mbb-checkpoint') throw new UserError(`${path}: not an mbb checkpoint (format ${json.format})`);
  const buf = readFileSync(join(dir, json.weightsManifest[0].paths[0]));
  const model = createModel(json.modelConfig);
  const weights = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), json.weightsManifest[0].weights);
  copyWeights(model, weights, path);
  tf.dispose(Object.values(weights));
  return { model, tok: new Tokenizer(json.tokenizer.words) };
}

/** Assign named tensors to a model's variables; every variable must be covered. */
export function copyWeights(model: MultimodalModel, weights: tf.NamedTensorMap, source: string): void {
  for (const [name, v] of model.params.vars) {
    const w = weights[name];
    if (!w) throw new UserError(`${source}: weight ${name} missing; the checkpoint does not match this model config`);
    if (w.shape.join('x') !== v.shape.join('x')) {
      throw new UserError(`${source}: weight ${name} has shape ${w.shape}, model expects ${v.shape}`);
    }
    v.assign(w);
  }
}

/** Puts a pre-trained tower into a model of any family; every `vit/` weight must be covered. */
export function loadVisionTower(model: MultimodalModel, weights: tf.NamedTensorMap, source: string): void {
  for (const [name, v] of model.params.vars) {
    if (!isVisionWeight(name)) continue;
    const w = weights[name];
    if (!w) throw new Error(`${source}: vision weight ${name} missing; the tower was pre-trained with other model sizes`);
    if (w.shape.join('x') !== v.shape.join('x')) throw new Error(`${source}: vision weight ${name} has shape ${w.shape}, the model expects ${v.shape}`);
    v.assign(w);
  }
}

/** Named tensors alone (a vision tower), as `<name>.bin` with its manifest `<name>.json`. */
export async function saveWeights(dir: string, weights: tf.NamedTensorMap, name = 'weights'): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(weights);
  writeFileSync(join(dir, `${name}.bin`), new Uint8Array(data as ArrayBuffer));
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(specs));
}

export function loadWeights(dir: string, name = 'weights'): tf.NamedTensorMap {
  const specs = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as tf.io.WeightsManifestEntry[];
  const buf = readFileSync(join(dir, `${name}.bin`));
  return tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength), specs);
}
