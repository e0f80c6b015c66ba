/**
 * The invocation log, `<out>/invocations.jsonl`: one JSON line per grid invocation (`mbb run`,
 * and each round of `mbb sweep` and `mbb calibrate`: harness/runner.ts runGrid writes it) with
 * the command as typed, the commit, start, end and wall time, the machine, and how many runs it
 * did or skipped. A grid can take several sessions (it resumes from its records and the stage
 * cache), so the results page sums the wall times and lists the distinct commands. An
 * interrupted session (SIGINT, SIGTERM, SIGHUP) still writes its line, with the signal, since
 * its time was spent. One killed outright (SIGKILL: a machine's session ending) cannot, so
 * after each finished run the invocation also appends a `running` line with its time and counts
 * so far; lines share the invocation's `id`, and the last one of an id stands for it. An id
 * whose last line is `running` ended without finishing (or is still running): its time is
 * counted up to its last finished run. Generated output, like the records: never committed.
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
  /** One invocation's lines share it (absent in logs written before progress lines). */
  id: z.string().optional(),
  /** A progress line: the invocation had not finished when it was written. */
  running: z.boolean().optional(),
});
export type Invocation = z.infer<typeof invocationSchema>;
export type RunCounts = Pick<Invocation, 'done' | 'failed' | 'skipped'>;

/** An invocation whose clock runs; `finish` appends its line. */
export interface OpenInvocation {
  commit?: string;
  /** After each finished run: a `running` line with the time and counts so far. */
  progress(counts: RunCounts): void;
  finish(counts: RunCounts, signal?: string): void;
}

/** Starts timing one invocation of the grid runner writing to `outDir`. */
export function startInvocation(outDir: string, commit: string | undefined, argv = process.argv.slice(2), now = () => new Date()): OpenInvocation {
  const start = now();
  const id = `${start.toISOString()}-${process.pid}`;
  const write = (counts: RunCounts, extra: Pick<Invocation, 'signal' | 'running'>) => {
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
      ...extra,
      id,
    };
    mkdirSync(outDir, { recursive: true });
    // One short append per line: no two writers interleave within a line.
    appendFileSync(join(outDir, INVOCATIONS_FILE), `${JSON.stringify(line)}\n`);
  };
  return {
    commit,
    progress: (counts) => write(counts, { running: true }),
    finish: (counts, signal) => write(counts, signal ? { signal } : {}),
  };
}

/**
 * The invocations logged in `outDir`, oldest first, each as the last line of its id; none when
 * the file is absent (runs made before the log existed).
 */
export function readInvocations(outDir: string): Invocation[] {
  const path = join(outDir, INVOCATIONS_FILE);
  if (!existsSync(path)) return [];
  const fix = 'delete that line (the log only feeds the results page header)';
  const lines = readFileSync(path, 'utf8')
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
  // A Map keeps each id where it first appeared; a later line of the id replaces the earlier.
  const byId = new Map<string, Invocation>();
  lines.forEach((line, i) => byId.set(line.id ?? `line ${i}`, line));
  return [...byId.values()];
}

/** An argument as a POSIX shell reads it back: bare when safe, else single-quoted. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line of an invocation, to paste into a shell at the repository's root. */
export function commandLine(argv: string[]): string {
  return ['mbb', ...argv.map(shellQuote)].join(' ');
}
