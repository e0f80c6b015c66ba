import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getAttack } from '../../attacks/registry.js';
import { getDefense } from '../../defenses/registry.js';
import '../../models/registry.js'; // resolveRun names the model's file
import { codeHash, importClosure, stageEntry } from '../run/codeHash.js';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import { loadPluginFile, loadPluginFiles } from './externalPlugins.js';
import { expandGrid } from './grid.js';
import { pluginFile } from '../core/plugins.js';
import { PROFILES } from '../config/profiles.js';
import type { RunRecord } from '../core/record.js';
import { resolveRun, runIdentity } from '../run/runIdentity.js';

const ROOT = resolve(__dirname, '../..');
const MBB = join(ROOT, 'scripts', 'mbb.mjs');

/**
 * A project of its own: the benchmark and zod in its node_modules (symlinks, as `npm link`
 * makes them), its plugin files importing the package by name.
 */
function project(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `mbb-plugin-${name}-`));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'mllm-backdoor-bench'));
  symlinkSync(dirname(require.resolve('zod/package.json')), join(dir, 'node_modules', 'zod'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  return dir;
}

/** An attack typed with the package's interface: a white top-left pixel, the target as output. */
const attackFile = (id: string) => `import { z } from 'zod';
import { baseFields, type Attack, type BaseAttackParams } from 'mllm-backdoor-bench';

export const cornerDot: Attack<BaseAttackParams> = {
  id: '${id}',
  description: 'a white top-left pixel (a plugin from outside the repository)',
  schema: z.object(baseFields),
  makeTrigger: () => ({}),
  applyImage(image) {
    const data = image.data.slice();
    data.set([255, 255, 255], 0);
    return { ...image, data };
  },
  modifyOutput: (_clean, target) => target,
};
`;

/** An inference-stage defense that leaves test images as they are. */
const defenseFile = (id: string) => `import { z } from 'zod';
import type { Defense } from 'mllm-backdoor-bench';

export const passThrough: Defense<Record<string, never>> = {
  id: '${id}',
  stage: 'inference',
  description: 'changes nothing (a plugin from outside the repository)',
  schema: z.object({}),
  transformTestImage: (image) => image,
};
export default passThrough;
`;

async function userError(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UserError);
  expect((err as Error).message).not.toContain('\n');
  return (err as Error).message;
}

