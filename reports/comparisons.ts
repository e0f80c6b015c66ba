/**
 * Paired comparisons of defenses (docs/statistics.md). For every model × attack of a task's
 * table, each defense against `none` and against `pcr`: the per-seed differences (same
 * pre-training, same poisoned split) of ASR in points and of the clean metric relative to the
 * reference, their means with 95% t-intervals, and exact two-sided sign-flip p-values,
 * Holm-corrected over every p of the table. And the power line: from the observed seed sd of
 * the paired ASR differences, the seeds a 10- and a 20-point difference would need.
 */
import { relativeCleanDrop } from '../harness/metrics/der.js';
import { differenceSummary, holm, pairedComparison, seedsForPower, type PairedComparison } from '../harness/metrics/stats.js';
import { BASELINE_DEFENSE, seedValues, type PaperTable } from './aggregate.js';
import { ALPHA } from './best.js';
import { fmtP } from './format.js';

/** The defense this benchmark is about: every other one is also compared with it. */
export const PCR_DEFENSE = 'pcr';

/** The references every defense is compared with, when the table has them. */
export const REFERENCES = [BASELINE_DEFENSE, PCR_DEFENSE];

/** The smallest n at which the exact two-sided sign-flip p can fall below 0.05 (2 / 2^6). */
export const MIN_SEEDS_FOR_SIGNIFICANCE = 6;

export interface Comparison {
  model: string;
  attack: string;
  defense: string;
  reference: string;
  /** Whether the attack implanted in this model (undefined without a baseline). */
  implanted?: boolean;
  /** Defense − reference ASR, in points. */
  asr?: PairedComparison;
  /** (clean_defense − clean_reference) / clean_reference: negative = the defense lost quality. */
  clean?: PairedComparison;
  asrPHolm: number;
  cleanPHolm: number;
  verdict: string;
}

/** "Lower"/"higher" where the Holm-corrected p is below 0.05, else "not resolved" (with why). */
export function verdictOf(c: PairedComparison | undefined, pHolm: number, what: [string, string]): string {
  if (!c) return 'no paired seeds';
  if (pHolm < ALPHA) return c.mean < 0 ? what[0] : what[1];
  return c.n < MIN_SEEDS_FOR_SIGNIFICANCE ? `not resolved (n = ${c.n} < ${MIN_SEEDS_FOR_SIGNIFICANCE} seeds cannot reach p < ${ALPHA})` : 'not resolved';
}

/** The verdict, "not resolved" also where the 95% interval covers 0 (the sign-flip test and the t-interval can disagree). */
export function judged(m: PairedComparison | undefined, pHolm: number, words: [string, string]): string {
  const verdict = verdictOf(m, pHolm, words);
  if (!m || verdict.startsWith('not resolved')) return verdict;
  if (!m.ci || (m.ci.lo <= 0 && m.ci.hi >= 0)) return `not resolved (Holm p = ${fmtP(pHolm)}, but the 95% interval covers 0)`;
  return `resolved, ${verdict}`;
}

export function comparisons(t: PaperTable): Comparison[] {
  const out: Omit<Comparison, 'asrPHolm' | 'cleanPHolm' | 'verdict'>[] = [];
  for (const row of t.rows) {
    for (const model of new Set(t.columns.map((c) => c.model))) {
      const cols = t.columns.map((c, i) => ({ c, cell: row.cells[i] })).filter(({ c }) => c.model === model);
      for (const reference of REFERENCES) {
        const ref = cols.find(({ c }) => c.defense === reference);
        if (!ref) continue;
        for (const { c, cell } of cols) {
          if (c.defense === reference) continue;
          // Each pair once: against pcr only the defenses other than none (none vs pcr is pcr vs none).
          if (reference !== BASELINE_DEFENSE && c.defense === BASELINE_DEFENSE) continue;
          // Relative clean change per seed (the negated relative drop): negative = quality lost.
          const cleanRel = [...cell.seeds].filter(([s]) => ref.cell.seeds.has(s)).map(([s, v]) => -relativeCleanDrop(ref.cell.seeds.get(s)!.clean, v.clean));
          out.push({
            model,
            attack: row.attack,
            defense: c.label,
            reference: ref.c.label,
            implanted: cell.implanted ?? ref.cell.implanted,
            asr: pairedComparison(seedValues(cell, 'asr'), seedValues(ref.cell, 'asr')),
            clean: differenceSummary(cleanRel),
          });
        }
      }
    }
  }
  const adjusted = holm(out.flatMap((c) => [c.asr?.p ?? NaN, c.clean?.p ?? NaN]));
  return out.map((c, i) => {
    const [asrPHolm, cleanPHolm] = [adjusted[2 * i], adjusted[2 * i + 1]];
    const asr = verdictOf(c.asr, asrPHolm, ['lower ASR', 'higher ASR']);
    const clean = verdictOf(c.clean, cleanPHolm, ['lower clean', 'higher clean']);
    return { ...c, asrPHolm, cleanPHolm, verdict: `ASR: ${asr}; clean: ${clean}` };
  });
}

export interface PowerLine {
  /** Pooled seed sd of the paired ASR differences (points), over the comparisons with n ≥ 2. */
  sd?: number;
  comparisons: number;
  seedsFor10?: number;
  seedsFor20?: number;
  text: string;
}

/** How many seeds the observed spread of paired ASR differences calls for (normal approximation). */
export function powerLine(cs: Comparison[]): PowerLine {
  const withSpread = cs.filter((c) => c.implanted !== false && c.asr && c.asr.n >= 2);
  const df = withSpread.reduce((a, c) => a + c.asr!.n - 1, 0);
  if (df === 0) return { comparisons: 0, text: 'Power: no comparison has two or more paired seeds; the seed-to-seed spread cannot be estimated.' };
  const sd = Math.sqrt(withSpread.reduce((a, c) => a + (c.asr!.n - 1) * c.asr!.sd ** 2, 0) / df);
  const [seedsFor10, seedsFor20] = [10, 20].map((d) => Math.max(seedsForPower(sd, d), MIN_SEEDS_FOR_SIGNIFICANCE));
  const text =
    `Power: the paired ASR differences have a seed sd of ${sd.toFixed(1)} points (pooled over ${withSpread.length} comparison${withSpread.length > 1 ? 's' : ''} of implanted attacks). ` +
    `Detecting a 10-point ΔASR at 80% power needs ${seedsFor10} seeds, a 20-point one ${seedsFor20} (normal approximation, two-sided 5%; ` +
    `the exact sign-flip test needs at least ${MIN_SEEDS_FOR_SIGNIFICANCE} seeds to reach p < 0.05 at all).`;
  return { sd, comparisons: withSpread.length, seedsFor10, seedsFor20, text };
}
