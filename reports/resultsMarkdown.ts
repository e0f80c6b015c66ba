/**
 * The results page (docs/results.md when published): GitHub-flavoured Markdown from an output
 * directory's run records and invocation log, no training. After the header (runHeader.ts),
 * per task: the paper table (the HTML's cells through tableView, so the same figures, best
 * marks and notes, plus ASR shuffled and FTR), the paired comparisons, the shuffled-view
 * comparisons, the detection summary, the adaptive attackers against their base attacks, and
 * the findings written from them (findings.ts).
 * Deterministic: no clock, no path, no randomness; the same records and log give the same bytes.
 */
import type { RunRecord } from '../harness/core/record.js';
import type { PairedComparison } from '../harness/metrics/stats.js';
import { adaptiveColumnLabel, adaptiveComparisons, type AdaptiveComparison } from './adaptiveComparisons.js';
import { paperTables, type PaperTable } from './aggregate.js';
import { comparisons, powerLine, type Comparison } from './comparisons.js';
import { ASR_HEADER, AVERAGE_ROW } from './csv.js';
import { DETECTION_METRICS, detectionHeader, detectionSummary, type DetectionSummaryRow } from './detectionSummary.js';
import { findings, type Findings } from './findings.js';
import { fmtDifference, fmtP, fmtStat, fmtStatWithN } from './format.js';
import type { Invocation } from './invocations.js';
import { mdCode, mdTable, mdText } from './markdown.js';
import { headerMarkdown, runHeader } from './runHeader.js';
import { shuffledComparisons, type ShuffledComparison } from './shuffledComparisons.js';
import { tableView, type CellView } from './tableView.js';

export interface MarkdownInput {
  title: string;
  records: RunRecord[];
  invocations: Invocation[];
}

const NOT_IMPLANTED = ' (did not implant)';
const attackCell = (attack: string, implanted: boolean | undefined) => `${mdText(attack)}${implanted === false ? NOT_IMPLANTED : ''}`;
/** The columns of words, left-aligned; every other column holds numbers, right-aligned. */
const LABEL_COLUMNS = new Set(['attack', 'base', 'defense', 'model / defense', 'vs', 'score', 'verdict']);
const table = (header: string[], rows: string[][]) => mdTable(header, rows, header.map((h) => (LABEL_COLUMNS.has(h) ? 'l' : 'r')));

/** A paper-table cell: "mean [lo, hi]", bold where best, its notes (tie, failed runs, its own n) in parentheses. */
function cellText(c: CellView | undefined, n: number): string {
  if (!c) return '';
  const value = c.ci ? `${c.text} ${c.ci}` : c.text;
  const shown = c.cls.split(' ').includes('best') ? `**${value}**` : value;
  const notes = [c.note, c.n !== '' && c.n !== n ? `n = ${c.n}` : ''].filter(Boolean);
  return notes.length ? `${shown} (${notes.join('; ')})` : shown;
}

function resultsSection(t: PaperTable, compared: Comparison[]): string[] {
  const view = tableView(t);
  const withDer = t.columns.some((c) => !c.baseline);
  const withShuffled = t.rows.some((r) => r.cells.some((c) => c.asrShuffled));
  const header = [
    'attack',
    t.columns.some((c) => c.label !== c.defense) ? 'model / defense' : 'defense',
    `${ASR_HEADER} ↓`,
    `${t.cleanMetric} ↑`,
    ...(withDer ? ['DER ↑'] : []),
    ...(withShuffled ? ['ASR shuffled (%)'] : []),
    'FTR (%) ↓',
    'n',
  ];
  /** One line per column of the table: its ASR, clean and (defended) DER cells, then the rest. */
  const line = (attack: string, label: string, cells: CellView[], n: number, rest: { shuffled: string; ftr: string; n: string }) => {
    const [asr, clean, der] = cells;
    return [attack, mdText(label), cellText(asr, n), cellText(clean, n), ...(withDer ? [cellText(der, n)] : []), ...(withShuffled ? [rest.shuffled] : []), rest.ftr, rest.n];
  };
  const rows = t.rows.flatMap((row, k) =>
    t.columns.map((col, i) => {
      const cell = row.cells[i];
      const n = cell.asr?.n ?? 0;
      const cells = view.rows[k].cells.filter((c) => c.col === col.label);
      return line(attackCell(row.attack, cell.implanted), col.label, cells, n, { shuffled: fmtStatWithN(cell.asrShuffled, 'ASR', n), ftr: fmtStatWithN(cell.ftr, 'ASR', n), n: String(n) });
    }),
  );
  // The average row pools attacks, not seeds: no interval, no n. With one attack it repeats the row.
  const averages = t.rows.length > 1 ? t.columns.map((col) => line(AVERAGE_ROW, col.label, view.average.cells.filter((c) => c.col === col.label), 0, { shuffled: '', ftr: '', n: '' })) : [];
  const legend = [
    `Mean over seeds with its 95% Student-t interval in brackets (none for one seed); n = seeds with a result (a cell with another n says so).`,
    `ASR on triggered test inputs, ${t.cleanMetric} on clean ones${withDer ? "; DER against the same attack's no-defense column of the same model, paired by seed (0.5 = no change)" : ''}${withShuffled ? '; ASR shuffled: ASR on the triggered inputs with every patch position shuffled' : ''}; FTR: clean inputs whose output contains the target.`,
    `**Bold**: best in its row among the model's columns, where the gap to the runner-up is significant (paired by seed, exact sign-flip test, Holm-corrected over the table, p < 0.05); "tie": a leader that is not.`,
    `Attacks that did not implant (no-defense mean ASR < 50%) are not ranked${averages.length ? ', and the average rows leave them out (means of the per-attack means, over implanted attacks)' : ''}.`,
  ].join(' ');
  return [
    '### Results',
    legend,
    table(header, [...rows, ...averages]),
    ...(view.oracle ? [`Oracle ${t.cleanMetric} (one reference caption scored against the others): ${view.oracle}.`] : []),
    powerLine(compared).text,
  ];
}

