/** The commit of the code that ran, for every record's provenance. */
import { execFileSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The commit of the code that ran, `-dirty` when tracked files differ from it (the numbers may
 * then not be reproducible from the commit alone); undefined outside a git checkout or without
 * git. Untracked files do not count: outputs, logs (Slurm's `slurm-*.out`) and scratch files
 * would otherwise mark every record dirty, while a new source file a run reaches is already in
 * its codeVersion. Read-only: --no-optional-locks keeps `status` from touching the index.
 */
export function gitCommit(dir = ROOT): string | undefined {
  const git = (...args: string[]) => execFileSync('git', ['--no-optional-locks', ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const head = git('rev-parse', 'HEAD').trim();
    const dirty = git('status', '--porcelain', '--untracked-files=no').trim() !== '';
    return `${head}${dirty ? '-dirty' : ''}`;
  } catch {
    return undefined;
  }
}

