/**
 * What the runner (runner.ts) and its worker processes (worker.ts) share: the messages they
 * exchange over IPC, and where a run's outputs go (its record, its rankings of suspect
 * training examples), which both read or write. Neither side imports the other.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecord } from '../core/record.js';
import { runIdentity, type RunIdentity } from '../run/runIdentity.js';
import { refLabel, runId, type RunSpec } from '../run/runSpec.js';

/** Runner → worker: run this spec (with the provenance to add to its record), or exit. */
export type RunnerMessage = { type: 'run'; spec: RunSpec; provenance: RunProvenance } | { type: 'exit' };

/** Worker → runner: ready for a run, a stage's progress, the run's end (with which shared stages it loaded from the cache: the runner's ETA credits the others). */
export type WorkerMessage = { type: 'ready' } | { type: 'progress'; stage: string; detail?: string } | { type: 'done'; cached: RunRecord['cached'] } | { type: 'failed'; error: string };

/** What the runner adds to every record's provenance (orchestration facts, not results). */
export type RunProvenance = Pick<RunRecord['provenance'], 'gitCommit' | 'experimentHash' | 'seeds' | 'sourceVersion'>;

export function recordPath(outDir: string, id: string): string {
  return join(outDir, 'runs', `${id}.json`);
}

/** A run's ranking of its training examples by one suspicion score (harness/run/suspects.ts). */
export function suspectsPath(outDir: string, id: string, score: string): string {
  return join(outDir, 'suspects', `${id}.${score}.csv`);
}

/**
 * Whether a run is done, and if not, why: it is done when its record exists, finished, for the
 * same run inputs and the same code the run reaches (runIdentity.ts): not the experiment's, so
 * adding an attack, a defense or a seed to the grid, or editing a plugin this run does not use,
 * leaves it done. Any other status means the next invocation makes the run (again).
 */
export type RunStatus = 'done' | 'no record' | 'unreadable record' | 'failed' | 'inputs changed' | 'code changed';

/** The run's status, with its record where one could be read. */
export function runStatus(outDir: string, spec: RunSpec): { status: RunStatus; record?: RunRecord } {
  const p = recordPath(outDir, runId(spec));
  if (!existsSync(p)) return { status: 'no record' };
  let record: RunRecord;
  try {
    record = JSON.parse(readFileSync(p, 'utf8')) as RunRecord;
  } catch {
    return { status: 'unreadable record' };
  }
  if (record.status !== 'ok') return { status: 'failed', record };
  const id = runIdentity(spec);
  if (record.provenance?.configHash !== id.configHash) return { status: 'inputs changed', record };
  return { status: record.provenance.codeVersion === id.codeVersion ? 'done' : 'code changed', record };
}

export const isDone = (outDir: string, spec: RunSpec): boolean => runStatus(outDir, spec).status === 'done';

export function failedRecord(spec: RunSpec, error: string, extra: RunProvenance = {}): RunRecord {
  return {
    id: runId(spec),
    status: 'failed',
    error,
    task: spec.task,
    model: spec.model,
    attack: refLabel(spec.attack),
    defense: refLabel(spec.defense),
    defenseStage: '',
    seed: spec.seed,
    metrics: {},
    attackParams: spec.attack.params,
    defenseParams: spec.defense.params,
    target: '',
    poisonCount: 0,
    trainSize: 0,
    keys: {},
    cached: {},
    suspicion: {},
    timings: {},
    trainLog: {},
    examples: [],
    provenance: {
      backend: '',
      engineFixes: [],
      tfjs: '',
      node: process.version,
      ...identityOrUnknown(spec),
      date: new Date().toISOString(),
      ...extra,
    },
    config: spec,
  };
}

/** A failed run's identity, when it can be computed at all (its plugin may be what failed). */
function identityOrUnknown(spec: RunSpec): RunIdentity {
  try {
    return runIdentity(spec);
  } catch {
    return { configHash: '', codeVersion: '' };
  }
}