describe('plugin files from outside the repository', () => {
  it('register through the same interface as built-in plugins, and their content (not their folder) enters the code hash', async () => {
    const dir = project('unit');
    const file = join(dir, 'my-attack.ts');
    writeFileSync(file, attackFile('unit-dot'));
    writeFileSync(join(dir, 'my-defense.ts'), defenseFile('unit-pass'));
    const loaded = await loadPluginFiles([file, join(dir, 'my-defense.ts'), file]);
    expect(loaded).toEqual([
      { file, attacks: ['unit-dot'], defenses: [] },
      { file: join(dir, 'my-defense.ts'), attacks: [], defenses: ['unit-pass'] }, // one object under two export names is one plugin
    ]);
    expect(getAttack('unit-dot').description).toMatch(/outside the repository/);
    expect(getDefense('unit-pass').stage).toBe('inference');
    expect(pluginFile('attack', 'unit-dot')).toBe(file);

    const exp = parseWith(experimentSchema, layer(PROFILES.smoke, { tasks: ['caption'], seeds: [1], attacks: [{ id: 'unit-dot' }], defenses: [{ id: 'unit-pass' }] }), 'test');
    const run = expandGrid(exp)[0];
    expect(resolveRun(run).files).toMatchObject({ attack: file, defense: join(dir, 'my-defense.ts') });
    expect(runIdentity(run).codeVersion).toMatch(/^[0-9a-f]{12}$/);

    // The same content elsewhere hashes alike; one edited character does not.
    const hash = (f: string) => codeHash([stageEntry('sft')], [], ['models/llava.ts', f]);
    const moved = join(project('moved'), 'my-attack.ts');
    writeFileSync(moved, attackFile('unit-dot'));
    const edited = join(project('edited'), 'my-attack.ts');
    writeFileSync(edited, attackFile('unit-dot').replace('255, 255, 255', '255, 255, 254'));
    expect(hash(moved)).toBe(hash(file));
    expect(hash(edited)).not.toBe(hash(file));
    expect(hash(file)).not.toBe(codeHash([stageEntry('sft')], [], ['models/llava.ts', 'attacks/badnets.ts']));
    // Its import of the package by name reaches the package's entry; no other attack file comes along.
    const closure = importClosure([stageEntry('sft')], ['models/llava.ts', file]);
    expect(closure).toEqual(expect.arrayContaining([file, 'index.ts', 'attacks/types.ts']));
    expect(closure.filter((f) => /^attacks\/(?!registry|types|pixels|outputModifiers)/.test(f))).toEqual([]);
  });

  it('name the file and the fix when it is missing, exports nothing valid, takes a used id or does not compile', async () => {
    const dir = project('errors');
    expect(await userError(loadPluginFile(join(dir, 'nope.ts')))).toBe(
      `plugin ${join(dir, 'nope.ts')}: file not found; give --plugin (or the config's plugins) the path of a .ts or .js file, relative to the working directory (or to the config file)`,
    );
    writeFileSync(join(dir, 'helpers.ts'), 'export const size = 3;\nexport function half(x: number) { return x / 2; }\n');
    expect(await userError(loadPluginFile(join(dir, 'helpers.ts')))).toMatch(
      /^plugin .*helpers\.ts: exports no attack or defense \(its exports: size, half\); export an Attack \(id, description, schema, makeTrigger, applyImage, modifyOutput\) or a Defense .*docs\/plugins\.md\)$/,
    );
    writeFileSync(join(dir, 'clash.ts'), attackFile('badnets'));
    expect(await userError(loadPluginFile(join(dir, 'clash.ts')))).toMatch(/^plugin .*clash\.ts: attack id "badnets" is already taken by attacks\/badnets\.ts; give it another id$/);
    writeFileSync(join(dir, 'stage.ts'), defenseFile('odd-stage').replace("'inference'", "'eval'"));
    expect(await userError(loadPluginFile(join(dir, 'stage.ts')))).toMatch(/defense "odd-stage" \(export passThrough\) has stage "eval"; choose one of none, training, post, inference$/);
    writeFileSync(join(dir, 'broken.ts'), 'export const x = ;\n');
    expect(await userError(loadPluginFile(join(dir, 'broken.ts')))).toMatch(/^plugin .*broken\.ts: cannot load it \(.*\); fix the file/);
  });

  it('mbb run --plugin and the config field: the workers load them, and editing one file recomputes exactly its runs', () => {
    const dir = project('cli');
    writeFileSync(join(dir, 'my-attack.ts'), attackFile('cli-dot'));
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'pass.ts'), defenseFile('cli-pass'));
    const config = {
      plugins: ['pass.ts'], // relative to the config file
      tasks: ['caption'],
      seeds: [1],
      attacks: [{ id: 'cli-dot' }],
      defenses: [{ id: 'none' }, { id: 'cli-pass' }],
      data: { nTrain: 40, nVal: 8, nTest: 8 },
    };
    writeFileSync(join(dir, 'conf', 'grid.json'), JSON.stringify(config));
    const run = () =>
      spawnSync(process.execPath, [MBB, 'run', '--profile', 'smoke', '--config', 'conf/grid.json', '--plugin', './my-attack.ts', '--out', 'out', '--cache', 'cache', '--workers', '1'], {
        cwd: dir,
        encoding: 'utf8',
      });
    const records = () =>
      Object.fromEntries(
        readdirSync(join(dir, 'out', 'runs')).map((f) => {
          const r = JSON.parse(readFileSync(join(dir, 'out', 'runs', f), 'utf8')) as RunRecord;
          return [r.defense, r];
        }),
      );
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const before = records();
    expect(Object.keys(before).sort()).toEqual(['cli-pass', 'none']);
    for (const r of Object.values(before)) expect([r.status, r.attack]).toEqual(['ok', 'cli-dot']);

    appendFileSync(join(dir, 'conf', 'pass.ts'), '// edited\n');
    const second = run();
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/\[runner\] 2 runs, 1 already done, 1 to do/);
    const after = records();
    expect(after.none.provenance.codeVersion).toBe(before.none.provenance.codeVersion);
    expect(after['cli-pass'].provenance.codeVersion).not.toBe(before['cli-pass'].provenance.codeVersion);

    const missing = spawnSync(process.execPath, [MBB, 'run', '--profile', 'smoke', '--plugin', 'gone.ts'], { cwd: dir, encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe(`mbb: plugin ${join(dir, 'gone.ts')}: file not found; give --plugin (or the config's plugins) the path of a .ts or .js file, relative to the working directory (or to the config file)\n`);
  }, 240_000);
});
