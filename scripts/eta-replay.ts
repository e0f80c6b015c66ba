/**
 * How close the runner's ETA comes to the truth, replayed on an invocation that finished: its
 * records, in the order they were written, are fed one by one to what the runner computes, and
 * each ETA is set against the time the invocation really had left. Both ETAs: the work left at
 * the throughput so far (what the runner shows: Scheduler.remainingWork and workOf,
 * progress.ts remainingFromWork) and the mean run time × runs left (estimateRemaining, its
 * fallback). A run's time is the sum of its record's stage timings. No training: it reads the
 * records and the invocation log.
 *
 * Usage: node --import tsx scripts/eta-replay.ts OUT_DIR [INVOCATION_ID]
 * (default: of the invocations that finished without a signal, the one that did the most runs)
 */
import type { RunRecord } from '../harness/core/record.js';
import { estimateRemaining, remainingFromWork } from '../harness/exec/progress.js';
import { Scheduler } from '../harness/plan/schedule.js';
import { defenseStage, probesBackdoored } from '../harness/plan/validate.js';
import type { RunSpec } from '../harness/run/runSpec.js';
import { readInvocations, type Invocation } from '../reports/invocations.js';
import { readRecords } from '../reports/write.js';

/** One finished run's two ETAs and the truth, in seconds. */
export interface EtaPoint {
  finished: number;
  left: number;
  truth: number;
  work?: number;
  mean?: number;
}

/** The runner's ETAs after each of `records` (one invocation's, ordered by time written), which ran from `start` to `end` (ms). */
export function replayEta(records: RunRecord[], start: number, end: number, workers: number): EtaPoint[] {
  const specs = records.map((r) => r.config as RunSpec);
  const s = new Scheduler(specs, defenseStage, probesBackdoored);
  const durations: number[] = [];
  let credited = 0;
  return records.map((r, k) => {
    // The run's shared stages are settled (computed or loaded) once it has finished.
    s.progress(specs[k], 'eval');
    credited += s.workOf(specs[k], r.cached);
    s.finished(specs[k], true);
    durations.push(Object.values(r.timings).reduce((a, b) => a + b, 0));
    const t = Date.parse(r.provenance.date);
    const left = records.length - k - 1;
    return {
      finished: k + 1,
      left,
      truth: (end - t) / 1000,
      work: remainingFromWork(s.remainingWork(), credited, (t - start) / 1000),
      mean: estimateRemaining(durations, left, workers),
    };
  });
}

/** Median and 10th–90th percentiles of ETA / truth. */
function ratios(points: EtaPoint[], pick: (p: EtaPoint) => number | undefined): string {
  const xs = points.flatMap((p) => (pick(p) === undefined ? [] : [pick(p)! / p.truth])).sort((a, b) => a - b);
  const at = (q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))].toFixed(2);
  return `median ${at(0.5)}, 10–90% ${at(0.1)}–${at(0.9)}`;
}

function pickInvocation(invocations: Invocation[], id?: string): Invocation {
  const finished = invocations.filter((i) => !i.running && !i.signal && i.done > 0);
  const inv = id ? invocations.find((i) => i.id === id) : [...finished].sort((a, b) => b.done - a.done)[0];
  if (!inv) throw new Error(id ? `no invocation ${id} in the log` : 'no invocation finished without a signal: nothing to replay');
  if (inv.running || inv.signal) throw new Error(`invocation ${inv.id} did not finish (killed, or still running): its end is not the grid's, nothing to compare the ETA with`);
  return inv;
}

if (process.argv[1]?.endsWith('eta-replay.ts')) {
  const [dir, id] = process.argv.slice(2);
  if (!dir) {
    console.error('usage: node --import tsx scripts/eta-replay.ts OUT_DIR [INVOCATION_ID]');
    process.exit(2);
  }
  const inv = pickInvocation(readInvocations(dir), id);
  const [start, end] = [Date.parse(inv.start), Date.parse(inv.end)];
  const records = readRecords(dir)
    .filter((r) => r.status === 'ok' && Date.parse(r.provenance.date) > start && Date.parse(r.provenance.date) <= end)
    .sort((a, b) => Date.parse(a.provenance.date) - Date.parse(b.provenance.date));
  const workersArg = inv.argv.indexOf('--workers');
  const workers = workersArg >= 0 ? Number(inv.argv[workersArg + 1]) : inv.cores;
  const points = replayEta(records, start, end, workers);
  // The first few ETAs rest on one or two runs, and the last ones on seconds of truth.
  const judged = points.filter((p) => p.finished >= 5 && p.left > 20);
  console.log(`invocation ${inv.id} (${inv.argv.join(' ')}): ${records.length} runs, ${workers} workers, ${(inv.wallSeconds / 60).toFixed(0)} min`);
  console.log(`ETA / truth over ${judged.length} points (≥ 5 runs finished, > 20 left): work left ${ratios(judged, (p) => p.work)}; mean run time ${ratios(judged, (p) => p.mean)}`);
}
