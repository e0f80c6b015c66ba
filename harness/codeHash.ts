/**
 * Code versions per stage: the hash of the source files a stage's computation can reach, so
 * that editing a defense does not throw away every cached pre-training. A stage's files are the
 * static import closure of its entry modules (relative imports, `import type` included, which
 * only over-includes); a plugin registry (a file calling discoverPlugins) reaches every module
 * of its directory (or, given the plugins a run uses, only those), and the wasm kernel fixes
 * reach the native addon's C++ source.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
const isModule = (f: string) => f.endsWith('.ts') && !/\.(test|testutil|d)\.ts$/.test(f);

/**
 * The files reached from `entries` (paths relative to the repository root), sorted. With
 * `plugins`, a registry reaches only the listed files of its directory: the attack, defense and
 * model one run uses, so that adding or editing another plugin leaves that run's hash alone.
 */
export function importClosure(entries: string[], plugins?: string[]): string[] {
  const seen = new Set<string>();
  const visit = (rel: string) => {
    if (seen.has(rel)) return;
    const abs = join(ROOT, rel);
    if (!existsSync(abs)) throw new Error(`code hash: ${rel} does not exist`);
    seen.add(rel);
    if (!rel.endsWith('.ts')) return;
    const src = readFileSync(abs, 'utf8');
    for (const m of src.matchAll(IMPORT)) visit(relative(ROOT, resolve(dirname(abs), m[1].replace(/\.js$/, '.ts'))));
    if (src.includes('discoverPlugins(')) {
      const dir = dirname(abs);
      const all = readdirSync(dir).filter(isModule).map((f) => relative(ROOT, join(dir, f)));
      all.filter((f) => !plugins || plugins.includes(f)).forEach(visit);
    }
    if (src.includes('mbb_kernels.node')) visit('harness/native/kernels.cc');
  };
  entries.forEach(visit);
  return [...seen].sort();
}

const cache = new Map<string, string>();

/**
 * sha256 (12 hex digits) over the paths and contents of the closure of `entries`, plus the
 * `shallow` files themselves without following their imports (e.g. the pipeline, whose stage
 * glue every stage runs but whose imports reach every plugin).
 */
export function codeHash(entries: string[], shallow: string[] = [], plugins?: string[]): string {
  const key = [...entries, '|', ...shallow, '|', ...(plugins ?? ['*'])].join('\n');
  if (!cache.has(key)) {
    const h = createHash('sha256');
    for (const f of [...importClosure(entries, plugins), ...shallow]) h.update(f).update('\0').update(readFileSync(join(ROOT, f))).update('\0');
    cache.set(key, h.digest('hex').slice(0, 12));
  }
  return cache.get(key)!;
}
