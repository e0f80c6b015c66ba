/**
 * Adaptive attackers against the defenses they are built to get past (attacks/types.ts
 * `adaptive`): per model, for each adaptive attack's row, each of its targeted defenses' columns
 * and the no-defense column, ASR on the adaptive attack minus ASR on its base attack under the
 * same column, paired by seed (the same pre-training; the poisoned splits differ only in how the
 * trigger is placed or shown). The base attack's row is the one of its id at the same
 * poisoning rate; without exactly one, the adaptive row is left out.
 *
 * A positive difference under a targeted defense means the adaptation got past it; the
 * no-defense column says whether the adaptive attack implants as well as its base to begin
 * with, so it is a family of its own. The targeted defenses of one model × adaptive attack form
 * one Holm family (docs/statistics.md). ASR shuffled goes along: it is what a view-invariant
 * backdoor (viewinv against PCR) changes.
 */
import { ATTACKS } from '../attacks/registry.js';
import type { RunRecord } from '../harness/core/record.js';
import { pairedComparison, type PairedComparison } from '../harness/metrics/stats.js';
import { BASELINE_DEFENSE, seedValues, type PaperTable, type Stat } from './aggregate.js';
import { holmWithin, verdictOf } from './comparisons.js';
import { attackId, poisonRate } from './recordFields.js';

export interface AdaptiveComparison {
  model: string;
  /** The adaptive attack's row label, and its base attack's. */
  attack: string;
  base: string;
  /** The column's label; `targeted` false for the no-defense column. */
  defense: string;
  targeted: boolean;
  /** Whether the adaptive attack implanted in this model (undefined without a no-defense column). */
  implanted?: boolean;
  /** ASR (%) over seeds, on the adaptive attack and on its base, under this column. */
  asr?: Stat;
  baseAsr?: Stat;
  /** ASR (%) on the patch-shuffled trigger, likewise. */
  shuffled?: Stat;
  baseShuffled?: Stat;
  /** ASR on the adaptive attack − ASR on its base, in points, paired by seed. */
  diff?: PairedComparison;
  pHolm: number;
  family: number;
  verdict: string;
}

/** How a comparison's column is named on the pages: the no-defense column says it is one. */
export const adaptiveColumnLabel = (a: Pick<AdaptiveComparison, 'defense' | 'targeted'>): string => (a.targeted ? a.defense : `${a.defense} (no defense)`);

export const ADAPTIVE_WORDS: [string, string] = ['lower than on the base attack', 'higher than on the base attack'];

/** Every attack's id and poisoning rate by row label (one record per label tells both). */
function rowAttacks(records: RunRecord[], task: string): Map<string, { id: string; rate?: number }> {
  const out = new Map<string, { id: string; rate?: number }>();
  for (const r of records) if (r.task === task && !out.has(r.attack)) out.set(r.attack, { id: attackId(r), rate: poisonRate(r) });
  return out;
}

export function adaptiveComparisons(t: PaperTable, records: RunRecord[]): AdaptiveComparison[] {
  const attacks = rowAttacks(records, t.task);
  const out: Omit<AdaptiveComparison, 'pHolm' | 'family' | 'verdict'>[] = [];
  for (const row of t.rows) {
    const me = attacks.get(row.attack);
    // An id the registry lacks (a plugin of another checkout: records outlive their code) declares nothing.
    const adaptive = me && ATTACKS[me.id]?.adaptive;
    if (!adaptive) continue;
    const bases = t.rows.filter((b) => {
      const other = attacks.get(b.attack);
      return other?.id === adaptive.base && other.rate === me.rate;
    });
    if (bases.length !== 1) continue;
    const base = bases[0];
    t.columns.forEach((col, i) => {
      const targeted = adaptive.against.includes(col.defense);
      if (!targeted && col.defense !== BASELINE_DEFENSE) return;
      const [cell, baseCell] = [row.cells[i], base.cells[i]];
      if (!cell.asr || !baseCell.asr) return; // a partial grid: nothing to pair yet
      out.push({
        model: col.model,
        attack: row.attack,
        base: base.attack,
        defense: col.label,
        targeted,
        implanted: cell.implanted,
        asr: cell.asr,
        baseAsr: baseCell.asr,
        shuffled: cell.asrShuffled,
        baseShuffled: baseCell.asrShuffled,
        diff: pairedComparison(seedValues(cell, 'asr'), seedValues(baseCell, 'asr')),
      });
    });
  }
  const adjusted = holmWithin(out, (c) => JSON.stringify([c.model, c.attack, c.targeted]), (c) => c.diff?.p ?? NaN);
  return out.map((c, i) => ({ ...c, ...adjusted[i], verdict: verdictOf(c.diff, adjusted[i].pHolm, ADAPTIVE_WORDS, adjusted[i].family) }));
}
