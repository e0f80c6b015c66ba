import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { experimentSchema, layer, parseWith } from '../config/schema.js';
import { expandGrid } from '../plan/grid.js';
import { runId, safeLabel } from './runSpec.js';
import { PROFILES } from '../config/profiles.js';
import type { RunRecord } from '../core/record.js';
import { imageDecoderFor } from '../data/decoder.js';
import { stageCode } from './codeHash.js';
import { resolveRun, runIdentity } from './runIdentity.js';
import type { RunSpec } from './runSpec.js';
import { validatePlugins } from '../plan/validate.js';

const smoke = (over: Record<string, unknown>) => parseWith(experimentSchema, layer(PROFILES.smoke, over), 'test');
const ALONE = { tasks: ['caption'], attacks: [{ id: 'badnets' }], defenses: [{ id: 'none' }], seeds: [1] };
/** The same run inside a grid with two more attacks (one with a trigger word), two more defenses and a seed. */
const GRID = { tasks: ['caption'], attacks: [{ id: 'dualkey' }, { id: 'badnets' }, { id: 'trojvlm' }], defenses: [{ id: 'pcr' }, { id: 'none' }, { id: 'ft' }], seeds: [2, 1] };

describe('run identity: a run is a function of its own inputs', () => {
  it("is the same whatever the grid lists, and changes with the run's own settings and plugins", () => {
    const alone = expandGrid(smoke(ALONE))[0];
    const inGrid = expandGrid(smoke(GRID)).find((r) => runId(r) === runId(alone))!;
    expect(inGrid).toBeDefined();
    expect(runIdentity(inGrid)).toEqual(runIdentity(alone));
    // Labels name runs; they are not inputs.
    expect(runIdentity({ ...alone, attack: { ...alone.attack, label: 'corner square' } })).toEqual(runIdentity(alone));
    // What the run reads does count.
    const longer = expandGrid(smoke({ ...ALONE, sft: { epochs: 2 } }))[0];
    expect(runIdentity(longer).configHash).not.toBe(runIdentity(alone).configHash);
    expect(runIdentity({ ...alone, seed: 2 }).configHash).not.toBe(runIdentity(alone).configHash);
    expect(runIdentity({ ...alone, attack: { id: 'badnets', params: { rate: 0.1 } } }).configHash).not.toBe(runIdentity(alone).configHash);
    // The code: a run of another attack reaches other code; none and ft share their SFT code.
    const sig = { ...alone, attack: { id: 'sig', params: {} } };
    expect(runIdentity(sig).codeVersion).not.toBe(runIdentity(alone).codeVersion);
    const ft = { ...alone, defense: { id: 'ft', params: {} } };
    const pcr = { ...alone, defense: { id: 'pcr', params: {} } };
    expect(stageCode('sft', resolveRun(ft))).toBe(stageCode('sft', resolveRun(alone)));
    expect(stageCode('sft', resolveRun(pcr))).not.toBe(stageCode('sft', resolveRun(alone)));
    expect(stageCode('pretrain', resolveRun(sig))).toBe(stageCode('pretrain', resolveRun(pcr)));
  });

  it('counts the image decoder for datasets read from files, not for the generated ShapesWorld', () => {
    expect(imageDecoderFor({ kind: 'shapes' } as RunSpec['exp']['data'])).toBeUndefined();
    expect(['sharp', 'js']).toContain(imageDecoderFor({ kind: 'coco' } as RunSpec['exp']['data']));
  });

  it('hostile labels become safe run ids; labels that map to one id are refused by name before any work', () => {
    expect(safeLabel('pcr w/o aug')).toBe('pcr_w_o_aug');
    expect(safeLabel('x/../../../ESCAPED')).toBe('x_ESCAPED');
    expect(safeLabel('..')).toBe('');
    expect(safeLabel('<script>alert(1)</script>')).toBe('script_alert_1_script');
    expect(safeLabel('=HYPERLINK("http://x")')).toBe('HYPERLINK_http_x');
    expect(safeLabel('tab\there\u0000nul\nline')).toBe('tab_here_nul_line');
    expect(safeLabel('blended@0.1')).toBe('blended@0.1'); // safe labels keep their ids
    for (const label of ['/', '..', '<script>x</script>', '=1+1', 'a/b', '../../etc/passwd', 'x__y']) {
      const id = runId({ ...expandGrid(smoke(ALONE))[0], defense: { id: 'none', params: {}, label } });
      expect(id).not.toMatch(/[/\\<>\u0000-\u001f]|\.\./);
      expect(id.split('__')).toHaveLength(5);
    }
    const defenses = (...labels: string[]) => smoke({ ...ALONE, defenses: labels.map((label) => ({ id: 'none', label })) });
    expect(() => validatePlugins(defenses('a/b', 'a b'))).toThrow(/defenses\[0\] and defenses\[1\] have labels "a\/b" and "a b", which both name their runs "a_b"; give one a distinct "label"/);
    expect(() => validatePlugins(defenses('..'))).toThrow(/defenses\[0\]\.label "\.\." has no letter or digit/);
    expect(() => validatePlugins(defenses('/'))).toThrow(/defenses\[0\]\.label "\/" has no letter or digit/);
    expect(() => validatePlugins(defenses('<script>', '=1+1'))).not.toThrow();
  });
});

