import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeShards, mergeSources } from './merge.js';
import type { RunRecord } from '../core/record.js';
import { writeShardManifest } from '../plan/shard.js';
import { writeFileAtomic } from '../core/atomicFile.js';
import { record as baseRecord } from '../../reports/records.testutil.js';
import { readInvocations } from '../../reports/invocations.js';

const dir = () => mkdtempSync(join(tmpdir(), 'mbb-merge-'));

/** A record as a shard writes it: the shared report-test record with the fields merge checks. */
function record(id: string, over: { status?: 'ok' | 'failed'; code?: string; exp?: string; asr?: number } = {}): RunRecord {
  const base = baseRecord({ id, status: over.status ?? 'ok', config: { exp: { name: 'paper' } } });
  return {
    ...base,
    metrics: over.status === 'failed' ? {} : { ASR: over.asr ?? 0.9, 'CIDEr-D': 1.5 },
    provenance: { ...base.provenance, sourceVersion: over.code ?? 'c0de', codeVersion: `c-${id}`, configHash: `h-${id}`, date: '2026-01-01', experimentHash: over.exp ?? 'e1' },
  };
}

function shard(index: number, count: number, recs: RunRecord[], listed = recs.map((r) => r.id)): string {
  const d = dir();
  for (const r of recs) writeFileAtomic(join(d, 'runs', `${r.id}.json`), JSON.stringify(r, null, 1));
  writeShardManifest(d, { shard: { index, count }, experiment: 'paper', experimentHash: 'e1', codeVersion: 'c0de', runs: listed, gridRuns: 4 });
  return d;
}

describe('merge sources without the shell', () => {
  /** Shards 0 and 1 of 2 under one parent (with an unrelated folder beside them). */
  function parentWithShards(): string {
    const parent = dir();
    for (const index of [0, 1]) {
      const d = join(parent, `paper-shard-${index}`);
      writeFileAtomic(join(d, 'runs', `r${index}.json`), JSON.stringify(record(`r${index}`), null, 1));
      writeShardManifest(d, { shard: { index, count: 2 }, experiment: 'paper', experimentHash: 'e1', codeVersion: 'c0de', runs: [`r${index}`], gridRuns: 2 });
    }
    writeFileAtomic(join(parent, 'default', 'runs', 'x.json'), '{}');
    return parent;
  }

  it('a parent folder means its sub-folders holding a shard manifest; a quoted pattern its matches', () => {
    const parent = parentWithShards();
    const shards = [join(parent, 'paper-shard-0'), join(parent, 'paper-shard-1')];
    expect(mergeSources([parent])).toEqual(shards);
    expect(mergeSources([join(parent, 'paper-shard-*')])).toEqual(shards);
    expect(mergeSources([join(parent, 'paper-shard-[01]')])).toEqual(shards);
    expect(mergeSources([join(parent, 'paper-shard-?')])).toEqual(shards);
    expect(mergeSources([shards[1]])).toEqual([shards[1]]); // a folder with runs/ is itself
    expect(() => mergeSources([join(parent, 'nope-*')])).toThrow(/nope-\* matches no directory/);
    expect(() => mergeSources([join(parent, '*', 'x')])).toThrow(/only the last path segment may hold a wildcard/);
    const res = mergeShards(dir(), [join(parent, 'paper-shard-*')]);
    expect(res).toMatchObject({ copied: 2, missing: [] });
  });
});

