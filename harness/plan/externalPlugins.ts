/**
 * Attack and defense files from outside the repository (`mbb run --plugin FILE`, or the
 * config's `plugins: [FILE, …]`): a file exports its plugins exactly as a file in attacks/ or
 * defenses/ does (objects typed with the package's Attack or Defense interface, see
 * docs/plugins.md), and loading it adds them to the same registries, so a config names them by
 * id like built-in ones. Nothing is forked or copied. The file's content enters the code hash
 * of every run that uses one of its plugins (harness/run/codeHash.ts), so editing it recomputes
 * exactly those runs.
 *
 * The runner loads the files in its own process (to check the grid and the runs' identities)
 * and passes them to every worker (`mbb worker --plugin FILE`), which loads them before its
 * first run.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ATTACKS, isAttack } from '../../attacks/registry.js';
import { DEFENSES, isDefense } from '../../defenses/registry.js';
import { DEFENSE_STAGES } from '../../defenses/types.js';
import { UserError } from '../core/errors.js';
import { addPlugin } from '../core/plugins.js';

const SHAPES =
  'export an Attack (id, description, schema, makeTrigger, applyImage, modifyOutput) or a Defense (id, description, stage, schema and the hook of its stage), ' +
  "typed with `import type { Attack, Defense } from 'mllm-backdoor-bench'` (docs/plugins.md)";

/** Files already loaded in this process, so a runner and its grid may name one twice. */
const loaded = new Set<string>();

/** The ids a file added, for messages and tests. */
export interface LoadedPluginFile {
  file: string;
  attacks: string[];
  defenses: string[];
}

async function importFile(file: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const why = ((err as Error).message ?? String(err)).split('\n')[0];
    throw new UserError(`plugin ${file}: cannot load it (${why}); fix the file, which runs as TypeScript or JavaScript in this process`);
  }
}

/** Load one plugin file (an absolute path) and register its attacks and defenses. */
export async function loadPluginFile(file: string): Promise<LoadedPluginFile> {
  if (!isAbsolute(file)) throw new Error(`loadPluginFile: ${file} is not absolute (the CLI resolves --plugin and config paths)`);
  if (!existsSync(file)) {
    throw new UserError(`plugin ${file}: file not found; give --plugin (or the config's plugins) the path of a .ts or .js file, relative to the working directory (or to the config file)`);
  }
  if (!statSync(file).isFile()) throw new UserError(`plugin ${file}: not a file; give the path of one .ts or .js file per --plugin`);
  const out: LoadedPluginFile = { file, attacks: [], defenses: [] };
  const mod = await importFile(file);
  // A clash of ids is the file's to fix: the message names both files.
  const add = <T extends { id: string }>(registry: Record<string, T>, kind: string, value: T) => {
    try {
      addPlugin(registry, kind, value, file);
    } catch (err) {
      throw new UserError(`plugin ${file}: ${(err as Error).message}; give it another id`);
    }
  };
  // One object exported under two names (a default export too) is one plugin.
  const values = new Map<unknown, string>();
  for (const [name, value] of Object.entries(mod)) if (!values.has(value)) values.set(value, name);
  for (const [value, name] of values) {
    if (isAttack(value)) {
      add(ATTACKS, 'attack', value);
      out.attacks.push(value.id);
    } else if (isDefense(value)) {
      if (!DEFENSE_STAGES.includes(value.stage)) throw new UserError(`plugin ${file}: defense "${value.id}" (export ${name}) has stage ${JSON.stringify(value.stage)}; choose one of ${DEFENSE_STAGES.join(', ')}`);
      add(DEFENSES, 'defense', value);
      out.defenses.push(value.id);
    }
  }
  if (out.attacks.length + out.defenses.length === 0) {
    const names = Object.keys(mod);
    throw new UserError(`plugin ${file}: exports no attack or defense (${names.length ? `its exports: ${names.join(', ')}` : 'it exports nothing'}); ${SHAPES}`);
  }
  return out;
}

/** Load every file not loaded yet in this process, in order. */
export async function loadPluginFiles(files: readonly string[] = []): Promise<LoadedPluginFile[]> {
  const out: LoadedPluginFile[] = [];
  for (const file of files) {
    if (loaded.has(file)) continue;
    out.push(await loadPluginFile(file));
    loaded.add(file);
  }
  return out;
}
