/**
 * Code versions. Per stage: the hash of the source files a stage's computation can reach, so
 * that editing a defense does not throw away every cached pre-training. A stage's files are the
 * static import closure of its entry modules (relative imports, dynamic ones included; a
 * statement that imports or re-exports types only, `import type … from`, is erased before the
 * code runs and is not followed); a plugin registry (a file that imports discoverPlugins)
 * reaches every module of its directory (or, given the plugins a run uses, only those), and
 * the wasm kernel fixes reach the native addon's C++ source.
 *
 * Plugin files from outside the repository (`--plugin`, harness/plan/externalPlugins.ts) are files
 * like any other here: listed among a run's plugins, they and their relative imports are
 * hashed, under their base name rather than their path, so moving a plugin file recomputes
 * nothing but editing it does. An import of the package by name (`from 'mllm-backdoor-bench'`)
 * reaches the package's entry, index.ts.
 *
 * Per record (`codeVersion()`): the hash of all the result-computing source, every folder but
 * the orchestration layers.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedRun } from './runSpec.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NATIVE = 'harness/native';
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+|mllm-backdoor-bench)['"]/g;
/** A statement that imports or re-exports types only: erased by the compiler, it runs no code. */
const TYPE_ONLY = /^\s*(?:import|export)\s+type\s+(?:\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+)\s*from\s*['"][^'"]+['"]/gm;
const REGISTRY = /\bimport\s*\{[^}]*\bdiscoverPlugins\b[^}]*\}\s*from\b/;
const ADDON = /createRequire\(import\.meta\.url\)\(\s*['"][^'"]*mbb_kernels\.node['"]/;
const PACKAGE_ENTRY = 'index.ts';
const isModule = (f: string) => f.endsWith('.ts') && !/\.(test|testutil|d)\.ts$/.test(f);

/** A file's key: its path relative to the repository root, or its absolute path outside it. */
function keyOf(abs: string): string {
  const rel = relative(ROOT, abs);
  return rel.startsWith('..') || isAbsolute(rel) ? abs : rel;
}

/** The name a file is hashed under: its key inside the repository, its base name outside (see above). */
const hashedName = (key: string) => (isAbsolute(key) ? `plugin:${basename(key)}` : key);

/**
 * The files reached from `entries` and `plugins` (paths relative to the repository root, or
 * absolute outside it), sorted. With `plugins`, a registry reaches only the listed files of its
 * directory: the attack, defense and model one run uses, so that adding or editing another
 * plugin leaves that run's hash alone; the listed plugins are reached whether or not a registry
 * is (those outside the repository are in no registry).
 */
export function importClosure(entries: string[], plugins?: string[]): string[] {
  const seen = new Set<string>();
  const visit = (key: string) => {
    if (seen.has(key)) return;
    const abs = resolve(ROOT, key);
    if (!existsSync(abs)) throw new Error(`code hash: ${key} does not exist`);
    seen.add(key);
    if (!key.endsWith('.ts')) return;
    const src = readFileSync(abs, 'utf8').replace(TYPE_ONLY, '');
    for (const m of src.matchAll(IMPORT)) {
      // Only a file from outside imports the package by name (inside, the name is only ever mentioned).
      if (m[1] !== 'mllm-backdoor-bench') visit(keyOf(resolve(dirname(abs), m[1].replace(/\.js$/, '.ts'))));
      else if (isAbsolute(key)) visit(PACKAGE_ENTRY);
    }
    if (REGISTRY.test(src)) {
      const dir = dirname(abs);
      const all = readdirSync(dir).filter(isModule).map((f) => relative(ROOT, join(dir, f)));
      all.filter((f) => !plugins || plugins.includes(f)).forEach(visit);
    }
    // The addon's sources: every C++ file of harness/native (binding.gyp compiles them all).
    if (ADDON.test(src)) readdirSync(join(ROOT, NATIVE)).filter((f) => /\.(cc|h)$/.test(f)).forEach((f) => visit(`${NATIVE}/${f}`));
  };
  entries.forEach(visit);
  plugins?.forEach(visit);
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
    // In hashed-name order, so that where outside files live does not change the order either.
    const files = importClosure(entries, plugins).sort((a, b) => (hashedName(a) < hashedName(b) ? -1 : hashedName(a) > hashedName(b) ? 1 : 0));
    for (const f of [...files, ...shallow]) h.update(hashedName(f)).update('\0').update(readFileSync(resolve(ROOT, f))).update('\0');
    cache.set(key, h.digest('hex').slice(0, 12));
  }
  return cache.get(key)!;
}