/** A paired difference's three columns: mean [95% CI] (× `scale`, with `unit`), raw p, Holm-corrected p. */
const pairedColumns = (m: PairedComparison | undefined, pHolm: number, scale = 1, unit = '') => [fmtDifference(m, scale, 1, unit), fmtP(m?.p ?? NaN), fmtP(pHolm)];

function comparisonsSection(t: PaperTable, compared: Comparison[]): string[] {
  if (!compared.length) return ['### Paired comparisons', 'No defense to compare with its reference.'];
  const intro = `Each defense against no defense and against PCR, per model × attack, paired by seed (same pre-training, same poisoned split): ΔASR in points (defense − reference; negative = less backdoor), Δ${t.cleanMetric} relative to the reference (negative = quality lost), each a mean with its 95% t-interval, the exact two-sided sign-flip p and the same p Holm-corrected within its question (the defenses compared with that reference on that metric, for that model × attack). A difference counts only where the corrected p is below 0.05; otherwise it is "not resolved". Also in ${mdCode(`comparisons-${t.task}.csv`)}.`;
  const header = ['attack', 'defense', 'vs', 'n', 'ΔASR (points) [95% CI]', 'p', 'p (Holm)', `Δ${t.cleanMetric} (relative) [95% CI]`, 'p', 'p (Holm)', 'verdict'];
  const rows = compared.map((c) => [
    attackCell(c.attack, c.implanted),
    mdText(c.defense),
    mdText(c.reference),
    String(c.asr?.n ?? 0),
    ...pairedColumns(c.asr, c.asrPHolm),
    ...pairedColumns(c.clean, c.cleanPHolm, 100, '%'),
    c.verdict,
  ]);
  return ['### Paired comparisons', intro, table(header, rows)];
}

function shuffledSection(t: PaperTable, shuffled: ShuffledComparison[]): string[] {
  if (!shuffled.length) return [];
  const header = ['attack', 'defense', 'n', 'ASR intact (%)', 'ASR shuffled (%)', 'shuffled − intact (points) [95% CI]', 'p', 'p (Holm)', 'verdict'];
  const rows = shuffled.map((s) => [
    attackCell(s.attack, s.implanted),
    mdText(s.defense),
    String(s.diff?.n ?? 0),
    fmtStat(s.intact, 'ASR'),
    fmtStat(s.shuffled, 'ASR'),
    ...pairedColumns(s.diff, s.pHolm),
    s.verdict,
  ]);
  return [
    '### Shuffled trigger view',
    `The ASR of each cell on its triggered test inputs with every patch position shuffled (PCR's PatchAug on the model's patch grid), against the intact trigger, paired by seed (the same runs and items). A backdoor that keeps its ASR on the intact trigger and loses it on the shuffled one was made view-dependent, not removed. p: exact sign-flip test, Holm-corrected within each defense's column (over its attacks). Also in ${mdCode(`shuffled-${t.task}.csv`)}.`,
    table(header, rows),
  ];
}

function detectionSection(t: PaperTable, rows: DetectionSummaryRow[]): string[] {
  if (!rows.length) return [];
  const header = ['attack', 'defense', 'score', ...DETECTION_METRICS.map(detectionHeader), 'runs'];
  const body = rows.map((r) => [attackCell(r.attack, r.implanted), mdText(r.column), mdText(r.score), ...DETECTION_METRICS.map((m) => fmtStatWithN(r.stats[m], m, r.runs)), String(r.runs)]);
  return [
    '### Detection',
    `Per defense that detects: the AUROC of its suspicion score at the last epoch it scored (0.5 = chance); the precision and recall of the training examples it removed (remove, BYE) against the poisoned ones it never saw; the share of triggered and of clean test inputs it flagged (CleanSight). Fractions, mean over seeds with its 95% interval; a removal precision is undefined (—) for a run that removed nothing. Also in ${mdCode(`detection-${t.task}.csv`)}.`,
    table(header, body),
  ];
}

