/**
 * The invocation log, `<out>/invocations.jsonl`: one JSON line per grid invocation (`mbb run`,
 * and each round of `mbb sweep` and `mbb calibrate`: harness/runner.ts runGrid writes it) with
 * the command as typed, the commit, start, end and wall time, the machine, and how many runs it
 * did or skipped. A grid can take several sessions (it resumes from its records and the stage
 * cache), so the results page sums the wall times and lists the distinct commands. An
 * interrupted session (SIGINT, SIGTERM, SIGHUP) still writes its line, with the signal, since
 * its time was spent. Generated output, like the records: never committed.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../harness/core/errors.js';

export const INVOCATIONS_FILE = 'invocations.jsonl';

const count = z.number().int().nonnegative();
const invocationSchema = z.object({
  /** The arguments after `mbb`, as the shell passed them. */
  argv: z.array(z.string()),
  /** `git rev-parse HEAD` (`-dirty` with uncommitted tracked changes), as in the records; absent outside git. */
  commit: z.string().optional(),
  start: z.string(),
  end: z.string(),
  wallSeconds: z.number().nonnegative(),
  cpu: z.string(),
  cores: z.number().int().positive(),
  node: z.string(),
  done: count,
  failed: count,
  skipped: count,
  /** The signal that ended the invocation early. */
  signal: z.string().optional(),
});
export type Invocation = z.infer<typeof invocationSchema>;
export type RunCounts = Pick<Invocation, 'done' | 'failed' | 'skipped'>;

/** An invocation whose clock runs; `finish` appends its line. */
export interface OpenInvocation {
  commit?: string;
  finish(counts: RunCounts, signal?: string): void;
}

/** Starts timing one invocation of the grid runner writing to `outDir`. */
export function startInvocation(outDir: string, commit: string | undefined, argv = process.argv.slice(2), now = () => new Date()): OpenInvocation {
  const start = now();
  return {
    commit,
    finish(counts, signal) {
      const end = now();
      const line: Invocation = {
        argv,
        ...(commit ? { commit } : {}),
        start: start.toISOString(),
        end: end.toISOString(),
        wallSeconds: (end.getTime() - start.getTime()) / 1000,
        cpu: cpus()[0]?.model.trim() || 'unknown',
        cores: availableParallelism(),
        node: process.version,
        ...counts,
        ...(signal ? { signal } : {}),
      };
      mkdirSync(outDir, { recursive: true });
      // One short append per invocation: no two writers interleave within a line.
      appendFileSync(join(outDir, INVOCATIONS_FILE), `${JSON.stringify(line)}\n`);
    },
  };
}

/** The invocations logged in `outDir`, oldest first; none when the file is absent (runs made before the log existed). */
export function readInvocations(outDir: string): Invocation[] {
  const path = join(outDir, INVOCATIONS_FILE);
  if (!existsSync(path)) return [];
  const fix = 'delete that line (the log only feeds the results page header)';
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      if (!line.trim()) return [];
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch (e) {
        throw new UserError(`${path}:${i + 1}: not valid JSON (${(e as Error).message}); ${fix}`);
      }
      const r = invocationSchema.safeParse(json);
      if (!r.success) throw new UserError(`${path}:${i + 1}: not an invocation (${r.error.issues.map((x) => `${x.path.join('.') || 'line'}: ${x.message}`).join('; ')}); ${fix}`);
      return [r.data];
    });
}

/** An argument as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line of an invocation, to paste into a shell at the repository's root. */
export function commandLine(argv: string[]): string {
  return ['mbb', ...argv.map(shellQuote)].join(' ');
}
