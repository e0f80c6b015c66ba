import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../core/atomicFile.js';
import { checkEntry, hashFiles, Store, type DoneMarker } from './store.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'mbb-store-'));

async function putTwoFiles(store: Store): Promise<string> {
  return store.put('pretrain', 'k1', (dir) => {
    writeFileSync(join(dir, 'weights.bin'), Buffer.from([1, 2, 3, 4]));
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'stage.json'), '{"log":[]}');
  });
}

describe('Store', () => {
  it('writes a DONE marker holding the sha256 of every file of the entry', async () => {
    const store = new Store(fresh());
    const dir = await putTwoFiles(store);
    const marker = JSON.parse(readFileSync(join(dir, 'DONE'), 'utf8')) as DoneMarker;
    expect(Object.keys(marker.files)).toEqual(['sub/stage.json', 'weights.bin']);
    // sha256 of the bytes 01 02 03 04
    expect(marker.files['weights.bin']).toBe('9f64a747e1b97f131fabb6b447296c9b6f0201e79fb3c5356e6c77e89b6a806a');
    expect(new Store(store.root).has('pretrain', 'k1')).toBe(true);
    // Nothing but the entry is left in the stage folder (the temp dir was renamed).
    expect(readdirSync(join(store.root, 'pretrain'))).toEqual(['k1']);
  });

  it('treats an entry whose files changed as absent, with a warning naming the file, and rewrites it', async () => {
    const root = fresh();
    const dir = await putTwoFiles(new Store(root));
    appendFileSync(join(dir, 'weights.bin'), Buffer.from([0]));
    const warnings: string[] = [];
    const store = new Store(root, (m) => warnings.push(m));
    expect(store.has('pretrain', 'k1')).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/weights\.bin \(checksum differs\).*recomputing/);
    await putTwoFiles(store);
    expect(new Store(root, (m) => warnings.push(m)).has('pretrain', 'k1')).toBe(true);
    expect(warnings).toHaveLength(1);
  });

  it('treats an entry with a missing file as absent', async () => {
    const root = fresh();
    const dir = await putTwoFiles(new Store(root));
    rmSync(join(dir, 'sub', 'stage.json'));
    expect(checkEntry(dir)).toMatch(/sub\/stage\.json \(missing\)/);
    expect(new Store(root, () => {}).has('pretrain', 'k1')).toBe(false);
  });

  it('treats a directory without a marker (a killed writer) as absent, silently', () => {
    const root = fresh();
    mkdirSync(join(root, 'pretrain', 'k2'), { recursive: true });
    writeFileSync(join(root, 'pretrain', 'k2', 'weights.bin'), 'partial');
    const warnings: string[] = [];
    expect(new Store(root, (m) => warnings.push(m)).has('pretrain', 'k2')).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('treats a DONE marker that is not valid JSON as damaged: warns and recomputes', async () => {
    const root = fresh();
    const store = new Store(root);
    await store.put('sft', 'k', (dir) => writeFileSync(join(dir, 'weights.bin'), 'good'));
    // The marker torn and the weights overwritten with random bytes: nothing vouches for them.
    writeFileSync(join(root, 'sft', 'k', 'DONE'), '{"date":"2026-11-25T04:51:41.098Z","fi');
    writeFileSync(join(root, 'sft', 'k', 'weights.bin'), Buffer.from([0x8f, 0x01, 0xfe, 0x33]));
    const warnings: string[] = [];
    expect(new Store(root, (m) => warnings.push(m)).has('sft', 'k')).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/sft.k: DONE marker is not valid JSON .*recomputing it/);
    // So is a pre-checksum marker (a plain date): it cannot vouch for the files either.
    writeFileSync(join(root, 'sft', 'k', 'DONE'), '2026-11-25T04:51:41.098Z');
    expect(new Store(root, () => {}).has('sft', 'k')).toBe(false);
    // Recomputing replaces the damaged entry with an intact one.
    await new Store(root).put('sft', 'k', (dir) => writeFileSync(join(dir, 'weights.bin'), 'good'));
    expect(new Store(root, () => {}).has('sft', 'k')).toBe(true);
  });

  it('leaves no entry and no temp dir when filling fails', async () => {
    const store = new Store(fresh());
    await expect(
      store.put('sft', 'k', (dir) => {
        writeFileSync(join(dir, 'a'), 'x');
        throw new Error('training diverged');
      }),
    ).rejects.toThrow(/diverged/);
    expect(readdirSync(join(store.root, 'sft'))).toEqual([]);
    expect(store.has('sft', 'k')).toBe(false);
  });

  it('hashFiles skips the marker and sorts paths', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'b'), 'b');
    writeFileSync(join(dir, 'a'), 'a');
    writeFileSync(join(dir, 'DONE'), 'x');
    expect(Object.keys(hashFiles(dir))).toEqual(['a', 'b']);
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file beside it', () => {
    const dir = fresh();
    const p = join(dir, 'runs', 'r.json');
    writeFileAtomic(p, '{"a":1}');
    writeFileAtomic(p, new TextEncoder().encode('{"a":2}'));
    expect(readFileSync(p, 'utf8')).toBe('{"a":2}');
    expect(readdirSync(join(dir, 'runs'))).toEqual(['r.json']);
    expect(existsSync(`${p}.tmp-${process.pid}`)).toBe(false);
  });
});
