/**
 * "Best" marks of a paper table, claimed only where the seeds support them. In each row (an
 * attack that implanted) and for each model, among that model's columns (the no-defense
 * baseline included for ASR and the clean metric, as it is what a defense has to beat; the
 * defended columns for DER): the leader is the lowest mean ASR, the highest mean clean metric,
 * the highest mean DER. The leader is compared with the runner-up, paired by seed, by the exact
 * sign-flip test; the p-values of all the table's leader-vs-runner-up comparisons are
 * Holm-corrected together. A leader whose corrected p is below 0.05 is marked best; otherwise
 * the row is a tie for that metric, and the leader says so. The average row is not ranked:
 * its means pool attacks, not seeds. (docs/statistics.md)
 */
import { holm, pairedComparison } from '../harness/metrics/stats.js';
import { seedValues, type PaperTable } from './aggregate.js';

export type Mark = 'best' | 'tie' | '';

export interface BestMark {
  mark: Mark;
  /** Set on a best or tie cell: the runner-up's label and the Holm-corrected p of the gap. */
  runnerUp?: string;
  p?: number;
}

export interface BestMarks {
  asr: BestMark;
  clean: BestMark;
  der: BestMark;
}

export const ALPHA = 0.05;

export const BEST_CAPTION =
  'Bold green = best in its row among the same model\'s columns (lowest ASR, highest clean metric, highest DER), only where the gap to the runner-up is significant (paired by seed, exact sign-flip test, Holm-corrected over the table, p < 0.05); "tie" marks a leader that is not. Rows that did not implant are not ranked.';

/** The metrics a row is ranked by. */
type Metric = keyof BestMarks;
const LOWER_IS_BETTER: Record<Metric, boolean> = { asr: true, clean: false, der: false };

interface Contest {
  row: number;
  metric: Metric;
  leader: number;
  runnerUp: number;
  p: number;
}

/** Marks per row (same order as `t.rows`); the average row gets none. */
export function bestMarks(t: PaperTable): { rows: BestMarks[][] } {
  const contests: Contest[] = [];
  t.rows.forEach((row, r) => {
    if (!row.implanted) return;
    for (const model of new Set(t.columns.map((c) => c.model))) {
      for (const metric of ['asr', 'clean', 'der'] as const) {
        const idx = t.columns
          .map((c, i) => i)
          .filter((i) => t.columns[i].model === model && (metric !== 'der' || !t.columns[i].baseline))
          .filter((i) => row.cells[i].implanted !== false && Number.isFinite(row.cells[i][metric]?.mean));
        if (idx.length < 2) continue;
        const sign = LOWER_IS_BETTER[metric] ? 1 : -1;
        idx.sort((a, b) => sign * (row.cells[a][metric]!.mean - row.cells[b][metric]!.mean));
        const [leader, runnerUp] = idx;
        const cmp = pairedComparison(seedValues(row.cells[leader], metric), seedValues(row.cells[runnerUp], metric));
        contests.push({ row: r, metric, leader, runnerUp, p: cmp?.p ?? NaN });
      }
    }
  });
  const adjusted = holm(contests.map((c) => c.p));
  const none: BestMark = { mark: '' };
  const rows = t.rows.map(() => t.columns.map((): BestMarks => ({ asr: none, clean: none, der: none })));
  contests.forEach((c, k) => {
    const p = adjusted[k];
    rows[c.row][c.leader] = { ...rows[c.row][c.leader], [c.metric]: { mark: p < ALPHA ? 'best' : 'tie', runnerUp: t.columns[c.runnerUp].label, p } };
  });
  return { rows };
}