/**
 * The runner in a copy of the repository, so that the test can add a plugin file and edit
 * another without touching the working tree: what is done stays done, what is cached stays
 * cached, and only the runs the change reaches are recomputed.
 */
describe('adding or editing a plugin recomputes only the runs it reaches (runner, in a copy of the repository)', () => {
  it('a new attack file recomputes no stage or record of the others; editing pcr.ts keeps the backdoored models of none and ft', () => {
    const root = resolve(__dirname, '../..');
    const copy = mkdtempSync(join(tmpdir(), 'mbb-copy-'));
    for (const d of ['harness', 'models', 'attacks', 'defenses', 'reports', 'scripts']) cpSync(join(root, d), join(copy, d), { recursive: true });
    for (const f of ['package.json', 'tsconfig.json']) cpSync(join(root, f), join(copy, f));
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const out = join(copy, 'out');
    const cache = join(copy, 'cache');
    const run = (attacks: string[]) => {
      const r = spawnSync(
        process.execPath,
        [
          join(copy, 'scripts/mbb.mjs'),
          'run',
          '--profile',
          'smoke',
          '--set',
          'tasks=["caption"]',
          '--set',
          `attacks=${JSON.stringify(attacks.map((id) => ({ id })))}`,
          '--set',
          'defenses=[{"id":"none"},{"id":"ft"},{"id":"pcr"}]',
          '--set',
          'data.nTrain=80',
          '--set',
          'data.nTest=10',
          '--set',
          'data.nVal=10',
          '--out',
          out,
          '--cache',
          cache,
          '--workers',
          '1',
          '--backend',
          'wasm',
        ],
        { cwd: copy, encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      return r.stderr;
    };
    const records = () => Object.fromEntries(readdirSync(join(out, 'runs')).map((f) => [f, readFileSync(join(out, 'runs', f), 'utf8')]));
    const entries = (stage: string) => readdirSync(join(cache, stage)).sort();
    const record = (f: string) => JSON.parse(readFileSync(join(out, 'runs', f), 'utf8')) as RunRecord;

    expect(run(['badnets'])).toMatch(/3 runs, 0 already done, 3 to do/);
    const before = records();
    const [pretrain, backdoored, defended] = [entries('pretrain'), entries('backdoored'), entries('defended')];
    expect([pretrain.length, backdoored.length, defended.length]).toEqual([1, 1, 2]); // ft's repair, pcr's SFT

    // A seventh attack, one file, with a trigger word the data lacks.
    const src = readFileSync(join(copy, 'attacks/randomPatch.ts'), 'utf8');
    const added = src.replace("id: 'randpatch',", "id: 'randpatch2',\n  vocabulary: () => ['zyzzyva'],").replace('export const randomPatch:', 'export const randomPatch2:');
    expect(added).toContain("'zyzzyva'");
    writeFileSync(join(copy, 'attacks/randomPatch2.ts'), added);
    expect(run(['badnets', 'randpatch2'])).toMatch(/6 runs, 3 already done, 3 to do/);
    const after = records();
    for (const [f, text] of Object.entries(before)) expect(after[f], f).toBe(text);
    expect(entries('pretrain')).toEqual(pretrain); // the new word took a reserved slot: same pre-training
    expect(entries('backdoored').filter((k) => !backdoored.includes(k))).toHaveLength(1);
    expect(record('caption__llava__randpatch2__none__s1.json').cached.pretrain).toBe(true);

    // Editing PCR re-runs PCR's runs only, on the same pre-trained and backdoored models.
    appendFileSync(join(copy, 'defenses/pcr.ts'), '\n// an edit\n');
    expect(run(['badnets', 'randpatch2'])).toMatch(/6 runs, 4 already done, 2 to do/);
    const edited = records();
    for (const [f, text] of Object.entries(after)) if (!f.includes('__pcr__')) expect(edited[f], f).toBe(text);
    expect(entries('pretrain')).toEqual(pretrain);
    expect(entries('backdoored')).toHaveLength(2);
    const redone = record('caption__llava__badnets__pcr__s1.json');
    expect(redone.cached).toEqual({ pretrain: true, sft: false });
    expect(redone.provenance.codeVersion).not.toBe(JSON.parse(after['caption__llava__badnets__pcr__s1.json']).provenance.codeVersion);
  });
});
