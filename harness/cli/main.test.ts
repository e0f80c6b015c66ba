import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closest } from '../core/errors.js';
import { PROFILE_NAMES } from './options.js';
import { experimentSchema, keysAt, MAX_WORKERS } from '../config/schema.js';
import { PROFILES } from '../config/profiles.js';

const MBB = resolve(__dirname, '../../scripts/mbb.mjs');
const mbb = (...args: string[]) => spawnSync(process.execPath, [MBB, ...args], { encoding: 'utf8' });

describe('mbb command line', () => {
  it('has --help for every command, mbb help <command>, and --version', () => {
    for (const [command, option] of [
      ['run', '--shard'],
      ['sweep', '--vary'],
      ['calibrate', '--rates'],
      ['report', '--title'],
      ['merge', '--allow-missing'],
      ['estimate', '--from'],
      ['score', '--annotations'],
      ['predict', '--checkpoint'],
      ['slurm', '--shards'],
    ]) {
      const r = mbb(command, '--help');
      expect(r.status, command).toBe(0);
      expect(r.stdout).toContain(`Usage: mbb ${command}`);
      expect(r.stdout).toContain(option);
    }
    expect(mbb('help', 'calibrate').stdout).toContain('--min-asr');
    expect(mbb('--version').stdout.trim()).toBe(JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')).version);
    expect(mbb().stdout).toContain('Commands:');
  });

  it('suggests the nearest command, option and config key; usage errors exit 2 in one line', () => {
    const cmd = mbb('rnu');
    expect(cmd.status).toBe(2);
    expect(cmd.stderr).toMatch(/unknown command 'rnu'\n\(Did you mean run\?\)/);
    expect(mbb('run', '--profle', 'smoke').stderr).toMatch(/unknown option '--profle'\n\(Did you mean --profile\?\)/);
    const profile = mbb('run', '--profile', 'smok');
    expect(profile.status).toBe(2);
    expect(profile.stderr).toMatch(/Allowed choices are smoke, default, paper/);
    const key = mbb('run', '--set', 'sft.epoch=3');
    expect(key.status).toBe(2);
    expect(key.stderr.trim().split('\n')).toHaveLength(1);
    expect(key.stderr).toMatch(/sft: unknown key "epoch" \(did you mean "epochs"\?\)/);
    expect(mbb('run', '--profile', 'smoke', '--set', 'attacks=[{"id":"badnet"}]').stderr).toMatch(/unknown attack "badnet" \(did you mean "badnets"\?\)/);
  });

  it('run --dry-run: the summary on stderr, each run to do on stdout, no output folder', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mbb-dry-cli-')), 'out');
    const r = mbb('run', '--profile', 'smoke', '--set', 'tasks=["vqa"]', '--set', 'attacks=[{"id":"sig"}]', '--set', 'defenses=[{"id":"none"},{"id":"ft"}]', '--out', out, '--dry-run');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('[dry run] 2 runs: 0 done, 2 to do (2 no record); nothing was run or written\n');
    expect(r.stdout).toBe('vqa__llava__sig__none__s1\tno record\nvqa__llava__sig__ft__s1\tno record\n');
    expect(existsSync(out)).toBe(false);
  });

  it('bounds --workers as the config does, on run and estimate alike', () => {
    for (const command of ['run', 'estimate']) {
      const r = mbb(command, '--workers', '1000');
      expect(r.status, command).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`'--workers <n>' argument '1000' is invalid. expected a whole number from 1 to ${MAX_WORKERS}`));
    }
    expect(experimentSchema.safeParse({ workers: MAX_WORKERS + 1 }).success).toBe(false);
    expect(experimentSchema.safeParse({ workers: MAX_WORKERS }).success).toBe(true);
  });

  it('lists the profiles without loading them, and they are the ones defined', () => {
    expect(PROFILE_NAMES).toEqual(Object.keys(PROFILES));
  });
});

describe('suggestions', () => {
  it('finds the schema keys at a path and the nearest one to a typo', () => {
    expect(keysAt(experimentSchema, ['sft'])).toEqual(['epochs', 'batchSize', 'lr', 'schedule', 'warmup']);
    expect(keysAt(experimentSchema, ['nope'])).toEqual([]);
    expect(closest('modle', ['model', 'models'])).toBe('model'); // a transposition counts once
    expect(closest('epoch', ['epochs', 'lr'])).toBe('epochs');
    expect(closest('zebra', ['epochs', 'lr'])).toBeUndefined();
  });
});
