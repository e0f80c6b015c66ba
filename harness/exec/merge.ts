/**
 * `mbb merge`: combine the run records of shards (or of any output directories of one
 * experiment) into one output directory, whose report then covers the whole grid.
 *
 * Records are only combined when they are results of one experiment on one code version:
 * every record must carry the same code version and experiment hash, else the merge stops and
 * says which directories disagree. A run found twice with identical records is copied once; a
 * failed copy gives way to a successful one; two different successful records are a conflict.
 * With shard manifests present, every shard 0…n−1 and every run they list must be there,
 * unless `allowMissing` (a partial table is then written, missing runs simply absent).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { UserError } from '../core/errors.js';
import type { RunRecord } from '../core/record.js';
import { MANIFEST, readShardManifest, type ShardManifest } from '../plan/shard.js';
import { writeFileAtomic } from '../core/atomicFile.js';
import { INVOCATIONS_FILE } from '../../reports/invocations.js';

interface Found {
  path: string;
  text: string;
  record: RunRecord;
  source: string;
}

export interface MergeResult {
  copied: number;
  /** Identical copies of a record seen more than once (skipped). */
  duplicates: number;
  /** Failed records dropped because another source has the run's successful record. */
  superseded: number;
  missing: string[];
  experiment?: string;
}

function readRunsDir(dir: string): Found[] {
  const runs = join(dir, 'runs');
  if (!existsSync(runs)) throw new UserError(`merge: ${dir} has no runs/ folder; pass the --out directories the shards wrote`);
  return readdirSync(runs)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const path = join(runs, f);
      const text = readFileSync(path, 'utf8');
      try {
        return { path, text, record: JSON.parse(text) as RunRecord, source: dir };
      } catch (e) {
        throw new UserError(`merge: ${path}: unreadable run record (${(e as Error).message}); delete it and re-run its shard`);
      }
    });
}

/** Stop unless every record has one value of `field`; name each value's directories. */
function requireAgreement(found: Found[], field: 'sourceVersion' | 'experimentHash', what: string, fix: string): void {
  const byValue = new Map<string, Map<string, number>>();
  for (const f of found) {
    const v = f.record.provenance?.[field] ?? '(none)';
    const dirs = byValue.get(v) ?? new Map<string, number>();
    dirs.set(f.source, (dirs.get(f.source) ?? 0) + 1);
    byValue.set(v, dirs);
  }
  if (byValue.size <= 1) return;
  const detail = [...byValue]
    .map(([v, dirs]) => `${v} in ${[...dirs].map(([d, n]) => `${d} (${n} record${n > 1 ? 's' : ''})`).join(', ')}`)
    .join('; ');
  throw new UserError(`merge: the records disagree on the ${what}: ${detail}; ${fix}`);
}

