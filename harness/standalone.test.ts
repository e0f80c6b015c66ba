/**
 * The repository stands alone: a clone with nothing beside it runs its tests and reads its
 * docs. No source, test, script or document may point outside it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..');
/**
 * What a file must not name: a path that leaves the repository (a sibling folder, a document
 * that exists only beside the clone) or an absolute path of the machine it was written on.
 * Built from parts, so that this file does not name them itself.
 */
const OUTSIDE = new RegExp([['\\.\\.', 'shared'].join('\\/'), ['design'.toUpperCase(), 'md'].join('\\.'), ['', 'work', ''].join('\\/')].join('|'));
const SKIP = new Set(['node_modules', '.git', '.cache', 'out', 'build']);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|mjs|md|hbs|json|py|sh)$/.test(name) || name === 'run' ? [p] : [];
  });
}

describe('the repository stands alone', () => {
  it('no file reaches outside the repository', () => {
    expect(OUTSIDE.test(['..', 'shared', 'x.json'].join('/'))).toBe(true); // the pattern can fail a file
    const offenders = files(ROOT)
      .filter((f) => !f.endsWith('package-lock.json'))
      .filter((f) => OUTSIDE.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it('every relative link of the README and docs/ resolves inside the repository', () => {
    const docs = [join(ROOT, 'README.md'), ...files(join(ROOT, 'docs'))];
    const broken: string[] = [];
    for (const doc of docs) {
      for (const m of readFileSync(doc, 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(m[1])) continue; // http:, mailto:
        const target = resolve(doc, '..', m[1]);
        if (!target.startsWith(ROOT) || !statSyncSafe(target)) broken.push(`${relative(ROOT, doc)} → ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

function statSyncSafe(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
