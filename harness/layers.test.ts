/**
 * harness/ in layers (README, *Layout*): each folder imports only from itself and the layers
 * below it, plugins import only harness/core, and no stage's code reaches what orchestrates or
 * presents runs. Checked on the source itself, imports of types included (they couple as much).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeVersion, importClosure, ORCHESTRATION, sourceFiles, stageEntry, type StageName } from './run/codeHash.js';

const ROOT = resolve(__dirname, '..');
/** Bottom to top: a module may import from its own folder and from the rows above its own. */
const LAYERS = [
  ['harness/core'],
  ['attacks', 'defenses', 'models', 'harness/data', 'harness/metrics'],
  ['harness/config'],
  ['harness/run'],
  ['harness/plan', 'reports'],
  ['harness/exec'],
  ['harness/cli'],
];
const PLUGINS = ['attacks', 'defenses', 'models'];
/** The plugin interfaces: what plugins (and, for the model interface, the training loop and decoding in core) may name across folders. */
const INTERFACES = ['attacks/types.ts', 'defenses/types.ts', 'models/types.ts'];
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

const isModule = (f: string) => f.endsWith('.ts') && !/\.(test|testutil|d)\.ts$/.test(f);
function modules(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(join(ROOT, rel)).isDirectory() ? (name === 'native' ? [] : modules(rel)) : isModule(name) ? [rel] : [];
  });
}
const folderOf = (f: string) => LAYERS.flat().find((d) => f.startsWith(`${d}/`)) ?? f;
const levelOf = (f: string) => LAYERS.findIndex((row) => row.includes(folderOf(f)));
/** Every relative import of the repository's modules (tests and test helpers aside): [from, to]. */
const IMPORTS = ['harness', ...PLUGINS, 'reports'].flatMap(modules).flatMap((from) =>
  [...readFileSync(join(ROOT, from), 'utf8').matchAll(IMPORT)].map((m) => [from, relative(ROOT, resolve(ROOT, dirname(from), m[1].replace(/\.js$/, '.ts')))] as const),
);

describe('harness/ in layers', () => {
  it('every folder of harness/ is a layer, and every module sits in one', () => {
    const folders = readdirSync(join(ROOT, 'harness')).filter((f) => statSync(join(ROOT, 'harness', f)).isDirectory() && f !== 'native');
    expect(folders.map((f) => `harness/${f}`).sort()).toEqual(LAYERS.flat().filter((d) => d.startsWith('harness/')).sort());
    expect(readdirSync(join(ROOT, 'harness')).filter(isModule)).toEqual([]);
    expect(IMPORTS.length).toBeGreaterThan(300); // the pattern finds the imports
  });

  it('harness/core imports nothing from another folder but the model interface', () => {
    const out = IMPORTS.filter(([from, to]) => from.startsWith('harness/core/') && !to.startsWith('harness/core/') && to !== 'models/types.ts');
    expect(out).toEqual([]);
  });

  it('plugins (attacks/, defenses/, models/) import only harness/core, their own folder and the plugin interfaces', () => {
    const out = IMPORTS.filter(([from, to]) => PLUGINS.includes(folderOf(from)) && folderOf(to) !== folderOf(from) && !to.startsWith('harness/core/') && !INTERFACES.includes(to));
    expect(out).toEqual([]);
  });

  it('every import goes to its own folder or a layer below', () => {
    const up = IMPORTS.filter(([from, to]) => {
      if (folderOf(from) === folderOf(to) || INTERFACES.includes(to)) return false;
      return levelOf(to) < 0 || levelOf(to) >= levelOf(from);
    });
    expect(up).toEqual([]);
  });

  it("no stage's code reaches the orchestration layers or the reports: editing the runner or a table recomputes nothing", () => {
    const outside = (f: string) => ORCHESTRATION.some((d) => f.startsWith(`${d}/`)) || f.startsWith('reports/');
    const stages: StageName[] = ['vision', 'pretrain', 'sft', 'repair', 'run'];
    // Without a plugin list a registry reaches every plugin: this covers every attack, defense and model.
    for (const stage of stages) expect(importClosure([stageEntry(stage)]).filter(outside), stage).toEqual([]);
  });

  it('the record-level code version hashes every result-computing module, the orchestration folders aside', () => {
    const files = sourceFiles();
    expect(files.filter((f) => ORCHESTRATION.some((d) => f.startsWith(`${d}/`)))).toEqual([]);
    const expected = ['harness', ...PLUGINS].flatMap(modules).filter((f) => !ORCHESTRATION.includes(folderOf(f)));
    expect(files.sort()).toEqual(expected.sort());
    expect(files).toEqual(expect.arrayContaining(['harness/run/pipeline.ts', 'harness/core/training.ts', 'harness/config/schema.ts', 'attacks/badnets.ts']));
    expect(codeVersion()).toMatch(/^[0-9a-f]{12}$/);
  });

  it('no file is over 300 lines but the data generator (ShapesWorld) and its test', () => {
    const walk = (dir: string): string[] =>
      readdirSync(join(ROOT, dir)).flatMap((n) => (statSync(join(ROOT, dir, n)).isDirectory() ? (['native', 'out', 'fixtures'].includes(n) ? [] : walk(`${dir}/${n}`)) : /\.(ts|mjs)$/.test(n) ? [`${dir}/${n}`] : []));
    const all = ['harness', ...PLUGINS, 'reports', 'scripts'].flatMap((d) => walk(d));
    const long = all.filter((f) => !/^harness\/data\/shapesWorld(\.test)?\.ts$/.test(f) && readFileSync(join(ROOT, f), 'utf8').split('\n').length > 301);
    expect(long).toEqual([]);
  });
});
