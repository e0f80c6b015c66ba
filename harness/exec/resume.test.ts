/**
 * Resume after kill -9: a grid killed (runner and workers at once) after its first record and
 * before its end leaves only complete records and intact stages; running it again finishes the
 * grid without recomputing any finished run, reuses the stages already cached, and recomputes
 * (with a warning) a stage whose files were damaged in between.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../core/record.js';
import { checkEntry, type DoneMarker } from '../run/store.js';

const MBB = resolve(__dirname, '../../scripts/mbb.mjs');

// 2 seeds (two chains, one per worker) × 4 defenses: none, two with their own SFT, and jitter,
// last in each chain, which reuses none's backdoored model. 8 runs of ~1 s each on a tiny
// model, so the kill (at the first record, always a chain's `none`) lands with runs to do.
// Layered over the smoke profile: the default one pre-trains a vision tower first (minutes).
const CONFIG = `name: resume
tasks: [caption]
seeds: [1, 2]
attacks:
  - id: badnets
defenses:
  - id: none
  - id: pcr
  - id: aug
  - id: jitter
data: { nTrain: 160, nVal: 20, nTest: 40 }
model: { patch: 8, merge: 1, width: 32, heads: 2, encoderLayers: 1, decoderLayers: 1 }
pretrain: { epochs: 2 }
sft: { epochs: 3 }
eval: { batchSize: 40 }
`;
const TOTAL = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function records(out: string): string[] {
  const dir = join(out, 'runs');
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
}

/** Is any process of the group still alive? (signal 0 only checks.) */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function mbb(args: string[], detached: boolean) {
  const child = spawn(process.execPath, [MBB, ...args], { detached, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, exited, output: () => output };
}

describe('resume after kill -9', () => {
  it('keeps finished runs and intact stages, and recomputes nothing finished', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbb-resume-'));
    const cfg = join(dir, 'tiny.yaml');
    writeFileSync(cfg, CONFIG);
    const out = join(dir, 'out');
    const cache = join(dir, 'cache');
    const args = ['run', '--profile', 'smoke', '--config', cfg, '--out', out, '--cache', cache, '--workers', '2', '--backend', 'wasm'];

    // 1. Start the grid in its own process group, SIGKILL the whole group at the first record.
    const first = mbb(args, true);
    const t0 = Date.now();
    while (records(out).length === 0) {
      if (Date.now() - t0 > 60_000) throw new Error(`no record after 60 s:\n${first.output()}`);
      if (first.child.exitCode !== null) throw new Error(`the runner ended before the kill:\n${first.output()}`);
      await sleep(20);
    }
    process.kill(-first.child.pid!, 'SIGKILL');
    await first.exited;
    while (groupAlive(first.child.pid!)) await sleep(20);

    // 2. What a reader sees now: complete records only, every stage entry intact.
    const kept = records(out);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length, 'the grid finished before the kill: the test proves nothing; make the config heavier').toBeLessThan(TOTAL);
    const before = new Map<string, { text: string; mtimeMs: number }>();
    for (const f of kept) {
      const p = join(out, 'runs', f);
      const text = readFileSync(p, 'utf8');
      expect((JSON.parse(text) as RunRecord).status).toBe('ok');
      before.set(f, { text, mtimeMs: statSync(p).mtimeMs });
    }
    let entries = 0;
    for (const stage of readdirSync(cache)) {
      for (const key of readdirSync(join(cache, stage))) {
        if (key.includes('.tmp-')) continue; // a killed writer's temp dir: never read
        entries++;
        expect(checkEntry(join(cache, stage, key)), `${stage}/${key}`).toBeUndefined();
      }
    }
    expect(entries).toBeGreaterThanOrEqual(2); // at least the first run's pretrain and SFT

    // Damage the backdoored model of every finished `none` run: jitter must not load it.
    const damaged = [...before.values()]
      .map((b) => JSON.parse(b.text) as RunRecord)
      .filter((r) => r.defense === 'none')
      .map((r) => ({ seed: r.seed, key: r.keys.sft, dir: join(cache, 'backdoored', r.keys.sft) }));
    expect(damaged.length).toBeGreaterThanOrEqual(1);
    for (const d of damaged) {
      const marker = JSON.parse(readFileSync(join(d.dir, 'DONE'), 'utf8')) as DoneMarker;
      appendFileSync(join(d.dir, Object.keys(marker.files)[0]), ' ');
    }

    // 3. Run again: the rest of the grid, and only the rest.
    const second = mbb(args, false);
    expect(await second.exited, second.output()).toBe(0);
    const log = second.output();
    expect(log).toContain(`[runner] ${TOTAL} runs, ${kept.length} already done, ${TOTAL - kept.length} to do`);
    expect(log.match(/: done$/gm) ?? []).toHaveLength(TOTAL - kept.length);
    const all = records(out);
    expect(all).toHaveLength(TOTAL);
    for (const f of all) expect((JSON.parse(readFileSync(join(out, 'runs', f), 'utf8')) as RunRecord).status).toBe('ok');
    for (const [f, b] of before) {
      const p = join(out, 'runs', f);
      expect(readFileSync(p, 'utf8')).toBe(b.text);
      expect(statSync(p).mtimeMs).toBe(b.mtimeMs);
    }
    // The chains that had finished a run resume from their cached pre-training.
    const read = (f: string) => JSON.parse(readFileSync(join(out, 'runs', f), 'utf8')) as RunRecord;
    const firstChains = new Set([...before.keys()].map((f) => f.split('__').pop()));
    for (const f of all.filter((x) => !before.has(x) && firstChains.has(x.split('__').pop()))) {
      expect(read(f).cached.pretrain, f).toBe(true);
    }
    // The damaged stages were reported, recomputed by jitter's run, and are intact again.
    for (const d of damaged) {
      expect(log).toMatch(new RegExp(`\\[store\\] warning: .*${d.key}: files do not match the DONE marker.*recomputing`));
      const jitter = read(`caption__llava__badnets__jitter__s${d.seed}.json`);
      expect(jitter.keys.sft).toBe(d.key);
      expect(jitter.cached).toMatchObject({ pretrain: true, sft: false });
      expect(checkEntry(d.dir)).toBeUndefined();
    }
  }, 90_000);
});
