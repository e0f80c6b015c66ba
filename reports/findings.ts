/**
 * A task's findings, written from its comparisons, never by hand: one sentence per comparison,
 * with its numbers, n, 95% interval and Holm-corrected p, naming the table and row it comes
 * from, for four questions:
 * (a) does PCR lower ASR against no defense, at what clean cost, and how does each other
 *     defense compare with PCR (reports/comparisons.ts);
 * (b) what the patch-shuffled trigger view says: ASR shuffled against intact
 *     (reports/shuffledComparisons.ts);
 * (c) what the defenses that remove training examples or flag test inputs (remove, BYE,
 *     CleanSight) add: their detection facts (reports/detectionSummary.ts) beside their
 *     comparison with no defense;
 * (d) whether the adaptive attackers get past the defenses they target: ASR on each against
 *     ASR on its base attack, under each targeted defense and without defense
 *     (reports/adaptiveComparisons.ts).
 * The rule is the comparisons' (docs/statistics.md): a difference is claimed only where its
 * Holm-corrected p is below 0.05, which fewer than 6 seeds can never reach; a sentence also
 * says "not resolved" where the 95% t-interval covers 0, as the sign-flip test and the
 * t-interval can disagree. Attacks that did not implant are left out: there is no backdoor to
 * remove. Sentences are Markdown, labels escaped; each question also gets its short answer
 * (reports/headlines.ts), which the page puts first.
 */
import type { PairedComparison } from '../harness/metrics/stats.js';
import { ADAPTIVE_WORDS, type AdaptiveComparison } from './adaptiveComparisons.js';
import { BASELINE_DEFENSE, columnIs, type PaperTable } from './aggregate.js';
import { judged, PCR_DEFENSE, type Comparison } from './comparisons.js';
import { DETECTION_METRICS, type DetectionSummaryRow } from './detectionSummary.js';
import { fmtDifference, fmtP, fmtStat, fmtStatWithN } from './format.js';
import { headlines, type Headlines } from './headlines.js';
import { mdText } from './markdown.js';
import { SHUFFLED_WORDS, type ShuffledComparison } from './shuffledComparisons.js';

export interface Findings {
  /** (a) PCR against no defense, and every other defense against PCR. */
  pcr: string[];
  /** (b) ASR on the patch-shuffled trigger against the intact one. */
  shuffledView: string[];
  /** (c) What removing training examples or flagging test inputs found and did. */
  detection: string[];
  /** (d) Each adaptive attacker against its base attack, under the defenses it targets and none. */
  adaptive: string[];
  /** Attacks left out because they did not implant (in some model). */
  notImplanted: string[];
  /** The short answer to each question, ahead of its sentences (reports/headlines.ts). */
  headlines: Headlines;
}

/** "ΔASR −34.0 points [−56.0, −14.0] (n = 8, Holm p = 0.016): resolved, lower ASR". */
function difference(name: string, m: PairedComparison | undefined, pHolm: number, family: number, scale: number, unit: string, words: [string, string]): string {
  if (!m) return `${name}: no paired seeds`;
  return `${name} ${fmtDifference(m, scale, 1, unit)} (n = ${m.n}, Holm p = ${fmtP(pHolm)}): ${judged(m, pHolm, words, family)}`;
}

/** Both differences of a paired comparison, ASR then the clean metric (relative). */
function differences(c: Comparison, cleanMetric: string): string {
  const asr = difference('ΔASR', c.asr, c.asrPHolm, c.family, 1, ' points', ['lower ASR', 'higher ASR']);
  const clean = difference(`Δ${cleanMetric} (relative)`, c.clean, c.cleanPHolm, c.cleanFamily, 100, '%', [`lower ${cleanMetric}`, `higher ${cleanMetric}`]);
  return `${asr}; ${clean}`;
}

const source = (table: string, ...row: string[]) => `*${table}*, row ${row.map(mdText).join(' · ')}`;

function comparisonSentence(c: Comparison, cleanMetric: string): string {
  return `${mdText(c.defense)} vs ${mdText(c.reference)} on ${mdText(c.attack)}: ${differences(c, cleanMetric)} (${source('Paired comparisons', c.attack, `${c.defense} vs ${c.reference}`)}).`;
}

function shuffledSentence(s: ShuffledComparison): string {
  const diff = difference('shuffled − intact', s.diff, s.pHolm, s.family, 1, ' points', SHUFFLED_WORDS);
  return `${mdText(s.defense)} on ${mdText(s.attack)}: ASR ${fmtStat(s.intact, 'ASR') || '—'} on the intact trigger, ${fmtStat(s.shuffled, 'ASR')} on the patch-shuffled one; ${diff} (${source('Shuffled trigger view', s.attack, s.defense)}).`;
}

