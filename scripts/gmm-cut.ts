/**
 * What `remove`'s `cut: 'gmm'` would drop from rankings already made: for each suspects file
 * (`suspects/<run>.<score>.csv`, written by runs whose defense scores its training examples),
 * the GMM cut (defenses/gmm1d.ts `lowerMode` at remove's GMM_SEPARATION) applied to its last
 * epoch's scores, with the separation of the two fitted modes, how many it drops and their
 * precision and recall against the `poisoned` column. And, as a stand-in for an unpoisoned
 * split, the same cut on the clean examples' scores alone (only a stand-in: the probe trained
 * with the poisons present). No training: it reads the files only.
 *
 * Usage: node --import tsx scripts/gmm-cut.ts SUSPECTS.csv...
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { lowerMode } from '../defenses/gmm1d.js';
import { GMM_SEPARATION } from '../defenses/remove.js';
import { removalQuality } from '../harness/run/suspects.js';

export interface Ranked {
  id: string;
  poisoned: boolean;
  /** Suspicion, higher = more suspect (the suspects files' convention: a loss is written negated). */
  score: number;
}

/** The fitted separation, and the dropped set's quality as a run record holds it (harness/run/suspects.ts; precision NaN when nothing is dropped). */
export type CutResult = { separation: number } & ReturnType<typeof removalQuality>;

/** The GMM cut on suspicion scores: the mode of the higher suspicion (remove's lower loss), when there are two. */
export function gmmCut(items: Ranked[]): CutResult {
  const cut = lowerMode(items.map((r) => -r.score), GMM_SEPARATION);
  return { separation: cut.separation, ...removalQuality(cut.members.map((i) => items[i].id), items) };
}

/** A suspects file's rows, its last epoch's score each; a file of another shape stops with its name. */
export function readSuspects(text: string, file: string): Ranked[] {
  const [head, ...lines] = text.trim().split('\n');
  const cols = head.split(',');
  if (cols[0] !== 'rank' || cols[1] !== 'id' || cols[2] !== 'poisoned' || !/^epoch /.test(cols.at(-1) ?? '')) {
    throw new Error(`${file}: not a suspects file (header "${head}"; expected rank,id,poisoned,epoch …, as mbb run writes under suspects/)`);
  }
  return lines.map((line, i) => {
    const c = line.split(',');
    const score = Number(c[cols.length - 1]);
    if (c.length !== cols.length || c[cols.length - 1] === '' || !Number.isFinite(score)) throw new Error(`${file}: line ${i + 2} has no finite last-epoch score`);
    return { id: c[1], poisoned: c[2] === '1', score };
  });
}

const fmt = (v: number) => (Number.isNaN(v) ? '—' : v.toFixed(3));

if (process.argv[1]?.endsWith('gmm-cut.ts')) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node --import tsx scripts/gmm-cut.ts SUSPECTS.csv...');
    process.exit(2);
  }
  console.log('| file | n | poisons | separation | dropped | precision | recall | clean only: separation | dropped |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const f of files) {
    const items = readSuspects(readFileSync(f, 'utf8'), f);
    const all = gmmCut(items);
    const clean = gmmCut(items.filter((r) => !r.poisoned));
    console.log(`| ${basename(f)} | ${items.length} | ${all.poisoned} | ${all.separation.toFixed(2)} | ${all.removed} | ${fmt(all.precision)} | ${fmt(all.recall)} | ${clean.separation.toFixed(2)} | ${clean.removed} |`);
  }
}
