/**
 * The HTML report: one self-contained page (inline CSS, inline SVG charts, images as data:
 * URIs; no network, no fonts, no scripts) rendered with Handlebars from run records. Every
 * value from the data goes through Handlebars' {{ }} escaping; the only unescaped insertions
 * ({{{svg}}}) are the charts of reports/charts/, which escape their own text (charts/svg.ts).
 */
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import type { RunRecord } from '../harness/core/record.js';
import { attackOrder, paperTables, uniq, type PaperTable } from './aggregate.js';
import { rateCharts } from './charts/rate.js';
import { sweepCharts } from './charts/sweep.js';
import { tradeoffChart } from './charts/tradeoff.js';
import { stagesOf, trainingChart } from './charts/training.js';
import { detectionRows } from './detection.js';
import { DETECTION_METRICS, detectionHeader, detectionSummary } from './detectionSummary.js';
import { exampleGroups } from './examples.js';
import { provenanceOf } from './provenance.js';
import type { SweepPoint } from './sweep.js';
import type { CalibrationRow } from './calibration.js';
import { fmtDifference, fmtP, fmtStat, roundFor } from './format.js';
import { tableView } from './tableView.js';
import { ALPHA } from './best.js';
import { experimentName } from './recordFields.js';
import { comparisons, powerLine, type Comparison } from './comparisons.js';
import { shuffledComparisons, type ShuffledComparison } from './shuffledComparisons.js';
import { adaptiveColumnLabel, adaptiveComparisons, type AdaptiveComparison } from './adaptiveComparisons.js';

const TEMPLATE = new URL('./templates/report.hbs', import.meta.url);

/** One trigger strip as the page shows it; `error` replaces the image when it could not be drawn. */
export interface GalleryView {
  name: string;
  labels: string[];
  description: string;
  seed: number;
  file: string;
  dataUri?: string;
  error?: string;
}

export interface ReportInput {
  title: string;
  records: RunRecord[];
  /** PCR knob sweep (sweep/sweep.json); its section is left out when absent. */
  sweep?: SweepPoint[];
  /** Attack calibration (calibration/calibration.json); its section is left out when absent. */
  calibration?: CalibrationRow[];
  gallery?: GalleryView[];
  /** When the page was generated (ISO); passed in so rendering stays a pure function. */
  generated: string;
}

/**
 * The detection summary (detectionSummary.ts) of every task: one row per detecting defense's
 * cell; the data-* attributes hold the numbers of detection-<task>.csv.
 */
function detectionSummaryView(tables: PaperTable[], records: RunRecord[]) {
  const rows = tables.flatMap((t) =>
    detectionSummary(t, records).map((r) => ({
      ...r,
      task: t.task,
      cells: DETECTION_METRICS.map((metric) => {
        const s = r.stats[metric];
        const round = (v: number | undefined) => (v === undefined ? '' : roundFor(v, metric));
        return { metric, text: s ? fmtStat(s, metric) : '—', mean: round(s?.mean), lo: round(s?.ci?.lo), hi: round(s?.ci?.hi), n: s?.n ?? 0 };
      }),
    })),
  );
  return { headers: DETECTION_METRICS.map(detectionHeader), rows };
}

const pct = (r: number) => `${+(100 * r).toFixed(2)}%`;

/** The poison-detection table: one row per task × model × attack × defense × score, AUROC per epoch. */
function detectionView(records: RunRecord[]) {
  const rows = detectionRows(records);
  // Columns: every epoch any score was taken at, counted from 0 as in the records.
  const epochs = uniq(rows.flatMap((r) => [...r.byEpoch.keys()])).sort((a, b) => a - b);
  return {
    epochs,
    rows: rows.map((r) => ({
      ...r,
      cells: epochs.map((e) => {
        const s = r.byEpoch.get(e);
        return { text: s ? fmtStat(s, 'AUROC') : '', mean: s?.mean ?? '', cls: s && s.mean < 0.5 ? 'low' : '' };
      }),
    })),
  };
}

/** A comparison row's class (greyed where the attack did not implant) and a resolved difference's. */
const rowCls = (implanted: boolean | undefined) => (implanted === false ? 'not-implanted' : '');
const resolvedCls = (pHolm: number) => (pHolm < ALPHA ? 'resolved' : '');

/** The comparisons of a task's table as the page shows them: signed means with intervals, corrected p. */
function comparisonRows(cs: Comparison[]) {
  return cs.map((c) => ({
    ...c,
    n: c.asr?.n ?? 0,
    asr: fmtDifference(c.asr, 1, 1),
    asrP: fmtP(c.asrPHolm),
    clean: fmtDifference(c.clean, 100, 1, '%'),
    cleanP: fmtP(c.cleanPHolm),
    cls: rowCls(c.implanted),
    asrCls: resolvedCls(c.asrPHolm),
    cleanCls: resolvedCls(c.cleanPHolm),
  }));
}

/** The shuffled-view comparisons of a task's table as the page shows them (as the Markdown page's section). */
function shuffledRows(ss: ShuffledComparison[]) {
  return ss.map((s) => ({
    ...s,
    n: s.diff?.n ?? 0,
    intact: fmtStat(s.intact, 'ASR'),
    shuffled: fmtStat(s.shuffled, 'ASR'),
    diff: fmtDifference(s.diff, 1, 1),
    p: fmtP(s.pHolm),
    cls: rowCls(s.implanted),
    diffCls: resolvedCls(s.pHolm),
  }));
}