/**
 * A run's cached model stages, each one file of harness/run/ (`harness/run/<stage>.ts`): a
 * stage's code is the import closure of its file and of the run's plugin files it uses
 * (`stagePlugins`), plus the pipeline's stage glue, hashed shallowly (its imports reach every
 * stage). `run` is the whole run, evaluation included: the closure of the pipeline.
 */
export type StageName = 'vision' | 'pretrain' | 'sft' | 'repair' | 'run';
const RUN_DIR = 'harness/run';
/** What picks a stage's plugin files: the run's files and where its defense acts. */
type StagePlugins = Pick<ResolvedRun, 'files'> & { defense: Pick<ResolvedRun['defense'], 'stage'> };
const PIPELINE = `${RUN_DIR}/pipeline.ts`;

/** The module whose import closure is a stage's code. */
export const stageEntry = (stage: StageName): string => (stage === 'run' ? PIPELINE : `${RUN_DIR}/${stage}.ts`);

/**
 * The plugin files a stage of this run reaches: pre-training its model family, SFT its attack
 * (and its defense when the defense trains), repair its post-training defense, so editing
 * `pcr.ts` keeps the backdoored model that `none` and `ft` share.
 */
export function stagePlugins(stage: StageName, rr: StagePlugins): string[] {
  const { attack, defense, model } = rr.files;
  switch (stage) {
    case 'vision':
      return [];
    case 'pretrain':
      return [model];
    case 'sft':
      return rr.defense.stage === 'training' ? [model, attack, defense] : [model, attack];
    case 'repair':
      return [model, defense];
    case 'run':
      return [model, attack, defense];
  }
}

/** Hash of the code one stage of this run can reach. */
export function stageCode(stage: StageName, rr: StagePlugins): string {
  return codeHash([stageEntry(stage)], stage === 'run' ? [] : [PIPELINE], stagePlugins(stage, rr));
}

/**
 * The layers that orchestrate or present runs but compute no result: planning the grid
 * (plan/), running it in processes (exec/), the command line (cli/). No stage's code reaches
 * them, nor the reports (harness/layers.test.ts), so editing the runner, a command or a table
 * recomputes nothing; the record-level code version below leaves them out too.
 */
export const ORCHESTRATION = ['harness/plan', 'harness/exec', 'harness/cli'];
/** The folders of result-computing source (reports/ and scripts/ present and drive them). */
const SOURCE = ['harness', 'models', 'attacks', 'defenses'];

/**
 * The source that computes results: every module of harness/, models/, attacks/ and defenses/
 * outside the orchestration folders (tests and test helpers excluded), sorted.
 */
export function sourceFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir))
      .sort()
      .flatMap((name) => {
        const rel = `${dir}/${name}`;
        if (statSync(join(ROOT, rel)).isDirectory()) return ORCHESTRATION.includes(rel) ? [] : walk(rel);
        return isModule(name) ? [rel] : [];
      });
  return SOURCE.flatMap(walk);
}

let codeVersionCache: string | undefined;

/**
 * Hash of all the source that computes results (`sourceFiles`): each record's
 * `provenance.sourceVersion`; the shards `mbb merge` combines must share it.
 */
export function codeVersion(): string {
  if (codeVersionCache) return codeVersionCache;
  const h = createHash('sha256');
  for (const f of sourceFiles()) h.update(f).update(readFileSync(join(ROOT, f)));
  codeVersionCache = h.digest('hex').slice(0, 12);
  return codeVersionCache;
}
