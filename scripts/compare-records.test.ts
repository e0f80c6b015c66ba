import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACROSS_GRIDS, compareDirs, differences, EXCLUDED, excludedBy } from './compare-records.js';

const record = (over: Record<string, unknown> = {}) => ({
  id: 'r',
  metrics: { ASR: 0.5 },
  keys: { sft: 'k1' },
  timings: { sft: 1 },
  trainLog: { sft: [{ epoch: 0, loss: 1, seconds: 2, numTensors: 3 }] },
  provenance: { codeVersion: 'c1', configHash: 'h1', date: 'd1', gitCommit: 'g1' },
  ...over,
});

describe('compare-records', () => {
  it('ignores code hashes, commits, dates and timings, and nothing else', () => {
    const a = record();
    const b = record({
      keys: { sft: 'k2' },
      timings: { sft: 9 },
      trainLog: { sft: [{ epoch: 0, loss: 1, seconds: 7, numTensors: 3 }] },
      provenance: { codeVersion: 'c2', configHash: 'h1', date: 'd2', gitCommit: 'g2' },
    });
    expect(differences(a, b)).toEqual([]);
    expect(differences(a, record({ metrics: { ASR: 0.6 } }))).toEqual(['metrics.ASR: 0.5 ≠ 0.6']);
    expect(differences(a, record({ trainLog: { sft: [{ epoch: 0, loss: 1.5, seconds: 2, numTensors: 3 }] } }))).toEqual(['trainLog.sft.0.loss: 1 ≠ 1.5']);
    expect(differences(a, record({ provenance: { ...a.provenance, configHash: 'h2' } }))).toEqual(['provenance.configHash: "h1" ≠ "h2"']);
    expect(differences(a, record({ extra: 1 }))).toEqual(['extra: undefined ≠ 1']);
  });

  it('across grids, also ignores what describes the invocation, and still compares the run inputs and results', () => {
    const base = record();
    const a = record({ config: { exp: { seeds: [1, 2, 3] } }, cached: { sft: true }, provenance: { ...base.provenance, experimentHash: 'e1', seeds: { run: 1, experiment: [1, 2, 3] } } });
    const b = record({
      config: { exp: { seeds: [1] } },
      cached: { sft: false },
      trainLog: { sft: [{ epoch: 0, loss: 1, seconds: 2, numTensors: 9 }] },
      provenance: { ...a.provenance, experimentHash: 'e2', seeds: { run: 1, experiment: [1] } },
    });
    expect(differences(a, b).map((d) => d.split(':')[0])).toEqual([
      'cached.sft',
      'config.exp.seeds.1',
      'config.exp.seeds.2',
      'provenance.experimentHash',
      'provenance.seeds.experiment.1',
      'provenance.seeds.experiment.2',
      'trainLog.sft.0.numTensors',
    ]);
    const across = (x: unknown, y: unknown) => differences(x, y, [], excludedBy([...EXCLUDED, ...ACROSS_GRIDS]));
    expect(across(a, b)).toEqual([]);
    expect(across(a, { ...b, metrics: { ASR: 0.6 } })).toEqual(['metrics.ASR: 0.5 ≠ 0.6']);
    expect(across(a, { ...b, provenance: { ...b.provenance, configHash: 'h2' } })).toEqual(['provenance.configHash: "h1" ≠ "h2"']);
  });

  it('compares the records two output directories share and lists the others', () => {
    const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'mbb-compare-')));
    for (const d of dirs) mkdirSync(join(d, 'runs'));
    writeFileSync(join(dirs[0], 'runs', 'same.json'), JSON.stringify(record()));
    writeFileSync(join(dirs[1], 'runs', 'same.json'), JSON.stringify(record({ timings: { sft: 5 } })));
    writeFileSync(join(dirs[0], 'runs', 'moved.json'), JSON.stringify(record()));
    writeFileSync(join(dirs[1], 'runs', 'moved.json'), JSON.stringify(record({ metrics: { ASR: 1 } })));
    writeFileSync(join(dirs[1], 'runs', 'new.json'), JSON.stringify(record()));
    const c = compareDirs(dirs[0], dirs[1]);
    expect(c).toMatchObject({ compared: 2, equal: 1, onlyIn: { a: [], b: ['new.json'] } });
    expect(c.different).toEqual([{ file: 'moved.json', diffs: ['metrics.ASR: 0.5 ≠ 1'] }]);
  });

  it('names a folder without runs/ instead of comparing nothing', () => {
    const out = mkdtempSync(join(tmpdir(), 'mbb-compare-'));
    mkdirSync(join(out, 'runs'));
    expect(() => compareDirs(out, join(out, 'runs'))).toThrow(`${join(out, 'runs')} has no runs/ folder: pass the output directory that holds runs/ (mbb run's --out), not runs/ itself`);
  });
});
