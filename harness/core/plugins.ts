/**
 * Plugin discovery: a registry is every plugin exported by the files of its directory, so a
 * new attack, defense or model is one file and nothing else. Files are read in name order and
 * ids must be unique; helper modules (types, shared maths) simply export no plugin.
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** `kind:id` → the plugin's source file, relative to the repository root (absolute for a file from outside it). */
const sources = new Map<string, string>();

/**
 * The file a discovered plugin came from (e.g. `attacks/badnets.ts`): what a run's code hash
 * follows instead of the whole plugin directory (harness/run/runIdentity.ts).
 */
export function pluginFile(kind: string, id: string): string {
  const f = sources.get(`${kind}:${id}`);
  if (!f) throw new Error(`no ${kind} "${id}" has been discovered`);
  return f;
}

/**
 * Add a plugin exported by a file from outside the repository (harness/plan/externalPlugins.ts) to
 * its registry, under the same rule as discovered ones: ids are unique.
 */
export function addPlugin<T extends { id: string }>(registry: Record<string, T>, kind: string, value: T, file: string): void {
  const taken = sources.get(`${kind}:${value.id}`);
  if (taken) throw new Error(`${kind} id "${value.id}" is already taken by ${taken}`);
  sources.set(`${kind}:${value.id}`, file);
  registry[value.id] = value;
}

export async function discoverPlugins<T extends { id: string }>(
  dir: string,
  kind: string,
  isPlugin: (value: unknown) => value is T,
  /** Ids listed first, in this order (e.g. the docs' tables); the rest follow in file order. */
  first: string[] = [],
): Promise<Record<string, T>> {
  const found: Record<string, T> = {};
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !/\.(test|testutil|d)\.ts$/.test(f) && f !== 'registry.ts')
    .sort();
  for (const file of files) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as Record<string, unknown>;
    for (const value of new Set(Object.values(mod))) {
      if (!isPlugin(value)) continue;
      const path = relative(ROOT, join(dir, file));
      if (found[value.id]) throw new Error(`${kind} id "${value.id}" is exported by both ${sources.get(`${kind}:${value.id}`)} and ${path}: ids must be unique`);
      sources.set(`${kind}:${value.id}`, path);
      found[value.id] = value;
    }
  }
  const order = [...first.filter((id) => id in found), ...Object.keys(found).filter((id) => !first.includes(id))];
  return Object.fromEntries(order.map((id) => [id, found[id]]));
}
