import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitCommit } from './gitCommit.js';

describe("a record's git commit", () => {
  it('is marked -dirty by changes to tracked files only, not by untracked files (logs, outputs)', () => {
    const repo = mkdtempSync(join(tmpdir(), 'mbb-git-'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' });
    git('init', '-q');
    writeFileSync(join(repo, 'code.ts'), 'export const a = 1;\n');
    git('add', 'code.ts');
    git('commit', '-q', '-m', 'code');
    const head = git('rev-parse', 'HEAD').trim();
    expect(gitCommit(repo)).toBe(head);
    // What a Slurm job leaves in the submission folder, and an untracked output folder.
    writeFileSync(join(repo, 'slurm-12_3.out'), 'log\n');
    mkdirSync(join(repo, 'out'));
    writeFileSync(join(repo, 'out', 'run.json'), '{}');
    expect(gitCommit(repo)).toBe(head);
    appendFileSync(join(repo, 'code.ts'), 'export const b = 2;\n');
    expect(gitCommit(repo)).toBe(`${head}-dirty`);
  });

  it('is absent outside a git checkout', () => {
    expect(gitCommit(mkdtempSync(join(tmpdir(), 'mbb-nogit-')))).toBeUndefined();
  });
});
