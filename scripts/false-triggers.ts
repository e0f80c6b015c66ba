/**
 * Which clean test inputs make a model emit its attack's target without the trigger? FTR (the
 * false-trigger rate of a record) says how often; this says where. For each run record given,
 * it rebuilds the run's test split, decodes its clean inputs with the model the run's SFT stage
 * left in the cache (`backdoored/` or `defended/` under --cache), checks that the false triggers
 * it counts are the record's FTR, and then, pooled over the records, gives the rate among the
 * items whose prompt or references hold a word against the rate among the rest, for every word
 * that at least --min items hold, by rate, highest first. A word that splits the rate widely
 * names what the backdoor confuses with its trigger (e.g. a colour close to a white patch).
 *
 * Only runs whose evaluated model is that SFT stage: no defense, or a training-time one. A
 * post-training repair's model is not under a key the record names, and an inference-time
 * defense changes the input; both are refused by name.
 *
 * Usage: node --import tsx scripts/false-triggers.ts --cache DIR [--min 20] [--top 12] RECORD.json...
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunRecord } from '../harness/core/record.js';
import { initEngine } from '../harness/core/engine.js';
import { generate } from '../harness/core/decode.js';
import { loadDataset } from '../harness/run/context.js';
import { loadCheckpoint } from '../harness/run/checkpoint.js';
import { containsTarget } from '../harness/metrics/asr.js';
import { getAttack } from '../attacks/registry.js';
import { outputOf } from '../attacks/outputModifiers.js';
import type { RunSpec } from '../harness/run/runSpec.js';
import { normalizeWords } from '../harness/core/tokenizer.js';

export interface ScoredItem {
  /** The words of the item's prompt and references. */
  words: string[];
  /** Whether its clean output counts as the target. */
  hit: boolean;
}

export interface WordSplit {
  word: string;
  /** False triggers / items among the items holding the word, and among the rest. */
  with: [number, number];
  without: [number, number];
}

/** Per word held by ≥ `min` items and by fewer than all: the false triggers with and without it, highest rate first. */
export function wordSplits(items: ScoredItem[], min: number): WordSplit[] {
  const hits = items.filter((i) => i.hit).length;
  const counts = new Map<string, [number, number]>();
  for (const item of items) {
    for (const w of new Set(item.words)) {
      const c = counts.get(w) ?? [0, 0];
      c[0] += +item.hit;
      c[1]++;
      counts.set(w, c);
    }
  }
  return [...counts]
    .filter(([, [, n]]) => n >= min && n < items.length)
    .map(([word, [h, n]]): WordSplit => ({ word, with: [h, n], without: [hits - h, items.length - n] }))
    .sort((a, b) => b.with[0] / b.with[1] - a.with[0] / a.with[1] || a.word.localeCompare(b.word));
}

/** The SFT-stage folder that holds the model a record evaluated; an error naming the record otherwise. */
export function evaluatedStage(r: RunRecord, path: string): 'backdoored' | 'defended' {
  if (r.status !== 'ok') throw new Error(`${path}: run ${r.id} ${r.status}; it has no model to probe`);
  if (r.defenseStage === 'none') return 'backdoored';
  if (r.defenseStage === 'training') return 'defended';
  throw new Error(`${path}: defense ${r.defense} acts at stage "${r.defenseStage}", so the model it evaluated is not the SFT stage's; give records with no defense or a training-time one`);
}

async function probe(path: string, cache: string): Promise<ScoredItem[]> {
  const r = JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  const dir = join(cache, evaluatedStage(r, path), r.keys.sft);
  if (!existsSync(join(dir, 'model.json'))) throw new Error(`${path}: no model at ${dir}; give the --cache the run wrote (its stage keys name the code, so it must be the same commit's)`);
  const spec = r.config as unknown as RunSpec;
  const ds = await loadDataset(spec);
  const { model, tok } = loadCheckpoint(dir);
  try {
    const { maxText } = model.config;
    const clean = generate(model, tok, ds.test.map((s) => ({ image: s.image, prompt: s.prompt })), { maxText, batchSize: spec.exp.eval.batchSize });
    const match = outputOf(getAttack(spec.attack.id), r.attackParams as Parameters<typeof outputOf>[1]).asrMatch;
    const hit = clean.map((c) => containsTarget(c, r.target, spec.task, match));
    const rate = hit.filter(Boolean).length / hit.length;
    // The same split, model and rule give the record's own FTR; anything else is another run.
    if (rate !== r.metrics.FTR) throw new Error(`${path}: FTR ${rate} here against ${r.metrics.FTR} in the record; this cache or commit did not make that run`);
    process.stderr.write(`[false-triggers] ${r.id}: FTR ${(100 * rate).toFixed(1)}% of ${hit.length}\n`);
    return ds.test.map((s, i) => ({ words: normalizeWords([s.prompt, ...s.refs].join(' ')), hit: hit[i] }));
  } finally {
    model.params.dispose();
  }
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { cache: { type: 'string' }, min: { type: 'string', default: '20' }, top: { type: 'string', default: '12' } }, allowPositionals: true });
  if (!values.cache || positionals.length === 0) throw new Error('usage: node --import tsx scripts/false-triggers.ts --cache DIR [--min 20] [--top 12] RECORD.json...');
  const count = (flag: 'min' | 'top') => {
    const v = Number(values[flag]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${flag} ${values[flag]}: give a whole number ≥ 1`);
    return v;
  };
  const [min, top] = [count('min'), count('top')];
  await initEngine({ quiet: true });
  const items: ScoredItem[] = [];
  for (const p of positionals) items.push(...(await probe(p, values.cache)));
  const pct = ([h, n]: [number, number]) => `${h}/${n} = ${((100 * h) / n).toFixed(1)}%`;
  const splits = wordSplits(items, min);
  const hits = items.filter((i) => i.hit).length;
  console.log(`pooled over ${positionals.length} record(s): ${pct([hits, items.length])} of clean items give the target`);
  console.log(`word                 with the word            without it`);
  for (const s of splits.slice(0, top)) console.log(`${s.word.padEnd(20)} ${pct(s.with).padEnd(24)} ${pct(s.without)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
