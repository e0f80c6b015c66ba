import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');

/** Another project with the benchmark in its node_modules (a symlink, as `npm link` makes it) and @types/node. */
function consumerProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mbb-consumer-'));
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'mllm-backdoor-bench'));
  symlinkSync(dirname(require.resolve('@types/node/package.json')), join(dir, 'node_modules', '@types', 'node'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  writeFileSync(
    join(dir, 'consumer.ts'),
    `import { attacks, defenses, metrics, type Attack, type Defense } from 'mllm-backdoor-bench';
const badnets: Attack = attacks.getAttack('badnets');
const pcr: Defense = defenses.getDefense('pcr');
const auc: number = metrics.auroc([0.2, 0.9, 0.4], [false, true, false]);
console.log(JSON.stringify({ attack: badnets.id, defense: pcr.stage, auc, attacks: Object.keys(attacks.ATTACKS).length }));
`,
  );
  // A wrong use the types must catch: ids are strings.
  writeFileSync(join(dir, 'wrong.ts'), `import { attacks } from 'mllm-backdoor-bench';\nexport const n: number = attacks.getAttack('badnets').id;\n`);
  const tsconfig = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts', 'wrong.ts'] };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  return dir;
}

describe("the package's exports map", () => {
  const dir = consumerProject();

  it("imports { attacks, defenses, metrics } by the package's name and runs under tsx", () => {
    const tsx = import.meta.resolve('tsx');
    const r = spawnSync(process.execPath, ['--import', tsx, 'consumer.ts'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ attack: 'badnets', defense: 'training', auc: 1, attacks: expect.any(Number) });
  }, 60_000);

  it('gives tsc the types: the consumer checks clean, a wrong use is an error', () => {
    const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).toEqual([expect.stringMatching(/^wrong\.ts\(2,14\): error TS2322: Type 'string' is not assignable to type 'number'\.$/)]);
  }, 120_000);
});