function adaptiveSection(t: PaperTable, adapted: AdaptiveComparison[]): string[] {
  if (!adapted.length) return [];
  const header = ['attack', 'base', 'defense', 'n', 'ASR (%)', 'ASR on base (%)', 'attack − base (points) [95% CI]', 'p', 'p (Holm)', 'verdict', 'ASR shuffled (%)', 'on base (%)'];
  const rows = adapted.map((a) => [
    attackCell(a.attack, a.implanted),
    mdText(a.base),
    mdText(adaptiveColumnLabel(a)),
    String(a.diff?.n ?? 0),
    fmtStat(a.asr, 'ASR'),
    fmtStat(a.baseAsr, 'ASR'),
    ...pairedColumns(a.diff, a.pHolm),
    a.verdict,
    fmtStat(a.shuffled, 'ASR'),
    fmtStat(a.baseShuffled, 'ASR'),
  ]);
  return [
    '### Adaptive attackers',
    `Each adaptive attacker (an attack that declares the attack it adapts and the defenses it is built to get past) against its base attack at the same poisoning rate: ASR under each defense it targets and without defense, the difference paired by seed (the same pre-training; the poisoned splits differ only in how the trigger is placed or shown). Positive under a targeted defense: the adaptation got past it. p: exact sign-flip test, Holm-corrected over the targeted defenses of one attack (the no-defense row on its own). Also in ${mdCode(`adaptive-${t.task}.csv`)}.`,
    table(header, rows),
  ];
}

const bullets = (sentences: string[]) => sentences.map((s) => `- ${s}`).join('\n');

/** A question's short answer, then every sentence behind it folded (GitHub renders Markdown inside <details>). */
function answer(question: string, headline: string[], sentences: string[]): string[] {
  if (!headline.length) return [question, bullets(sentences)];
  return [question, bullets(headline), `<details><summary>Every comparison behind it (${sentences.length})</summary>\n\n${bullets(sentences)}\n\n</details>`];
}

function findingsSection(f: Findings): string[] {
  return [
    '### Findings',
    'Each question first in short (medians over the implanted attacks of each attack\'s mean over seeds, with their range; "resolved": Holm-corrected p < 0.05 and a 95% interval excluding 0), then every comparison behind it.',
    ...answer('**(a) Does PCR lower ASR against no defense, at what clean cost, and how does each other defense compare with it?**', f.headlines.pcr, f.pcr),
    ...answer(
      "**(b) What does the patch-shuffled trigger view say?** (A drop on the shuffled view that the intact trigger does not show: a view-dependent backdoor, not a removed one.)",
      f.headlines.shuffledView,
      f.shuffledView,
    ),
    ...answer('**(c) What do the defenses that remove training examples or flag test inputs add?**', f.headlines.detection, f.detection),
    ...answer('**(d) Do the adaptive attackers get past the defenses they target?** (ASR on each against its base attack under the same defense.)', [], f.adaptive),
    ...(f.notImplanted.length ? [`Left out of the findings, as they did not implant in a model (no-defense mean ASR < 50%): ${f.notImplanted.map(mdText).join(', ')}.`] : []),
  ];
}

function taskSection(t: PaperTable, records: RunRecord[]): string[] {
  const compared = comparisons(t);
  const shuffled = shuffledComparisons(t);
  const detected = detectionSummary(t, records);
  const adapted = adaptiveComparisons(t, records);
  return [
    `## Task: ${mdText(t.task)}`,
    ...resultsSection(t, compared),
    ...comparisonsSection(t, compared),
    ...shuffledSection(t, shuffled),
    ...detectionSection(t, detected),
    ...adaptiveSection(t, adapted),
    ...findingsSection(findings(t, compared, shuffled, detected, adapted)),
  ];
}

function failedSection(records: RunRecord[]): string[] {
  const failed = records.filter((r) => r.status !== 'ok');
  if (!failed.length) return [];
  return ['## Failed runs', `Shown as "failed" in the tables and left out of every mean:`, bullets(failed.map((r) => `${mdCode(r.id)}: ${mdText(r.error ?? 'no error message')}`))];
}

export function renderResultsMarkdown(input: MarkdownInput): string {
  const tables = paperTables(input.records);
  const blocks = [
    `# mllm-backdoor-bench — ${mdText(input.title)}`,
    ...headerMarkdown(runHeader(input.records, input.invocations, tables)),
    ...tables.flatMap((t) => taskSection(t, input.records)),
    ...failedSection(input.records),
  ];
  return `${blocks.join('\n\n')}\n`;
}
