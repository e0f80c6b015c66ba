import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepChart } from './charts/sweep.js';
import { readSweep, SWEEP_FILE, type SweepPoint } from './sweep.js';

const point: SweepPoint = { knob: 'lambdaCv', value: 2, params: { lambdaCv: 2 }, task: 'caption', valAsr: 0.7, valClean: 2.2, chosen: true };

function dirWith(content: string | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-'));
  if (content !== undefined) {
    mkdirSync(join(dir, 'sweep'));
    writeFileSync(join(dir, SWEEP_FILE), content);
  }
  return dir;
}

describe('sweep file', () => {
  it('is optional', () => {
    expect(readSweep(dirWith(undefined))).toBeUndefined();
  });

  it('reads an array of points, numbers and strings as values', () => {
    const pts = [point, { ...point, value: 'shuffle', knob: 'ops', chosen: false }];
    expect(readSweep(dirWith(JSON.stringify(pts)))).toEqual(pts);
  });

  it('reads a NaN value (null in JSON) as NaN, and the chart skips that point', () => {
    const pts = readSweep(dirWith(JSON.stringify([point, { ...point, value: 4, valAsr: null, chosen: false }])))!;
    expect(pts[1].valAsr).toBeNaN();
    const svg = sweepChart('lambdaCv', 'caption', pts);
    expect(svg.match(/class="point"/g)).toHaveLength(3); // 2 clean points, 1 ASR point
    expect(svg).not.toContain('NaN');
  });

  it('refuses a percent ASR, a missing field and bad JSON, naming the file and field', () => {
    const dir = dirWith(JSON.stringify([{ ...point, valAsr: 70 }]));
    expect(() => readSweep(dir)).toThrow(new RegExp(`sweep\\.json.*valAsr`));
    const { chosen: _c, ...noChosen } = point;
    expect(() => readSweep(dirWith(JSON.stringify([noChosen])))).toThrow(/chosen/);
    expect(() => readSweep(dirWith('{oops'))).toThrow(/sweep\.json: not valid JSON/);
  });
});
