/**
 * Content-addressed, on-disk cache of stage outputs. A key is the hash of a stage's resolved
 * inputs (config, upstream keys, code version); an entry is a directory written under a
 * temporary name and renamed into place, so a killed run never leaves a half-written entry.
 * Its DONE marker, written last, holds the sha256 of every file of the entry: an entry whose
 * files no longer match (a disk fault, a torn write after a power loss, a hand edit) is
 * reported and treated as absent, so it is recomputed instead of silently loaded.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The marker of a complete entry: when it was written and the sha256 of each of its files. */
export interface DoneMarker {
  date: string;
  files: Record<string, string>;
}

/** Every file under `dir` except the marker, as relative path → sha256, sorted by path. */
export function hashFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (sub: string) => {
    for (const name of readdirSync(join(dir, sub)).sort()) {
      const rel = sub ? `${sub}/${name}` : name;
      if (statSync(join(dir, rel)).isDirectory()) walk(rel);
      else if (rel !== 'DONE') out[rel] = createHash('sha256').update(readFileSync(join(dir, rel))).digest('hex');
    }
  };
  walk('');
  return out;
}

/**
 * Why an entry cannot be used, or undefined when it can. 'absent' = no marker (never written, or
 * a leftover of a killed writer). A marker that is not the JSON this store writes (damaged, or
 * from a version before checksums) cannot vouch for the files: the entry is damaged.
 */
export function checkEntry(dir: string): undefined | 'absent' | string {
  const markerPath = join(dir, 'DONE');
  if (!existsSync(markerPath)) return 'absent';
  let marker: Partial<DoneMarker>;
  try {
    marker = JSON.parse(readFileSync(markerPath, 'utf8')) as Partial<DoneMarker>;
  } catch {
    return 'DONE marker is not valid JSON (damaged, or written before markers held checksums)';
  }
  if (!marker || typeof marker !== 'object' || typeof marker.files !== 'object') return 'DONE marker without a file list';
  let actual: Record<string, string>;
  try {
    actual = hashFiles(dir);
  } catch (e) {
    return `unreadable (${(e as Error).message})`;
  }
  const bad = Object.entries(marker.files!).filter(([f, sha]) => actual[f] !== sha).map(([f]) => (f in actual ? `${f} (checksum differs)` : `${f} (missing)`));
  return bad.length ? `files do not match the DONE marker: ${bad.join(', ')}` : undefined;
}

export class Store {
  /** Entries verified by this process: checked once, not re-hashed at every lookup. */
  private readonly verified = new Set<string>();

  constructor(
    readonly root: string,
    private readonly warn: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  ) {}

  dir(stage: string, key: string): string {
    return join(this.root, stage, key);
  }

  /**
   * Present, complete and intact: the marker is written last, inside the renamed directory, and
   * the files' checksums match it. A damaged entry is reported and counts as absent.
   */
  has(stage: string, key: string): boolean {
    const dir = this.dir(stage, key);
    if (this.verified.has(dir)) return true;
    const problem = checkEntry(dir);
    if (problem === 'absent') return false;
    if (problem !== undefined) {
      this.warn(`[store] warning: ${dir}: ${problem}; treating the ${stage} stage as absent and recomputing it`);
      return false;
    }
    this.verified.add(dir);
    return true;
  }

  /** Write an entry atomically: fill a temp dir, mark it done with checksums, rename it into place. */
  async put(stage: string, key: string, fill: (tmpDir: string) => void | Promise<void>): Promise<string> {
    const final = this.dir(stage, key);
    const tmp = `${final}.tmp-${process.pid}-${Date.now()}`;
    mkdirSync(tmp, { recursive: true });
    try {
      await fill(tmp);
      const marker: DoneMarker = { date: new Date().toISOString(), files: hashFiles(tmp) };
      writeFileSync(join(tmp, 'DONE'), JSON.stringify(marker, null, 1));
      rmSync(final, { recursive: true, force: true });
      try {
        renameSync(tmp, final);
      } catch (e) {
        // Another process (a shard sharing this cache) put the same entry between our rm and
        // rename: equal keys mean equal content, so keep theirs if it is intact.
        if (checkEntry(final) !== undefined) throw e;
        rmSync(tmp, { recursive: true, force: true });
      }
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    this.verified.add(final);
    return final;
  }
}

