/**
 * Are two output directories' run records the same results? Compares `A/runs/*.json` with
 * `B/runs/*.json` field by field, leaving out what names the code or the moment rather than
 * the result: the code hashes (`keys`, the stages' cache keys, which hash the code;
 * `provenance.codeVersion`, `sourceVersion`), the commit, the dates and the timings (`timings`,
 * each epoch's `seconds`). Everything else (metrics, generations, training losses, tensor
 * counts, the run inputs' `configHash`, which stages came from the cache) must be equal.
 * For a refactoring that must not change results: run the same grid before and after, each
 * into its own `--out` and `--cache`, and compare.
 *
 * With --across-grids, also for the same runs made in two different grids (a spot check that
 * one cell of a large grid is made again to the same numbers in a grid of its own): it then
 * also leaves out what describes the invocation rather than the run (ACROSS_GRIDS). The run's
 * own inputs are still compared, through `provenance.configHash` and the record's own fields.
 *
 * Usage: node --import tsx scripts/compare-records.ts BEFORE_DIR AFTER_DIR [--only-common] [--across-grids]
 * Prints one line per differing record and a summary; exits 1 on any difference, or when a
 * record of one side is missing from the other (unless --only-common).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Paths (dot-separated, `*` for any key or index) left out of the comparison. */
export const EXCLUDED = ['keys', 'timings', 'trainLog.*.*.seconds', 'provenance.codeVersion', 'provenance.sourceVersion', 'provenance.gitCommit', 'provenance.date'];

/**
 * Also left out across grids: the experiment's config, hash and seed list (the whole grid's),
 * which stages came from the cache, and the tensors the process held at each epoch (a process
 * that trained the earlier stages itself holds more than one that loaded them).
 */
export const ACROSS_GRIDS = ['config', 'provenance.experimentHash', 'provenance.seeds.experiment', 'cached', 'trainLog.*.*.numTensors'];

/** The paths a comparison leaves out. */
export const excludedPaths = (acrossGrids: boolean): string[] => (acrossGrids ? [...EXCLUDED, ...ACROSS_GRIDS] : EXCLUDED);

/** A path filter from a list of dot-separated paths (`*` matching any key or index), split once. */
export const excludedBy = (list: string[]) => {
  const patterns = list.map((p) => p.split('.'));
  return (path: string[]) => patterns.some((parts) => parts.length === path.length && parts.every((q, i) => q === '*' || q === path[i]));
};

/** The paths at which two JSON values differ, excluded paths aside. */
export function differences(a: unknown, b: unknown, path: string[] = [], excluded = excludedBy(EXCLUDED)): string[] {
  if (excluded(path)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => differences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [...path, k], excluded));
  }
  return Object.is(a, b) ? [] : [`${path.join('.') || '(root)'}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`];
}

export interface Comparison {
  compared: number;
  equal: number;
  onlyIn: { a: string[]; b: string[] };
  different: { file: string; diffs: string[] }[];
}

export function compareDirs(a: string, b: string, acrossGrids = false): Comparison {
  const excluded = excludedBy(excludedPaths(acrossGrids));
  // A folder without runs/ (most often runs/ itself, passed by mistake) would compare nothing.
  const list = (d: string) => {
    if (!existsSync(join(d, 'runs'))) throw new Error(`${d} has no runs/ folder: pass the output directory that holds runs/ (mbb run's --out), not runs/ itself`);
    return readdirSync(join(d, 'runs')).filter((f) => f.endsWith('.json')).sort();
  };
  const [fa, fb] = [list(a), list(b)];
  const common = fa.filter((f) => fb.includes(f));
  const read = (d: string, f: string) => JSON.parse(readFileSync(join(d, 'runs', f), 'utf8')) as unknown;
  const different = common.map((file) => ({ file, diffs: differences(read(a, file), read(b, file), [], excluded) })).filter((d) => d.diffs.length > 0);
  return {
    compared: common.length,
    equal: common.length - different.length,
    onlyIn: { a: fa.filter((f) => !fb.includes(f)), b: fb.filter((f) => !fa.includes(f)) },
    different,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const onlyCommon = args.includes('--only-common');
  const acrossGrids = args.includes('--across-grids');
  const [a, b] = args.filter((x) => !x.startsWith('--'));
  if (!a || !b) {
    process.stderr.write('usage: node --import tsx scripts/compare-records.ts BEFORE_DIR AFTER_DIR [--only-common] [--across-grids]\n');
    process.exit(2);
  }
  let c: Comparison;
  try {
    c = compareDirs(a, b, acrossGrids);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  }
  for (const d of c.different) process.stdout.write(`${d.file}: ${d.diffs.length} difference(s)\n  ${d.diffs.slice(0, 10).join('\n  ')}\n`);
  if (c.onlyIn.a.length) process.stdout.write(`only in ${a}: ${c.onlyIn.a.join(', ')}\n`);
  if (c.onlyIn.b.length) process.stdout.write(`only in ${b}: ${c.onlyIn.b.join(', ')}\n`);
  process.stdout.write(`${c.compared} records compared: ${c.equal} equal, ${c.different.length} different (excluded: ${excludedPaths(acrossGrids).join(', ')})\n`);
  const missing = !onlyCommon && c.onlyIn.a.length + c.onlyIn.b.length > 0;
  process.exit(c.different.length > 0 || missing || c.compared === 0 ? 1 : 0);
}