/** The adaptive attackers of a task's table against their base attacks, as the page shows them. */
function adaptiveRows(as: AdaptiveComparison[]) {
  return as.map((a) => ({
    ...a,
    defense: adaptiveColumnLabel(a),
    n: a.diff?.n ?? 0,
    asr: fmtStat(a.asr, 'ASR'),
    baseAsr: fmtStat(a.baseAsr, 'ASR'),
    diff: fmtDifference(a.diff, 1, 1),
    p: fmtP(a.pHolm),
    // a run recorded before the shuffled view existed has none: shown as the paper table shows a missing cell
    shuffled: fmtStat(a.shuffled, 'ASR') || '—',
    baseShuffled: fmtStat(a.baseShuffled, 'ASR') || '—',
    cls: rowCls(a.implanted),
    diffCls: resolvedCls(a.pHolm),
  }));
}

/** The calibration table as the page shows it: one row per rung, the chosen (or closest) rung marked. */
function calibrationView(rows: CalibrationRow[]) {
  const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '—');
  return rows.map((r) => ({
    ...r,
    asr: `${f(r.valAsr, 1)}${Number.isFinite(r.valAsrLo) ? ` [${f(r.valAsrLo, 1)}, ${f(r.valAsrHi, 1)}]` : ''}`,
    clean: `${f(r.valClean, 3)} (${f(100 * r.cleanRatio, 1)}%)`,
    meets: `${r.meetsAsr ? 'ASR ✓' : 'ASR ✗'} · ${r.meetsClean ? 'clean ✓' : 'clean ✗'}`,
    cls: r.verdict === 'chosen' ? 'best' : r.verdict === 'best' ? 'tie' : '',
    note: r.verdict === 'chosen' ? 'chosen' : r.verdict === 'best' ? 'reached no rung; closest' : '',
  }));
}

export function renderReport(input: ReportInput): string {
  const { records } = input;
  const template = Handlebars.compile(readFileSync(TEMPLATE, 'utf8'), { strict: false });
  const tables = paperTables(records);
  const compared = tables.map(comparisons);
  const tasks = tables.map((t) => t.task);
  const ok = records.filter((r) => r.status === 'ok');
  const sweep = input.sweep ? sweepCharts(input.sweep) : undefined;
  const detection = detectionView(records);
  const summary = detectionSummaryView(tables, records);
  return template({
    title: input.title,
    summary: {
      runs: records.length,
      failed: records.length - ok.length,
      tasks: tasks.join(', '),
      models: uniq(records.map((r) => r.model)).join(', '),
      attacks: attackOrder(records).join(', '),
      defenses: uniq(tables.flatMap((t) => t.columns.map((c) => c.defense))).join(', '),
      seeds: uniq(records.map((r) => r.seed))
        .sort((a, b) => a - b)
        .join(', '),
    },
    smoke: records.some((r) => experimentName(r) === 'smoke'),
    failedRuns: records.filter((r) => r.status !== 'ok').map((r) => ({ id: r.id, error: r.error ?? 'no error message' })),
    tables: tables.map((t, i) => ({ ...tableView(t), power: powerLine(compared[i]).text })),
    comparisons: tables.map((t, i) => ({ task: t.task, rows: comparisonRows(compared[i]) })),
    shuffled: tables.map((t) => ({ task: t.task, rows: shuffledRows(shuffledComparisons(t)) })).filter((s) => s.rows.length),
    adaptive: tables.map((t) => ({ task: t.task, rows: adaptiveRows(adaptiveComparisons(t, records)) })).filter((a) => a.rows.length),
    tradeoff: tables.map((t) => ({ task: t.task, svg: tradeoffChart(t) })),
    rate: tasks.map((task) => {
      const { rates, charts } = rateCharts(task, records);
      return {
        task,
        charts,
        note: charts.length ? '' : `All successful ${task} runs use ${rates.length ? `one poisoning rate (${pct(rates[0])})` : 'no recorded poisoning rate'}; this chart needs runs at two rates or more.`,
      };
    }),
    sweep: sweep && {
      charts: sweep.map((s) => ({
        ...s,
        chosenText: s.chosen ? `chosen: ${s.knob} = ${s.chosen.value}${s.chosen.floor === undefined ? '' : ` (clean floor met: ${Math.round(100 * s.chosen.floor)}% of no defense)`}; parameters ${JSON.stringify(s.chosen.params)}` : 'no point marked as chosen',
      })),
    },
    training: tasks.map((task) => {
      const recs = records.filter((r) => r.task === task);
      return { task, charts: stagesOf(recs).map((stage) => ({ stage, svg: trainingChart(task, stage, recs) })) };
    }),
    detection,
    detectionSummary: summary,
    hasDetection: detection.rows.length > 0 || summary.rows.length > 0,
    calibration: input.calibration && calibrationView(input.calibration),
    gallery: input.gallery ?? [],
    examples: exampleGroups(records),
    runs: records.map((r) => ({
      id: r.id,
      status: r.status,
      failed: r.status !== 'ok',
      error: r.error,
      seed: r.seed,
      poisonCount: r.poisonCount,
      trainSize: r.trainSize,
      target: r.target,
      pretrain: r.timings.pretrain?.toFixed(0) ?? '',
      sft: r.timings.sft?.toFixed(0) ?? '',
      eval: r.timings.eval?.toFixed(0) ?? '',
      configHash: r.provenance?.configHash ?? '',
      defenseParams: JSON.stringify(r.defenseParams ?? {}),
    })),
    generated: input.generated,
    provenance: provenanceOf(records),
  });
}
