/**
 * Paired comparisons of defenses (docs/statistics.md). For every model × attack of a task's
 * table, each defense against `none` and against `pcr`: the per-seed differences (same
 * pre-training, same poisoned split) of ASR in points and of the clean metric relative to the
 * reference, their means with 95% t-intervals, and exact two-sided sign-flip p-values,
 * Holm-corrected per question: the defenses compared with one reference on one metric, for one
 * model × attack. And the power line: from the observed seed sd of the paired ASR differences,
 * the seeds a 10- and a 20-point difference would need.
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

/**
 * The fewest seeds at which `m` exact two-sided sign-flip p-values, Holm-corrected together, can
 * fall below ALPHA: the smallest p is 2 / 2^n, and Holm multiplies it by m.
 */
export function seedsToResolve(m: number): number {
  return Math.floor(Math.log2((2 * m) / ALPHA)) + 1;
}

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
  /** How many ASR p-values share this one's Holm correction (its model × attack × reference, with paired seeds). */
  family: number;
  /** The same for the clean metric's p-values (equal to `family` unless some clean metric is missing). */
  cleanFamily: number;
  verdict: string;
}

/** "Lower"/"higher" where the Holm-corrected p is below 0.05, else "not resolved" (with why), in a Holm family of `family`. */
export function verdictOf(c: PairedComparison | undefined, pHolm: number, what: [string, string], family = 1): string {
  if (!c) return 'no paired seeds';
  if (pHolm < ALPHA) return c.mean < 0 ? what[0] : what[1];
  const need = seedsToResolve(family);
  if (c.n >= need) return 'not resolved';
  return `not resolved (n = ${c.n} < ${need} seeds cannot reach p < ${ALPHA}${family > 1 ? ` among ${family} comparisons` : ''})`;
}

/** The verdict, "not resolved" also where the 95% interval covers 0 (the sign-flip test and the t-interval can disagree). */
export function judged(m: PairedComparison | undefined, pHolm: number, words: [string, string], family = 1): string {
  const verdict = verdictOf(m, pHolm, words, family);
  if (!m || verdict.startsWith('not resolved')) return verdict;
  if (!m.ci || (m.ci.lo <= 0 && m.ci.hi >= 0)) return `not resolved (Holm p = ${fmtP(pHolm)}, but the 95% interval covers 0)`;
  return `resolved, ${verdict}`;
}

export function comparisons(t: PaperTable): Comparison[] {
  const out: Omit<Comparison, 'asrPHolm' | 'cleanPHolm' | 'family' | 'cleanFamily' | 'verdict'>[] = [];
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
  // One Holm family per question a reader asks of a row: which defenses differ from this
  // reference on this metric for this model × attack. Over the whole table (hundreds of
  // p-values) no comparison could pass at 10 seeds: 400 × 2/2¹⁰ = 0.78 (docs/statistics.md).
  const question = (c: (typeof out)[number]) => JSON.stringify([c.model, c.attack, c.reference]);
  const asrs = holmWithin(out, question, (c) => c.asr?.p ?? NaN);
  const cleans = holmWithin(out, question, (c) => c.clean?.p ?? NaN);
  return out.map((c, i) => {
    const asr = verdictOf(c.asr, asrs[i].pHolm, ['lower ASR', 'higher ASR'], asrs[i].family);
    const clean = verdictOf(c.clean, cleans[i].pHolm, ['lower clean', 'higher clean'], cleans[i].family);
    return { ...c, asrPHolm: asrs[i].pHolm, cleanPHolm: cleans[i].pHolm, family: asrs[i].family, cleanFamily: cleans[i].family, verdict: `ASR: ${asr}; clean: ${clean}` };
  });
}

/** Holm within each family (the items sharing `key`): each item's corrected p, and how many of its family have a p. */
export function holmWithin<T>(items: T[], key: (t: T) => string, p: (t: T) => number): { pHolm: number; family: number }[] {
  const families = new Map<string, number[]>();
  items.forEach((t, i) => {
    const k = key(t);
    const members = families.get(k);
    if (members) members.push(i);
    else families.set(k, [i]);
  });
  const out: { pHolm: number; family: number }[] = [];
  for (const members of families.values()) {
    const ps = members.map((i) => p(items[i]));
    const adjusted = holm(ps);
    const family = ps.filter(Number.isFinite).length;
    members.forEach((i, k) => (out[i] = { pHolm: adjusted[k], family }));
  }
  return out;
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
  // The largest Holm family sets the floor: below it, its comparisons cannot pass whatever the data.
  const m = Math.max(...withSpread.map((c) => c.family));
  const floor = seedsToResolve(m);
  const [seedsFor10, seedsFor20] = [10, 20].map((d) => Math.max(seedsForPower(sd, d), floor));
  const text =
    `Power: the paired ASR differences have a seed sd of ${sd.toFixed(1)} points (pooled over ${withSpread.length} comparison${withSpread.length > 1 ? 's' : ''} of implanted attacks). ` +
    `Detecting a 10-point ΔASR at 80% power needs ${seedsFor10} seeds, a 20-point one ${seedsFor20} (normal approximation, two-sided 5%; ` +
    `the exact sign-flip test, Holm-corrected over a question's ${m} comparison${m > 1 ? 's' : ''}, needs at least ${floor} seeds to reach p < 0.05 at all).`;
  return { sd, comparisons: withSpread.length, seedsFor10, seedsFor20, text };
}
