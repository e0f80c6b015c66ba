/**
 * The short answer to each of the results page's first three questions ((d) has one sentence
 * per adaptive attacker and defense, short already), ahead of the sentence per comparison that
 * reports/findings.ts writes: counts and medians over a task's implanted attacks,
 * computed from the same paired comparisons, shuffled-view comparisons and detection rows. With
 * sixteen defenses × eight attacks the per-comparison list runs to a hundred lines a question;
 * a reader first wants how often, how much, and where a difference is resolved.
 * - A median is over attacks, of each attack's mean over seeds; "from a to b" gives its range.
 * - "Resolved" is the findings' rule (`judged`): Holm-corrected p < 0.05 and a 95% interval
 *   that excludes 0. With fewer than 6 seeds nothing can be, and the sentences say so.
 * - Comparisons are grouped by model, so a table of several families says each one's.
 */
import { median, type PairedComparison } from '../harness/metrics/stats.js';
import { BASELINE_DEFENSE, columnIs, type PaperTable } from './aggregate.js';
import { judged, PCR_DEFENSE, seedsToResolve, type Comparison } from './comparisons.js';
import { DETECTION_METRICS, type DetectionSummaryRow } from './detectionSummary.js';
import { fmt, fmtDifference, fmtSigned } from './format.js';
import { mdText } from './markdown.js';
import type { ShuffledComparison } from './shuffledComparisons.js';

export interface Headlines {
  pcr: string[];
  shuffledView: string[];
  detection: string[];
}

/** How many of the largest differences a sentence names. */
const TOP = 3;

/** "median −3.4 points (from −12.0 to +1.0)" with each value shown by `show`, or the value alone for one attack. */
function spread(xs: number[], show: (v: number) => string, unit = ''): string {
  if (xs.length === 1) return `${show(xs[0])}${unit}`;
  return `median ${show(median(xs))}${unit} (from ${show(Math.min(...xs))} to ${show(Math.max(...xs))})`;
}
/** Differences, signed and scaled (100 for a relative change shown in percent). */
const signed = (scale: number) => (v: number) => fmtSigned(scale * v, 1);
/** Values shown unsigned in the metric's decimals (ASR in %, AUROC and fractions), the unit on each. */
const plain = (metric: string, unit = '') => (v: number) => `${fmt(v, metric)}${unit}`;

const resolved = (m: PairedComparison | undefined, pHolm: number) => !!m && judged(m, pHolm, ['', '']).startsWith('resolved');
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** "n = 3 seeds each", or the range where cells differ. */
function seedsOf(ms: PairedComparison[]): string {
  const ns = ms.map((m) => m.n);
  const [lo, hi] = [Math.min(...ns), Math.max(...ns)];
  return lo === hi ? `n = ${lo} seeds each` : `n = ${lo}–${hi} seeds`;
}

/** Where no difference can be resolved for want of seeds, the sentence says so rather than "none". */
const tooFewSeeds = (cs: { m: PairedComparison; family: number }[]) => {
  if (cs.some(({ m, family }) => m.n >= seedsToResolve(family))) return '';
  return ` (fewer than ${Math.min(...cs.map(({ family }) => seedsToResolve(family)))} seeds: none can be)`;
};

/** "cleansight on badnets −55.7 points [−134.8, +23.4]". */
const named = (c: Comparison, m: PairedComparison | undefined, scale: number, unit: string) => `${mdText(c.defense)} on ${mdText(c.attack)} ${fmtDifference(m, scale, 1, unit)}`;

/** The `TOP` most negative means, named. */
function largest(cs: Comparison[], pick: (c: Comparison) => PairedComparison | undefined, scale: number, unit: string): string {
  return cs
    .filter((c) => (pick(c)?.mean ?? 0) < 0)
    .sort((a, b) => pick(a)!.mean - pick(b)!.mean)
    .slice(0, TOP)
    .map((c) => named(c, pick(c), scale, unit))
    .join('; ');
}

/**
 * The resolved ASR differences against PCR, lower ones first, grouped by defense (most attacks
 * first): "fp on 7 of 7 attacks, median −43.1 points (from −86.4 to −26.4)", or the one
 * comparison named. At 10 seeds dozens resolve, and a list of single comparisons hides which
 * defense differs on every attack.
 */