describe('mergeShards', () => {
  it('copies every shard’s records into one runs/ folder, skipping identical duplicates, idempotently', () => {
    const a = shard(0, 2, [record('r1'), record('r2')]);
    const b = shard(1, 2, [record('r3'), record('r2')], ['r3']); // r2 copied over by hand: identical
    const out = dir();
    const res = mergeShards(out, [a, b]);
    expect(res).toMatchObject({ copied: 3, duplicates: 1, superseded: 0, missing: [], experiment: 'paper' });
    expect(readdirSync(join(out, 'runs')).sort()).toEqual(['r1.json', 'r2.json', 'r3.json']);
    expect(JSON.parse(readFileSync(join(out, 'runs', 'r3.json'), 'utf8'))).toEqual(record('r3'));
    // Again: the output's own records count as duplicates, nothing is rewritten.
    expect(mergeShards(out, [a, b])).toMatchObject({ copied: 0, duplicates: 4 });
  });

  it('brings each record’s suspect rankings along, and no one else’s', () => {
    const a = shard(0, 1, [record('r1')]);
    writeFileAtomic(join(a, 'suspects', 'r1.pcr.invariance.csv'), 'rank,id\n1,x\n');
    writeFileAtomic(join(a, 'suspects', 'r10.pcr.invariance.csv'), 'rank,id\n'); // no record r10
    const out = dir();
    mergeShards(out, [a]);
    expect(readdirSync(join(out, 'suspects'))).toEqual(['r1.pcr.invariance.csv']);
    expect(readFileSync(join(out, 'suspects', 'r1.pcr.invariance.csv'), 'utf8')).toBe('rank,id\n1,x\n');
  });

  it('brings the slices’ invocation logs along: every distinct line once, oldest first, idempotently', () => {
    const line = (start: string, argv: string[]) =>
      JSON.stringify({ argv, start, end: start, wallSeconds: 60, cpu: 'x', cores: 2, node: 'v20', done: 1, failed: 0, skipped: 0 });
    const a = shard(0, 2, [record('r1')]);
    const b = shard(1, 2, [record('r2')]);
    writeFileSync(join(a, 'invocations.jsonl'), `${line('2026-01-02T00:00:00.000Z', ['run', '--shard', '0/2'])}\n`);
    writeFileSync(join(b, 'invocations.jsonl'), `${line('2026-01-01T00:00:00.000Z', ['run', '--shard', '1/2'])}\n`);
    const out = dir();
    mergeShards(out, [a, b]);
    const merged = readInvocations(out);
    expect(merged.map((i) => i.argv.join(' '))).toEqual(['run --shard 1/2', 'run --shard 0/2']);
    mergeShards(out, [a, b]);
    expect(readInvocations(out)).toHaveLength(2);
  });

  it('refuses shards of different source versions, naming the directories', () => {
    const a = shard(0, 2, [record('r1')]);
    const b = shard(1, 2, [record('r2', { code: 'beef' })]);
    expect(() => mergeShards(dir(), [a, b])).toThrow(new RegExp(`source version: c0de in ${a} \\(1 record\\); beef in ${b} \\(1 record\\)`));
  });

  it('refuses shards of different experiment configs', () => {
    const a = shard(0, 2, [record('r1')]);
    const b = shard(1, 2, [record('r2', { exp: 'e2' })]);
    expect(() => mergeShards(dir(), [a, b])).toThrow(/experiment config \(hash\): e1 in .*; e2 in .*same profile/);
  });

  it('refuses a merge with a shard or a run missing unless allowed', () => {
    const a = shard(0, 3, [record('r1')], ['r1', 'r9']);
    const c = shard(2, 3, [record('r3')]);
    expect(() => mergeShards(dir(), [a, c])).toThrow(/2 missing: shard 1\/3, r9; re-run those shards/);
    const res = mergeShards(dir(), [a, c], { allowMissing: true });
    expect(res.missing).toEqual(['shard 1/3', 'r9']);
    expect(res.copied).toBe(2);
  });

  it('keeps a successful record over a failed one, and refuses two different successful ones', () => {
    const a = shard(0, 2, [record('r1', { status: 'failed' })]);
    const b = shard(1, 2, [record('r1')]);
    const out = dir();
    expect(mergeShards(out, [a, b])).toMatchObject({ copied: 1, superseded: 1 });
    expect(JSON.parse(readFileSync(join(out, 'runs', 'r1.json'), 'utf8')).status).toBe('ok');
    const c = shard(0, 2, [record('r2', { asr: 0.1 })]);
    const d = shard(1, 2, [record('r2', { asr: 0.2 })]);
    expect(() => mergeShards(dir(), [c, d])).toThrow(/run r2 has two different successful records/);
  });

  it('names a directory without records', () => {
    const empty = dir();
    expect(() => mergeShards(dir(), [empty])).toThrow(new RegExp(`${empty} has no runs/ folder`));
  });
});

describe('mbb run --shard + mbb merge (end to end)', () => {
  const MBB = resolve(__dirname, '../../scripts/mbb.mjs');
  const mbb = (...args: string[]) => spawnSync(process.execPath, [MBB, ...args], { encoding: 'utf8' });

  it('two slices of a tiny grid merge into the whole grid and its report', () => {
    const d = dir();
    const cfg = join(d, 'tiny.json');
    // Two chains (seeds), so each slice gets one; jitter reuses none's backdoored model.
    writeFileSync(
      cfg,
      JSON.stringify({
        name: 'tiny',
        tasks: ['caption'],
        seeds: [1, 2],
        attacks: [{ id: 'badnets' }],
        defenses: [{ id: 'none' }, { id: 'jitter' }],
        data: { nTrain: 80, nVal: 10, nTest: 20 },
        model: { patch: 8, merge: 1, width: 32, heads: 2, encoderLayers: 1, decoderLayers: 1 },
        pretrain: { epochs: 1 },
        sft: { epochs: 1 },
      }),
    );
    const bad = mbb('run', '--profile', 'smoke', '--config', cfg, '--shard', '2/2');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^mbb: --shard 2\/2: shard index 2 is out of range; .*the last of 2 is 1\/2\)$/);
    const cache = join(d, 'cache');
    const shardDirs = [0, 1].map((i) => join(d, `shard-${i}`));
    for (const [i, out] of shardDirs.entries()) {
      const r = mbb('run', '--profile', 'smoke', '--config', cfg, '--shard', `${i}/2`, '--out', out, '--cache', cache, '--workers', '1', '--backend', 'wasm');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain(`[runner] shard ${i}/2 (numbered from 0): 2 of 4 runs, 1 chain(s)`);
    }
    const ids = shardDirs.map((s) => readdirSync(join(s, 'runs')).sort());
    expect(ids[0].some((f) => ids[1].includes(f))).toBe(false);
    const merged = join(d, 'merged');
    expect(mbb('merge', '--out', merged, shardDirs[0]).stderr).toMatch(/1 missing: shard 1\/2/);
    const m = mbb('merge', '--out', merged, ...shardDirs);
    expect(m.status, m.stderr).toBe(0);
    expect(m.stderr).toContain('[merge] 4 record(s) copied');
    expect(readdirSync(join(merged, 'runs')).sort()).toEqual([...ids[0], ...ids[1]].sort());
    expect(existsSync(join(merged, 'report.html'))).toBe(true);
    expect(readFileSync(join(merged, 'table-caption.csv'), 'utf8')).toMatch(/badnets/);
  }, 90_000);
});
