/**
 * A new attack or defense is one file and nothing else: in a copy of the repository, the
 * README's example attack (under a new id) and a retraining defense are each written as one
 * file of attacks/ or defenses/, and with no other change `mbb run` runs them, and the registry
 * tests (which iterate the registries) pass with them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from './core/record.js';

const ROOT = resolve(__dirname, '..');

/** The README's example attack (attacks/randomPatch.ts in full), under another id and export name. */
function readmeAttack(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Adding an attack'));
  const block = section.slice(section.indexOf('```ts\n') + 6, section.indexOf('```\n', section.indexOf('```ts\n') + 6));
  expect(block).toContain("id: 'randpatch'");
  return block.replace("id: 'randpatch'", "id: 'readme-example'").replace('export const randomPatch', 'export const readmeExample');
}

/** A retraining defense: probe a fresh model, drop what it fits best, retrain the pre-trained model on the rest. */
const FRESH_PROBE = `/**
 * \`fresh-probe\`: a freshly initialised model (ctx.freshModel) is fine-tuned on the possibly
 * poisoned split as a probe; the examples it fits best are dropped, and the pre-trained model
 * (ctx.restorePretrained, through retrain.ts) is fine-tuned on the rest.
 */
import { z } from 'zod';
import { probeDropRetrain } from './retrain.js';
import type { SftDefense } from './types.js';

const schema = z.object({ probeEpochs: z.number().int().min(1).default(1), dropFraction: z.number().gt(0).max(0.5).default(0.1) }).strict();
type Params = z.infer<typeof schema>;

export const freshProbe: SftDefense<Params> = {
  id: 'fresh-probe',
  stage: 'training',
  description: 'probe a fresh model, drop the examples it fits best, retrain the pre-trained model on the rest',
  schema,
  sft(p, ctx) {
    return probeDropRetrain(ctx, () => {
      const probe = ctx.freshModel();
      try {
        ctx.train(probe, ctx.examples, { epochs: p.probeEpochs, lr: ctx.lr });
        const losses = ctx.perSampleLoss(probe, ctx.examples);
        ctx.reportScores?.('fresh-probe.loss', 0, ctx.examples.map((e) => e.id), Array.from(losses, (l) => -l));
        const order = Array.from(losses.keys()).sort((a, b) => losses[a] - losses[b]);
        return order.slice(0, Math.max(1, Math.ceil(p.dropFraction * losses.length)));
      } finally {
        probe.params.dispose();
      }
    });
  },
};
`;

/** The repository's tracked files, copied; its installed packages and native build, linked. */
function copyOfRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mbb-onefile-'));
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      copyFileSync(join(ROOT, f), join(dir, f));
    } catch {
      // a tracked file deleted in this checkout
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(join(ROOT, 'harness', 'native', 'build'), join(dir, 'harness', 'native', 'build'));
  return dir;
}

describe('a plugin is one file', () => {
  it("the README's example attack and a retraining defense, each one new file, run with nothing else changed", () => {
    const copy = copyOfRepository();
    writeFileSync(join(copy, 'attacks', 'readmeExample.ts'), readmeAttack());
    writeFileSync(join(copy, 'defenses', 'freshProbe.ts'), FRESH_PROBE);

    const out = join(copy, 'out');
    const set = (kv: string) => ['--set', kv];
    const run = spawnSync(
      process.execPath,
      [
        join(copy, 'scripts', 'mbb.mjs'),
        'run',
        '--profile',
        'smoke',
        ...set('tasks=["caption"]'),
        ...set('attacks=[{"id":"readme-example","params":{"rate":0.1}}]'),
        ...set('defenses=[{"id":"fresh-probe"}]'),
        ...set('data={"nTrain":40,"nVal":4,"nTest":8}'),
        '--workers',
        '1',
        '--backend',
        'wasm',
        '--out',
        out,
        '--cache',
        join(copy, 'cache'),
      ],
      { cwd: copy, encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
    const rec = JSON.parse(readFileSync(join(out, 'runs', 'caption__llava__readme-example__fresh-probe__s1.json'), 'utf8')) as RunRecord;
    expect(rec.status).toBe('ok');
    expect(rec).toMatchObject({ attack: 'readme-example', defense: 'fresh-probe', defenseStage: 'training', poisonCount: 4 });
    expect(rec.removal).toMatchObject({ removed: 4, poisoned: 4 }); // scored against the ground truth the defense never saw
    expect(rec.suspicion['fresh-probe.loss']).toHaveLength(1);

    // The registry tests iterate the registries: they check the new plugins too, unchanged.
    const vitest = join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
    const tests = spawnSync(process.execPath, [vitest, 'run', '--reporter=verbose', 'attacks/registry.test.ts', 'defenses/registry.test.ts'], { cwd: copy, encoding: 'utf8' });
    expect(tests.status, tests.stdout + tests.stderr).toBe(0);
    expect(tests.stdout).toMatch(/readme-example/);
    expect(tests.stdout).toMatch(/fresh-probe/);
    rmSync(copy, { recursive: true, force: true }); // links removed, not followed
  });
});