function byDefense(settled: Comparison[], all: Comparison[]): string {
  const direction = (label: string, cs: Comparison[]) => {
    if (!cs.length) return '';
    const groups = [...new Set(cs.map((c) => c.defense))].map((d) => cs.filter((c) => c.defense === d));
    const size = (g: Comparison[]) => median(g.map((c) => Math.abs(c.asr!.mean)));
    groups.sort((a, b) => b.length - a.length || size(b) - size(a));
    const sentence = groups.map((g) =>
      g.length === 1
        ? named(g[0], g[0].asr, 1, ' points')
        : `${mdText(g[0].defense)} on ${g.length} of ${plural(all.filter((c) => c.defense === g[0].defense).length, 'attack')}, ${spread(g.map((c) => c.asr!.mean), signed(1), ' points')}`,
    );
    return ` ${label}: ${sentence.join('; ')}.`;
  };
  return direction("Lower than PCR's", settled.filter((c) => c.asr!.mean < 0)) + direction("Higher than PCR's", settled.filter((c) => c.asr!.mean > 0));
}

const byModel = <T extends { model: string }>(xs: T[]) => [...new Set(xs.map((x) => x.model))].map((m) => [m, xs.filter((x) => x.model === m)] as const);

function pcrHeadlines(t: PaperTable, compared: Comparison[], is: (label: string, defense: string) => boolean, several: boolean): string[] {
  const out: string[] = [];
  for (const [model, cs] of byModel(compared.filter((c) => c.implanted !== false && c.asr))) {
    const on = several ? ` on ${mdText(model)}` : '';
    const vsNone = cs.filter((c) => is(c.defense, PCR_DEFENSE) && is(c.reference, BASELINE_DEFENSE));
    if (vsNone.length) {
      const asr = vsNone.map((c) => c.asr!);
      const clean = vsNone.flatMap((c) => (c.clean ? [c] : []));
      const cleanSentence = clean.length
        ? ` ${t.cleanMetric}, relative: ${spread(clean.map((c) => c.clean!.mean), signed(100), '%')}; resolved lower on ${clean.filter((c) => c.clean!.mean < 0 && resolved(c.clean, c.cleanPHolm)).length}, higher on ${clean.filter((c) => c.clean!.mean > 0 && resolved(c.clean, c.cleanPHolm)).length}.`
        : '';
      out.push(
        `PCR against no defense${on}, over ${plural(vsNone.length, 'implanted attack')} (${seedsOf(asr)}): mean ASR lower on ${asr.filter((m) => m.mean < 0).length}, ΔASR ${spread(asr.map((m) => m.mean), signed(1), ' points')}; resolved lower on ${vsNone.filter((c) => c.asr!.mean < 0 && resolved(c.asr, c.asrPHolm)).length}${tooFewSeeds(vsNone.map((c) => ({ m: c.asr!, family: c.family })))}.${cleanSentence}`,
      );
    }
    const vsPcr = cs.filter((c) => is(c.reference, PCR_DEFENSE));
    if (vsPcr.length) {
      const settled = vsPcr.filter((c) => resolved(c.asr, c.asrPHolm));
      out.push(
        settled.length
          ? `ASR against PCR${on}, resolved in ${settled.length} of ${vsPcr.length} comparisons.${byDefense(settled, vsPcr)}`
          : `No other defense's ASR differs from PCR's by a resolved margin${on}, in ${plural(vsPcr.length, 'comparison')}${tooFewSeeds(vsPcr.map((c) => ({ m: c.asr!, family: c.family })))}.`,
      );
      const most = largest(vsPcr, (c) => c.asr, 1, ' points');
      if (most) out.push(`Largest mean ASR reductions against PCR${on}: ${most}.`);
    }
    const lost = largest(
      cs.filter((c) => is(c.reference, BASELINE_DEFENSE)),
      (c) => c.clean,
      100,
      '%',
    );
    if (lost) out.push(`Largest ${t.cleanMetric} losses against no defense${on}: ${lost}.`);
  }
  return out;
}

