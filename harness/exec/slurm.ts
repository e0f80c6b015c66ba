/**
 * `mbb slurm`: a Slurm array job to submit as it is. One array task per slice (`mbb run
 * --shard i/n`), then a merge job that starts once every slice has ended. Everything the job
 * writes stays under the output folder:
 *
 *   DIR/shards/<i>/      each slice's records and shard.json
 *   DIR/slurm/           array.sbatch, merge.sbatch, submit.sh, and logs/ (Slurm's output)
 *   DIR/runs/, report    the merged records and their report
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExperimentConfig } from '../config/schema.js';
import { UserError } from '../core/errors.js';
import { chainKey, expandGrid } from '../plan/grid.js';
import { safeLabel } from '../run/runSpec.js';
import { validatePlugins } from '../plan/validate.js';
import { writeFileAtomic } from '../core/atomicFile.js';

export interface SlurmPlan {
  /** The experiment's name, for the job names. */
  name: string;
  shards: number;
  cpus: number;
  /** Absolute: the merged output, holding the slices and the Slurm files too. */
  outDir: string;
  /** Absolute: where the jobs run, so that relative paths in `runArgs` mean what they meant here. */
  workDir: string;
  /** The grid options every slice runs with (profile, config, --set, cache, backend), as typed. */
  runArgs: string[];
  /** Absolute paths of node and of scripts/mbb.mjs. */
  node: string;
  cli: string;
  /** sbatch --time of each slice, if given. */
  time?: string;
}

/** A word for sh and bash: as it is when it is plain, else single-quoted. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export const slurmDir = (outDir: string) => join(outDir, 'slurm');

/**
 * Slurm reads `#SBATCH` lines itself, without a shell: a path there cannot be quoted, and `%`
 * is its file-name pattern character. Refuse such folders instead of writing a job that fails.
 */
function checkDirective(path: string, option: string): void {
  if (/[\s%"'\\]/.test(path)) {
    throw new UserError(`${option} ${path}: Slurm's #SBATCH lines cannot hold a path with spaces, quotes, backslashes or %; choose a folder without them`);
  }
}

export function slurmFiles(p: SlurmPlan): Record<'array.sbatch' | 'merge.sbatch' | 'submit.sh', string> {
  checkDirective(p.outDir, '--out');
  checkDirective(p.workDir, 'the current folder');
  const logs = join(slurmDir(p.outDir), 'logs');
  const mbb = `exec ${shellWord(p.node)} ${shellWord(p.cli)}`;
  const array = [
    '#!/bin/bash',
    `# ${p.name}: slice $SLURM_ARRAY_TASK_ID of ${p.shards} of the grid per array task; submit with ${join(slurmDir(p.outDir), 'submit.sh')}.`,
    `#SBATCH --job-name=mbb-${p.name}`,
    `#SBATCH --array=0-${p.shards - 1}`,
    `#SBATCH --cpus-per-task=${p.cpus}`,
    ...(p.time ? [`#SBATCH --time=${p.time}`] : []),
    `#SBATCH --chdir=${p.workDir}`,
    // Without --error, stderr (progress, warnings, errors) goes to the same file.
    `#SBATCH --output=${logs}/%A_%a.out`,
    '# `exec`: the runner itself is the process Slurm signals (scancel, time limit). It stops its',
    '# workers at once and keeps every finished record, so the slice resumes when resubmitted;',
    '# npx and npm exec re-parent it or hold the signal, and it would train on after its CPUs',
    '# were given to the next task.',
    `${mbb} run ${p.runArgs.map(shellWord).join(' ')} --workers ${p.cpus} \\`,
    `  --shard $SLURM_ARRAY_TASK_ID/${p.shards} --out ${shellWord(join(p.outDir, 'shards'))}/$SLURM_ARRAY_TASK_ID`,
    '',
  ].join('\n');
  const merge = [
    '#!/bin/bash',
    `# ${p.name}: merges the slices' records into ${p.outDir} and writes its report.`,
    `#SBATCH --job-name=mbb-${p.name}-merge`,
    '#SBATCH --cpus-per-task=1',
    `#SBATCH --chdir=${p.workDir}`,
    `#SBATCH --output=${logs}/%j-merge.out`,
    // The parent folder, not a shell pattern: merge finds the slices by their shard.json.
    `${mbb} merge --out ${shellWord(p.outDir)} ${shellWord(join(p.outDir, 'shards'))}`,
    '',
  ].join('\n');
  const submit = [
    '#!/bin/sh',
    '# Submits the slices (all of them, or those listed: `submit.sh 2` or `submit.sh 0,2` re-runs',
    '# cancelled or failed ones, skipping their finished runs), then the merge. The merge waits',
    '# for every slice to end, whatever its state (afterany: with afterok a cancelled slice would',
    '# leave it pending forever), and stops naming the slices or runs still missing.',
    'set -e',
    `array=$(sbatch --parsable \${1:+--array=$1} ${shellWord(join(slurmDir(p.outDir), 'array.sbatch'))})`,
    `merge=$(sbatch --parsable --dependency=afterany:\${array%%;*} ${shellWord(join(slurmDir(p.outDir), 'merge.sbatch'))})`,
    `echo "array job \${array%%;*} (slices \${1:-0-${p.shards - 1}} of ${p.shards}), then merge job \${merge%%;*}; logs in ${logs}/"`,
    '',
  ].join('\n');
  return { 'array.sbatch': array, 'merge.sbatch': merge, 'submit.sh': submit };
}

/** Writes the three files (and the logs folder: Slurm does not create it) and returns their paths. */
export function writeSlurmFiles(p: SlurmPlan): string[] {
  const files = slurmFiles(p); // checks the paths before anything is written
  const dir = slurmDir(p.outDir);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  return Object.entries(files).map(([name, text]) => {
    const path = join(dir, name);
    writeFileAtomic(path, text);
    chmodSync(path, 0o755);
    return path;
  });
}

/** What `mbb slurm` was given (cli.ts). */
export interface SlurmOptions {
  profile: string;
  config?: string;
  set?: string[];
  shards: number;
  cpus: number;
  out?: string;
  cache: string;
  backend?: string;
  time?: string;
}

/**
 * The job for an experiment, checked before anything is submitted: its plugins, and that every
 * slice gets work (a chain is never split, so more slices than chains leave some empty).
 */
export function planSlurm(exp: ExperimentConfig, v: SlurmOptions): SlurmPlan {
  validatePlugins(exp);
  const runs = expandGrid(exp);
  const chains = new Set(runs.map(chainKey)).size;
  if (v.shards > chains) {
    throw new UserError(
      `--shards ${v.shards}: the grid has ${chains} chain(s) (runs sharing a pre-trained model) and a chain is never split, ` +
        `so ${v.shards - chains} slice(s) would get no work; use --shards ${chains} or fewer`,
    );
  }
  return {
    name: safeLabel(exp.name),
    shards: v.shards,
    cpus: v.cpus,
    outDir: resolve(v.out ?? `reports/out/${exp.name}`),
    workDir: process.cwd(),
    runArgs: [
      ...['--profile', v.profile],
      ...(v.config ? ['--config', resolve(v.config)] : []),
      ...(v.set ?? []).flatMap((s) => ['--set', s]),
      ...['--cache', resolve(v.cache)],
      ...(v.backend ? ['--backend', v.backend] : []),
    ],
    node: process.execPath,
    cli: fileURLToPath(new URL('../../scripts/mbb.mjs', import.meta.url)),
    time: v.time,
  };
}