const WILDCARD = /[*?[]/;

/** A glob of one path segment (`*`, `?`, `[…]`) as a RegExp. */
function segmentPattern(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) throw new UserError(`merge: ${glob}: unclosed "[" in the pattern`);
      re += `[${glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The directories to merge, without the shell's help (Slurm's `--wrap` runs /bin/sh, which
 * has no brace expansion): a directory with a runs/ folder as it is; a quoted pattern whose
 * last segment holds wildcards (`'reports/out/paper-shard-*'`) as the directories it matches;
 * a parent directory without runs/ as its sub-directories holding a shard manifest.
 */
export function mergeSources(args: string[]): string[] {
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  return args.flatMap((arg) => {
    if (WILDCARD.test(arg)) {
      const parent = dirname(arg);
      if (WILDCARD.test(parent)) throw new UserError(`merge: ${arg}: only the last path segment may hold a wildcard`);
      const re = segmentPattern(basename(arg));
      const hits = isDir(parent) ? readdirSync(parent).filter((n) => re.test(n) && isDir(join(parent, n))).sort().map((n) => join(parent, n)) : [];
      if (hits.length === 0) throw new UserError(`merge: ${arg} matches no directory`);
      return hits;
    }
    if (isDir(arg) && !existsSync(join(arg, 'runs'))) {
      const shards = readdirSync(arg).sort().filter((n) => existsSync(join(arg, n, MANIFEST)));
      if (shards.length > 0) return shards.map((n) => join(arg, n));
    }
    return [arg];
  });
}

export function mergeShards(outDir: string, shardDirs: string[], opts: { allowMissing?: boolean } = {}): MergeResult {
  if (shardDirs.length === 0) throw new UserError('merge: no shard directories given; usage: mbb merge --out DIR SHARD_DIR...');
  const out = resolve(outDir);
  const sources = [...new Set(mergeSources(shardDirs).map((d) => resolve(d)))].filter((d) => d !== out);
  const found = sources.flatMap(readRunsDir);
  // Records already in the output take part too, so a repeated merge is idempotent and a
  // stale output from another experiment is refused rather than mixed in.
  if (existsSync(join(out, 'runs'))) found.push(...readRunsDir(out));
  // Each record's own codeVersion differs by the plugins it reaches; the tree's must agree.
  requireAgreement(found, 'sourceVersion', 'source version', 're-run the shards from one commit (or merge only the directories of one version)');
  requireAgreement(found, 'experimentHash', 'experiment config (hash)', 'run every shard with the same profile, --config and --set options');

  const manifests = sources.map((d) => [d, readShardManifest(d)] as const).filter((m): m is readonly [string, ShardManifest] => m[1] !== undefined);
  const missing: string[] = [];
  if (manifests.length) {
    const counts = new Set(manifests.map(([, m]) => m.shard.count));
    if (counts.size > 1) throw new UserError(`merge: the shards were cut into different numbers of slices (${[...counts].join(', ')}); re-run them with one --shard i/n`);
    const hashes = new Set(manifests.map(([, m]) => m.experimentHash));
    if (hashes.size > 1) throw new UserError(`merge: the shard manifests name different experiments (${[...hashes].join(', ')}); run every shard with the same config`);
    const count = [...counts][0];
    const have = new Set(manifests.map(([, m]) => m.shard.index));
    for (let i = 0; i < count; i++) if (!have.has(i)) missing.push(`shard ${i}/${count}`);
    const ids = new Set(found.map((f) => f.record.id));
    for (const [, m] of manifests) for (const id of m.runs) if (!ids.has(id)) missing.push(id);
    if (missing.length && !opts.allowMissing) {
      throw new UserError(
        `merge: ${missing.length} missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}; ` +
          're-run those shards (finished runs are skipped), or pass --allow-missing for a partial report',
      );
    }
  }

  // One record per run id.
  const chosen = new Map<string, Found>();
  let duplicates = 0;
  let superseded = 0;
  for (const f of found) {
    const prev = chosen.get(f.record.id);
    if (!prev) {
      chosen.set(f.record.id, f);
    } else if (prev.text === f.text || isDeepStrictEqual(prev.record, f.record)) {
      duplicates++;
    } else if (prev.record.status !== 'ok' || f.record.status !== 'ok') {
      superseded++;
      if (prev.record.status !== 'ok' && f.record.status === 'ok') chosen.set(f.record.id, f);
    } else {
      throw new UserError(
        `merge: run ${f.record.id} has two different successful records, ${prev.path} and ${f.path}; ` +
          'a run belongs to one shard: delete the stale one (or merge the shards of one --shard n only)',
      );
    }
  }
  let copied = 0;
  for (const [id, f] of [...chosen].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const target = join(out, 'runs', `${id}.json`);
    if (existsSync(target) && readFileSync(target, 'utf8') === f.text) continue;
    writeFileAtomic(target, f.text);
    copied++;
  }
  // The chosen records' suspect rankings (written beside runs/ by the worker) go along: each
  // source's suspects/ is listed once, and the output's own is left as it is.
  const chosenFrom = new Map<string, Set<string>>();
  for (const [id, f] of chosen) chosenFrom.set(f.source, (chosenFrom.get(f.source) ?? new Set()).add(id));
  for (const [source, ids] of chosenFrom) {
    const from = join(source, 'suspects');
    if (!existsSync(from) || resolve(from) === resolve(out, 'suspects')) continue;
    // `<run id>.<score>.csv`; run ids and score names may both contain dots (blended@0.1).
    for (const file of readdirSync(from).filter((n) => n.endsWith('.csv') && [...ids].some((id) => n.startsWith(`${id}.`)))) {
      writeFileAtomic(join(out, 'suspects', file), readFileSync(join(from, file)));
    }
  }
  mergeInvocations(out, sources);
  const experiment = manifests[0]?.[1].experiment ?? (found[0]?.record.config as { exp?: { name?: string } } | undefined)?.exp?.name;
  return { copied, duplicates, superseded, missing, experiment };
}

/**
 * The slices' invocation logs go along, so the merged results page has their commands, machines
 * and wall times: every distinct line of the sources and the output, oldest first (slices that ran
 * side by side each count their own wall time).
 */
function mergeInvocations(out: string, sources: string[]): void {
  const lines = [out, ...sources].flatMap((d) => {
    const p = join(d, INVOCATIONS_FILE);
    return existsSync(p) ? readFileSync(p, 'utf8').split('\n').filter((l) => l.trim()) : [];
  });
  if (lines.length === 0) return;
  const startOf = (l: string) => {
    try {
      return String((JSON.parse(l) as { start?: unknown }).start ?? '');
    } catch {
      return ''; // the results page names a bad line when it reads the log
    }
  };
  const merged = [...new Set(lines)].sort((a, b) => (startOf(a) < startOf(b) ? -1 : startOf(a) > startOf(b) ? 1 : 0));
  writeFileAtomic(join(out, INVOCATIONS_FILE), `${merged.join('\n')}\n`);
}
