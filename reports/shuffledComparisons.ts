/**
 * The patch-shuffled trigger view against the intact trigger, per cell of a task's table
 * (`ASR shuffled`, harness/shuffledView.ts): the per-seed difference ASR shuffled − ASR in
 * points, paired by seed (one run, the same triggered items, only the patch layout differs),
 * its mean with 95% t-interval and exact sign-flip p, Holm-corrected within its column (one
 * model × defense: over the attacks), and the verdict by the rule of the paired comparisons
 * (docs/statistics.md). These p-values are families of their own: each asks whether a backdoor
 * needs its trigger's layout under one defense, not whether one defense beats another. A backdoor that keeps its
 * ASR on the intact trigger and loses it on the shuffled one was made view-dependent, not
 * removed (docs/defenses.md, "What was measured").
 */
import { pairedComparison, type PairedComparison } from '../harness/metrics/stats.js';
import { seedValues, type PaperTable, type Stat } from './aggregate.js';
import { holmWithin, verdictOf } from './comparisons.js';

export interface ShuffledComparison {
  model: string;
  attack: string;
  /** The table column's label (as Comparison.defense). */
  defense: string;
  /** Whether the attack implanted in this model (undefined without a baseline). */
  implanted?: boolean;
  /** ASR (%) on the intact and on the shuffled triggered inputs, over seeds. */
  intact?: Stat;
  shuffled: Stat;
  /** ASR shuffled − ASR, in points, paired by seed. */
  diff?: PairedComparison;
  pHolm: number;
  /** How many cells share this one's Holm correction (its column's, with a p). */
  family: number;
  verdict: string;
}

/** The words of a resolved difference, as the comparisons' verdicts say "lower ASR". */
export const SHUFFLED_WORDS: [string, string] = ['lower on the shuffled view', 'higher on the shuffled view'];

/** One comparison per cell that recorded `ASR shuffled`, in the table's row and column order. */
export function shuffledComparisons(t: PaperTable): ShuffledComparison[] {
  const out = t.rows.flatMap((row) =>
    t.columns.flatMap((col, i) => {
      const cell = row.cells[i];
      if (!cell.asrShuffled) return [];
      const diff = pairedComparison(seedValues(cell, 'asrShuffled'), seedValues(cell, 'asr'));
      return [{ model: col.model, attack: row.attack, defense: col.label, implanted: cell.implanted, intact: cell.asr, shuffled: cell.asrShuffled, diff }];
    }),
  );
  const adjusted = holmWithin(out, (c) => JSON.stringify([c.model, c.defense]), (c) => c.diff?.p ?? NaN);
  return out.map((c, i) => ({ ...c, ...adjusted[i], verdict: verdictOf(c.diff, adjusted[i].pHolm, SHUFFLED_WORDS, adjusted[i].family) }));
}
