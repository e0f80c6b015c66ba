import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lineColumn, loadConfigFile, parseConfigText } from './file.js';

const MBB = resolve(__dirname, '../../scripts/mbb.mjs');

describe('config files', () => {
  it('reads YAML and JSON into the same object', () => {
    const yaml = 'name: sweep\nseeds: [1, 2]\nsft:\n  epochs: 4\nattacks:\n  - id: badnets\n    params: { rate: 0.1 }\n';
    const json = '{"name":"sweep","seeds":[1,2],"sft":{"epochs":4},"attacks":[{"id":"badnets","params":{"rate":0.1}}]}';
    const want = { name: 'sweep', seeds: [1, 2], sft: { epochs: 4 }, attacks: [{ id: 'badnets', params: { rate: 0.1 } }] };
    expect(parseConfigText(yaml, 'a.yaml')).toEqual(want);
    expect(parseConfigText(yaml, 'a.YML')).toEqual(want);
    expect(parseConfigText(json, 'a.json')).toEqual(want);
  });

  it('names the file, line and column of a YAML syntax error, on one line', () => {
    const text = 'name: x\nsft:\n  epochs: 4\n attacks: [1, 2\n';
    expect(() => parseConfigText(text, 'exp.yaml')).toThrow(/^config exp\.yaml:4:\d+: YAML syntax error: [^\n]+$/);
    expect(() => parseConfigText('a: 1\na: 2\n', 'dup.yml')).toThrow(/^config dup\.yml:2:1: YAML syntax error: Map keys must be unique$/);
  });

  it('names the line of a JSON syntax error when the parser gives its position', () => {
    expect(() => parseConfigText('{\n "a": 1\n "b": 2}', 'x.json')).toThrow(/^config x\.json:3:2: not valid JSON: /); // where "b" stands instead of a comma
  });

  it('refuses a file that is not a mapping, and unknown extensions', () => {
    expect(() => parseConfigText('- 1\n- 2\n', 'l.yaml')).toThrow(/config l\.yaml: expected a mapping .* got a list/);
    expect(() => parseConfigText('', 'e.yaml')).toThrow(/got nothing/);
    expect(() => parseConfigText('a = 1', 'c.toml')).toThrow(/unknown extension "\.toml"; name the file \*\.json, \*\.yaml or \*\.yml/);
    expect(() => loadConfigFile('/nonexistent/exp.yaml', 'exp.yaml')).toThrow(/^--config exp\.yaml: file not found$/);
  });

  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, col: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, col: 2 });
  });

  it('is what `mbb run --config` reads, with --set layered over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mbb-cfg-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'sft:\n  epochs: 4\n   lr: 0.1\n');
    const r = spawnSync(process.execPath, [MBB, 'run', '--config', bad, '--out', dir], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`config ${bad}:2:\\d+: YAML syntax error: `)); // "epochs: 4" cannot take a nested key
    // A valid file whose value the schema refuses: the error names the file and the field;
    // --set overrides the file (epochs=-2 beats the file's 4, so that is what is reported).
    const good = join(dir, 'exp.yaml');
    writeFileSync(good, 'sft:\n  epochs: 4\n');
    const s = spawnSync(process.execPath, [MBB, 'run', '--config', good, '--set', 'sft.epochs=-2', '--out', dir], { encoding: 'utf8' });
    expect(s.status).toBe(2);
    expect(s.stderr).toMatch(new RegExp(`config ${good}: sft\\.epochs: .*got -2`));
  });
});