function detectionSentence(r: DetectionSummaryRow, vsNone: Comparison | undefined, cleanMetric: string): string {
  const facts = DETECTION_METRICS.flatMap((m) => {
    const s = r.stats[m];
    return s ? [`${m}${m === 'AUROC' ? ` (${mdText(r.score)}, last epoch)` : ''} ${fmtStatWithN(s, m, r.runs)}`] : [];
  });
  const detected = `${facts.join(', ')} (n = ${r.runs}; ${source('Detection', r.attack, r.column, ...(r.score ? [r.score] : []))})`;
  const compared = vsNone
    ? `against no defense, ${differences(vsNone, cleanMetric)} (${source('Paired comparisons', vsNone.attack, `${vsNone.defense} vs ${vsNone.reference}`)})`
    : 'no paired comparison with no defense (the table has no such column)';
  return `${mdText(r.column)} on ${mdText(r.attack)}: ${detected}; ${compared}.`;
}

function adaptiveSentence(a: AdaptiveComparison): string {
  const under = a.targeted ? `against ${mdText(a.defense)}` : 'without defense';
  const diff = difference(`${mdText(a.attack)} − ${mdText(a.base)}`, a.diff, a.pHolm, a.family, 1, ' points', ADAPTIVE_WORDS);
  const shuffled = a.shuffled || a.baseShuffled ? `; ASR shuffled ${fmtStat(a.shuffled, 'ASR') || '—'} against ${fmtStat(a.baseShuffled, 'ASR') || '—'}` : '';
  const notImplanted = a.implanted === false ? ' (it did not implant: no backdoor to get past with)' : '';
  return `${mdText(a.attack)} ${under}${notImplanted}: ASR ${fmtStat(a.asr, 'ASR') || '—'} against ${fmtStat(a.baseAsr, 'ASR') || '—'} on ${mdText(a.base)}; ${diff}${shuffled} (${source('Adaptive attackers', a.attack, a.defense)}).`;
}

/** Removal and flagging are what (c) asks about; an AUROC alone (PCR, ABL) is a score, not a removal. */
const REMOVES_OR_FLAGS = DETECTION_METRICS.filter((m) => m !== 'AUROC');

/** What (a) and (b) say when every comparison they would describe is of an attack that did not implant. */
const ALL_NOT_IMPLANTED = (what: string) => `Every ${what} is of an attack that did not implant: nothing to say.`;

export function findings(t: PaperTable, compared: Comparison[], shuffled: ShuffledComparison[], detected: DetectionSummaryRow[], adapted: AdaptiveComparison[]): Findings {
  const is = columnIs(t);
  const orElse = (sentences: string[], none: string) => (sentences.length ? sentences : [none]);
  const implanted = compared.filter((c) => c.implanted !== false);
  const vsNone = (model: string, attack: string, column: string) => implanted.find((c) => c.model === model && c.attack === attack && c.defense === column && is(c.reference, BASELINE_DEFENSE));

  const pcr = t.columns.some((c) => c.defense === PCR_DEFENSE)
    ? orElse(
        implanted.filter((c) => (is(c.defense, PCR_DEFENSE) && is(c.reference, BASELINE_DEFENSE)) || is(c.reference, PCR_DEFENSE)).map((c) => comparisonSentence(c, t.cleanMetric)),
        ALL_NOT_IMPLANTED('comparison with PCR'),
      )
    : [`The ${mdText(t.task)} table has no ${PCR_DEFENSE} column: nothing to compare.`];
  const shuffledView = shuffled.length
    ? orElse(shuffled.filter((s) => s.implanted !== false).map(shuffledSentence), ALL_NOT_IMPLANTED('shuffled-view comparison'))
    : [`No ${mdText(t.task)} run recorded \`ASR shuffled\` (records made before the shuffled view existed): nothing to compare.`];
  const removers = detected.filter((r) => r.implanted !== false && REMOVES_OR_FLAGS.some((m) => r.stats[m]));
  const detection = orElse(
    removers.map((r) => detectionSentence(r, vsNone(r.model, r.attack, r.column), t.cleanMetric)),
    'No defense of this task removed training examples or flagged test inputs in a cell whose attack implanted: nothing to report.',
  );
  const adaptive = orElse(adapted.map(adaptiveSentence), `The ${mdText(t.task)} table has no adaptive attacker beside its base attack: nothing to compare.`);
  const notImplanted = t.rows.filter((r) => r.cells.some((c) => c.implanted === false)).map((r) => r.attack);
  return { pcr, shuffledView, detection, adaptive, notImplanted, headlines: headlines(t, compared, shuffled, removers) };
}
