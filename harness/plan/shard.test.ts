import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentSchema, parseWith } from '../config/schema.js';
import { chainKey, expandGrid } from './grid.js';
import { runId } from '../run/runSpec.js';
import { balance, chainCosts, parseShard, readShardManifest, shardRuns, takeShard } from './shard.js';

const stageOf = (id: string) => ({ none: 'none', pcr: 'training', ft: 'post' })[id]!;
const grid = () =>
  expandGrid(
    parseWith(
      experimentSchema,
      {
        tasks: ['caption', 'vqa'],
        models: ['llava', 'blip2', 'flamingo'],
        seeds: [1, 2, 3],
        attacks: [{ id: 'badnets' }, { id: 'sig' }],
        defenses: [{ id: 'none' }, { id: 'pcr' }, { id: 'ft' }],
        perTask: { vqa: { data: { nTrain: 6000, questionsPerImage: 1 }, pretrain: { epochs: 10 }, sft: { epochs: 4 } } },
      },
      'test',
    ),
  );

describe('--shard i/n', () => {
  it('parses 0-based indices', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
  });

  it('refuses malformed or out-of-range shards with the numbering explained', () => {
    expect(() => parseShard('4/4')).toThrow(/--shard 4\/4: shard index 4 is out of range; expected i\/n with 0 ≤ i < n.*the last of 4 is 3\/4/);
    expect(() => parseShard('1/0')).toThrow(/number of shards must be ≥ 1/);
    expect(() => parseShard('2')).toThrow(/--shard 2: expected i\/n/);
    expect(() => parseShard('-1/4')).toThrow(/expected i\/n/);
  });
});

describe('shardRuns', () => {
  const runs = grid();
  const costs = chainCosts(runs, stageOf);

  it('splits the grid into disjoint slices that cover it, whole chains per shard', () => {
    const n = 4;
    const slices = Array.from({ length: n }, (_, i) => shardRuns(runs, { index: i, count: n }, costs));
    expect(slices.flat().map(runId).sort()).toEqual(runs.map(runId).sort());
    const owner = new Map<string, number>();
    slices.forEach((slice, i) =>
      slice.forEach((r) => {
        expect(owner.get(chainKey(r)) ?? i).toBe(i);
        owner.set(chainKey(r), i);
      }),
    );
  });

  it('balances the slices by estimated cost', () => {
    const n = 4;
    const load = Array.from({ length: n }, (_, i) =>
      [...new Set(shardRuns(runs, { index: i, count: n }, costs).map(chainKey))].reduce((a, k) => a + costs.get(k)!, 0),
    );
    const total = [...costs.values()].reduce((a, b) => a + b, 0);
    // 18 chains of two sizes (VQA's are costlier): LPT keeps every shard within one chain of the mean.
    const biggest = Math.max(...costs.values());
    for (const l of load) expect(Math.abs(l - total / n)).toBeLessThanOrEqual(biggest);
    // VQA chains cost more than caption chains here (6000 samples vs 3000): the cost model sees it.
    expect(costs.get('vqa/llava/1')!).toBeGreaterThan(costs.get('caption/llava/1')!);
  });

  it('is deterministic: the same config gives the same slices, whatever the order of the runs', () => {
    const a = shardRuns(runs, { index: 1, count: 3 }, costs).map(runId);
    const shuffled = [...runs].reverse();
    const b = shardRuns(shuffled, { index: 1, count: 3 }, chainCosts(shuffled, stageOf)).map(runId);
    expect(new Set(b)).toEqual(new Set(a));
    expect(shardRuns(grid(), { index: 1, count: 3 }, chainCosts(grid(), stageOf)).map(runId)).toEqual(a);
  });

  it('leaves a shard empty when there are more shards than chains', () => {
    const small = runs.filter((r) => r.seed === 1 && r.task === 'caption' && r.model === 'llava');
    const c = chainCosts(small, stageOf);
    expect(shardRuns(small, { index: 0, count: 2 }, c)).toHaveLength(small.length);
    expect(shardRuns(small, { index: 1, count: 2 }, c)).toEqual([]);
  });
});

describe('takeShard', () => {
  // 2 chains (caption/llava, seeds 1 and 2) of 3 runs each, cut into 3 slices.
  const small = grid().filter((r) => r.task === 'caption' && r.model === 'llava' && r.seed <= 2 && r.attack.id === 'badnets');
  const take = (index: number) => {
    const lines: string[] = [];
    const out = mkdtempSync(join(tmpdir(), 'mbb-shard-'));
    const mine = takeShard(out, small, { index, count: 3 }, { experiment: 'e', experimentHash: 'h', codeVersion: 'c' }, stageOf, (l) => lines.push(l));
    return { lines, mine, out };
  };

  it('warns every slice, before any work, when there are more slices than chains', () => {
    for (const i of [0, 2]) {
      expect(take(i).lines[0]).toBe(
        `[runner] warning: --shard ${i}/3: the grid has 2 chain(s) (runs sharing a pre-trained model) and a chain is never split, so 1 of the 3 slices get no work; use at most 2 slices (--shard i/2)`,
      );
    }
  });

  it('says in one line that a slice got no work, and still leaves a mergeable output', () => {
    const empty = [0, 1, 2].map(take).find((t) => t.mine.length === 0)!;
    expect(empty.lines).toHaveLength(2);
    expect(empty.lines[1]).toMatch(/^\[runner\] shard \d\/3 \(numbered from 0\): no work: all 6 runs of the grid are in the other slices' chains$/);
    expect(readShardManifest(empty.out)).toMatchObject({ shard: { count: 3 }, runs: [], gridRuns: 6 });
    expect(existsSync(join(empty.out, 'runs'))).toBe(true);
  });

  it('says nothing more than its share when every slice has work', () => {
    const lines: string[] = [];
    takeShard(mkdtempSync(join(tmpdir(), 'mbb-shard-')), small, { index: 1, count: 2 }, { experiment: 'e', experimentHash: 'h', codeVersion: 'c' }, stageOf, (l) => lines.push(l));
    expect(lines).toEqual(['[runner] shard 1/2 (numbered from 0): 3 of 6 runs, 1 chain(s)']);
  });
});

describe('balance', () => {
  it('puts the costliest first on the least-loaded bin, ties by key', () => {
    const bins = balance(new Map([['a', 5], ['b', 4], ['c', 3], ['d', 3], ['e', 1]]), 2);
    expect(Object.fromEntries(bins)).toEqual({ a: 0, b: 1, c: 1, d: 0, e: 1 });
  });
});
