/**
 * Sharding a grid over machines: `--shard i/n` runs the i-th of n deterministic slices.
 * Shards are numbered from 0 (i = 0 … n−1), as Slurm numbers array tasks with `--array=0-3`,
 * so `--shard $SLURM_ARRAY_TASK_ID/4` works as is.
 *
 * A slice is a set of whole chains (runs sharing a pre-trained model, chainKey), so no stage is
 * trained on two machines; chains are balanced by their estimated cost (longest first, each to
 * the least-loaded shard), computed from the config alone, so every machine computes the same
 * slicing without talking to the others.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { chainKey, planStages, type StageKind } from './grid.js';
import { runId, type RunSpec } from '../run/runSpec.js';
import { writeFileAtomic } from '../core/atomicFile.js';

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const hint = 'expected i/n with 0 ≤ i < n, numbered from 0 like $SLURM_ARRAY_TASK_ID with --array=0-<n−1> (e.g. --shard 0/4 … --shard 3/4)';
  if (!m) throw new UserError(`--shard ${text}: ${hint}`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UserError(`--shard ${text}: the number of shards must be ≥ 1; ${hint}`);
  if (index >= count) {
    throw new UserError(`--shard ${text}: shard index ${index} is out of range; ${hint}${index === count ? ` (the last of ${count} is ${count - 1}/${count})` : ''}`);
  }
  return { index, count };
}

/**
 * Relative cost of one unit of each stage kind (see PlannedStage.units), from the default
 * profile's measured timings on wasm: a generated token costs about a tenth of a training
 * sample-epoch; a repair (5 epochs on 5% clean data, ×1–2 for NAD's teacher) about a third of a
 * pass over the training split. Only ratios matter here: they balance shards, they do not
 * predict time (that is `mbb estimate`).
 */
// A vision unit is one image-epoch of the tower alone: about a quarter of a sample-epoch of the
// whole model (one encoder layer against the LM's three, no text).
export const RELATIVE_UNIT_COST: Record<StageKind, number> = { vision: 0.25, pretrain: 1, sft: 1, repair: 0.3, eval: 0.1 };

/** Estimated relative cost of each chain of `runs`: the sum over the distinct stages it needs. */
export function chainCosts(runs: RunSpec[], stageOf: (defenseId: string) => string): Map<string, number> {
  const costs = new Map<string, number>();
  for (const r of runs) costs.set(chainKey(r), 0);
  for (const s of planStages(runs, stageOf)) costs.set(s.chain, costs.get(s.chain)! + s.units * RELATIVE_UNIT_COST[s.kind]);
  return costs;
}

/**
 * Longest-processing-time-first assignment of weighted items to `bins`: items by cost (desc,
 * then key, so ties do not depend on input order), each to the least-loaded bin (lowest index
 * on ties). Returns the bin of each key.
 */
export function balance(costs: Map<string, number>, bins: number): Map<string, number> {
  const load = new Array<number>(bins).fill(0);
  const out = new Map<string, number>();
  const items = [...costs].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [key, cost] of items) {
    let best = 0;
    for (let b = 1; b < bins; b++) if (load[b] < load[best]) best = b;
    out.set(key, best);
    load[best] += cost;
  }
  return out;
}

/** The runs of one shard, in grid order. */
export function shardRuns(runs: RunSpec[], shard: Shard, costs: Map<string, number>): RunSpec[] {
  const bin = balance(costs, shard.count);
  return runs.filter((r) => bin.get(chainKey(r)) === shard.index);
}

/**
 * What a shard's output directory holds besides its records: which slice of which experiment it
 * ran, so that `mbb merge` can check that the shards belong together and that none is missing.
 */
export interface ShardManifest {
  shard: Shard;
  experiment: string;
  experimentHash: string;
  codeVersion: string;
  /** Every run id of this shard, finished or not. */
  runs: string[];
  /** Runs in the whole grid. */
  gridRuns: number;
}

export const MANIFEST = 'shard.json';

export function writeShardManifest(outDir: string, m: ShardManifest): void {
  writeFileAtomic(join(outDir, MANIFEST), JSON.stringify(m, null, 1));
}

export function readShardManifest(outDir: string): ShardManifest | undefined {
  const p = join(outDir, MANIFEST);
  if (!existsSync(p)) return undefined;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ShardManifest;
  } catch (e) {
    throw new UserError(`${p}: unreadable shard manifest (${(e as Error).message}); re-run that shard to rewrite it`);
  }
}

/**
 * The runs of this slice, with its manifest written and what it got said before any work: a
 * warning in every slice when there are more slices than chains (some get nothing, which a
 * Slurm array would otherwise show only as tasks finishing at once), and one line either way.
 */
export function takeShard(
  outDir: string,
  all: RunSpec[],
  shard: Shard,
  about: Pick<ShardManifest, 'experiment' | 'experimentHash' | 'codeVersion'>,
  stageOf: (defenseId: string) => string,
  say: (line: string) => void,
): RunSpec[] {
  const { index, count } = shard;
  const chains = new Set(all.map(chainKey)).size;
  if (count > chains) {
    say(
      `[runner] warning: --shard ${index}/${count}: the grid has ${chains} chain(s) (runs sharing a pre-trained model) and a chain is never split, ` +
        `so ${count - chains} of the ${count} slices get no work; use at most ${chains} slices (--shard i/${chains})`,
    );
  }
  const mine = shardRuns(all, shard, chainCosts(all, stageOf));
  writeShardManifest(outDir, { shard, ...about, runs: mine.map(runId), gridRuns: all.length });
  // An empty slice is still a valid, mergeable output.
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  say(
    mine.length === 0
      ? `[runner] shard ${index}/${count} (numbered from 0): no work: all ${all.length} runs of the grid are in the other slices' chains`
      : `[runner] shard ${index}/${count} (numbered from 0): ${mine.length} of ${all.length} runs, ${new Set(mine.map(chainKey)).size} chain(s)`,
  );
  return mine;
}