function shuffledHeadlines(shuffled: ShuffledComparison[], is: (label: string, defense: string) => boolean, several: boolean): string[] {
  const out: string[] = [];
  for (const [model, ss] of byModel(shuffled.filter((s) => s.implanted !== false && s.diff && s.intact))) {
    const on = several ? ` on ${mdText(model)}` : '';
    const gap = (defense: string) => ss.filter((s) => is(s.defense, defense));
    const pcr = gap(PCR_DEFENSE);
    const none = gap(BASELINE_DEFENSE);
    if (pcr.length) {
      const intact = median(pcr.map((s) => s.intact!.mean));
      const reading =
        intact >= 50 && median(pcr.map((s) => s.diff!.mean)) <= -20
          ? ': the intact trigger still fires, so the drop marks a view-dependent backdoor, not a removed one'
          : '';
      out.push(
        `Under PCR${on}, over ${plural(pcr.length, 'implanted attack')}: ASR shuffled − intact ${spread(pcr.map((s) => s.diff!.mean), signed(1), ' points')}, resolved on ${pcr.filter((s) => resolved(s.diff, s.pHolm)).length}${tooFewSeeds(pcr.map((s) => ({ m: s.diff!, family: s.family })))}; the intact trigger's ASR ${spread(pcr.map((s) => s.intact!.mean), plain('ASR', '%'))}${reading}.`,
      );
    }
    if (none.length) out.push(`Without defense${on}: ASR shuffled − intact ${spread(none.map((s) => s.diff!.mean), signed(1), ' points')}, the intact trigger's ASR ${spread(none.map((s) => s.intact!.mean), plain('ASR', '%'))}.`);
  }
  return out;
}

/** One sentence per detecting column: what its score ranks, what it removed or flagged, and its ASR against no defense. */
function detectionHeadlines(rows: DetectionSummaryRow[], compared: Comparison[], is: (label: string, defense: string) => boolean, several: boolean): string[] {
  const out: string[] = [];
  for (const [model, ms] of byModel(rows))
    for (const column of new Set(ms.map((r) => r.column))) {
      const rs = ms.filter((r) => r.column === column);
      const facts = DETECTION_METRICS.flatMap((m) => {
        const xs = rs.flatMap((r) => (r.stats[m] ? [r.stats[m]!.mean] : []));
        if (!xs.length) return [];
        const score = m === 'AUROC' ? ` of ${[...new Set(rs.map((r) => r.score).filter(Boolean))].map(mdText).join(', ')}` : '';
        const above = m === 'AUROC' ? `, above 0.5 on ${xs.filter((x) => x > 0.5).length}` : '';
        // A removal precision exists only where something was removed.
        const some = xs.length < rs.length ? ` (${xs.length} of ${rs.length} attacks)` : '';
        return [`${m}${score} ${spread(xs, plain(m))}${above}${some}`];
      });
      const vsNone = compared.filter((c) => c.model === model && c.defense === column && is(c.reference, BASELINE_DEFENSE) && c.asr && c.implanted !== false);
      const asr = vsNone.length
        ? `; against no defense, ΔASR ${spread(vsNone.map((c) => c.asr!.mean), signed(1), ' points')}, resolved lower on ${vsNone.filter((c) => c.asr!.mean < 0 && resolved(c.asr, c.asrPHolm)).length}`
        : '';
      out.push(`${mdText(column)}${several ? ` on ${mdText(model)}` : ''}, over ${plural(rs.length, 'implanted attack')}: ${facts.join('; ')}${asr}.`);
    }
  return out;
}

/**
 * The headlines of one task. `removers` are the detection rows findings (c) describes (the
 * defenses that remove or flag, implanted attacks only).
 */
export function headlines(t: PaperTable, compared: Comparison[], shuffled: ShuffledComparison[], removers: DetectionSummaryRow[]): Headlines {
  const is = columnIs(t);
  const several = new Set(t.columns.map((c) => c.model)).size > 1;
  return {
    pcr: pcrHeadlines(t, compared, is, several),
    shuffledView: shuffledHeadlines(shuffled, is, several),
    detection: detectionHeadlines(removers, compared, is, several),
  };
}
