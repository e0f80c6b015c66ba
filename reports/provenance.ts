/**
 * The report's provenance footer: what produced the numbers (backend, engine fixes, TF.js,
 * Node, how many code versions, git commit when recorded), over which config hashes and dates. Values
 * that differ between runs are all listed, since a mixed report is worth noticing.
 */
import type { RunRecord } from '../harness/core/record.js';
import { gitCommitOf } from './recordFields.js';

export interface Provenance {
  backends: string;
  fixes: string;
  tfjs: string;
  node: string;
  /** Distinct code versions: each run's hash of the code it reaches (harness/run/runIdentity.ts). */
  codeVersions: number;
  configHashes: number;
  /** ISO dates of the earliest and latest run, or '' without dated runs. */
  from: string;
  to: string;
  commits: string;
  /** Experiment hashes (records `mbb merge` may combine share one); '' when not recorded. */
  experiments: string;
}

const list = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => !!x))].join(', ');

export function provenanceOf(records: RunRecord[]): Provenance {
  // Failed runs carry little provenance (no backend); the successful ones describe the numbers.
  const ok = records.filter((r) => r.status === 'ok');
  const dates = records
    .map((r) => r.provenance?.date)
    .filter((d): d is string => !!d && !Number.isNaN(Date.parse(d)))
    .sort((a, b) => Date.parse(a) - Date.parse(b));
  return {
    backends: list(ok.map((r) => r.provenance.backend)),
    fixes: list(ok.flatMap((r) => r.provenance.engineFixes ?? [])) || 'none',
    tfjs: list(ok.map((r) => r.provenance.tfjs)),
    node: list(records.map((r) => r.provenance?.node)),
    codeVersions: new Set(records.map((r) => r.provenance?.codeVersion).filter(Boolean)).size,
    configHashes: new Set(records.map((r) => r.provenance?.configHash).filter(Boolean)).size,
    from: dates[0] ?? '',
    to: dates[dates.length - 1] ?? '',
    commits: list(records.map(gitCommitOf)),
    experiments: list(records.map((r) => r.provenance?.experimentHash)),
  };
}
