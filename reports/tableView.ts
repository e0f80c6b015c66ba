/**
 * A paper table as the HTML shows it: formatted text, best/failed classes, and data-*
 * attributes carrying the very numbers the CSV holds (same rounding, same header names via
 * csvHeader), so a test can check the two against each other cell by cell.
 */
import type { PaperTable, Stat, TableCell } from './aggregate.js';
import { BEST_CAPTION, bestMarks, type BestMarks } from './best.js';
import { ASR_HEADER, AVERAGE_ROW } from './csv.js';
import { fmt, fmtStat, roundFor } from './format.js';

export interface CellView {
  /** The column label (CSV header prefix). */
  col: string;
  /** Metric name as in the CSV header: "ASR (%)", the clean metric, or "DER". */
  metric: string;
  text: string;
  note: string;
  cls: string;
  mean: number | '';
  std: number | '';
  n: number | '';
}

export interface TableView {
  task: string;
  cleanMetric: string;
  caption: string;
  columns: { label: string; span: number; baseline: boolean }[];
  subheads: { text: string; cls: string }[];
  rows: { attack: string; cells: CellView[] }[];
  average: { attack: string; cells: CellView[] };
  oracle: string;
}

function statCell(col: string, metric: string, fmtKey: string, s: Stat | undefined, cell: TableCell, best: boolean): CellView {
  const partial = cell.failed > 0 && s ? `${cell.failed} of ${cell.runs} runs failed` : '';
  if (!s) {
    const failed = cell.failed > 0 && cell.failed === cell.runs;
    // A DER needs a baseline run of the same seed: say so instead of leaving a bare gap.
    const text = failed ? 'failed' : cell.runs === 0 ? '—' : metric === 'DER' ? 'n/a' : '—';
    return { col, metric, text, note: '', cls: failed ? 'failed' : 'missing', mean: '', std: '', n: '' };
  }
  return {
    col,
    metric,
    text: fmtStat(s, fmtKey),
    note: partial,
    cls: [best ? 'best' : '', partial ? 'partial' : ''].filter(Boolean).join(' '),
    mean: roundFor(s.mean, fmtKey),
    std: s.n > 1 ? roundFor(s.std, fmtKey) : '',
    n: s.n,
  };
}

function averageCell(col: string, metric: string, fmtKey: string, v: number | undefined, attacks: number, rows: number, best: boolean): CellView {
  return {
    col,
    metric,
    text: v === undefined ? '—' : fmt(v, fmtKey),
    note: v !== undefined && attacks < rows ? `over ${attacks} of ${rows} attacks` : '',
    cls: [best ? 'best' : '', v === undefined ? 'missing' : ''].filter(Boolean).join(' '),
    mean: v === undefined ? '' : roundFor(v, fmtKey),
    std: '',
    n: '',
  };
}

/** Marks the first metric cell of a column group, where the page draws the group's left rule. */
function groupStart(cells: CellView[]): CellView[] {
  return cells.map((c, i) => (i === 0 ? { ...c, cls: `${c.cls} gstart`.trim() } : c));
}

export function tableView(t: PaperTable): TableView {
  const marks = bestMarks(t);
  const seeds = [...new Set(t.rows.flatMap((r) => r.cells.flatMap((c) => (c.asr ? [c.asr.n] : []))))];
  const seedText = seeds.length === 1 ? `${seeds[0]} seed${seeds[0] > 1 ? 's' : ''}` : 'the seeds of each cell (n in the CSV)';
  const models = [...new Set(t.columns.map((c) => c.model))];
  const ranked = models.some((m) => t.columns.filter((c) => c.model === m).length > 1);
  const defended = t.columns.some((c) => !c.baseline);
  const rowCells = (cells: TableCell[], m: BestMarks[]) =>
    cells.flatMap((c, i) => {
      const col = t.columns[i];
      return groupStart([
        statCell(col.label, ASR_HEADER, 'ASR', c.asr, c, m[i].asr),
        statCell(col.label, t.cleanMetric, t.cleanMetric, c.clean, c, m[i].clean),
        ...(col.baseline ? [] : [statCell(col.label, 'DER', 'DER', c.der, c, m[i].der)]),
      ]);
    });
  const nRows = t.rows.length;
  return {
    task: t.task,
    cleanMetric: t.cleanMetric,
    caption: [
      `Mean ± std over ${seedText}. ASR on triggered test inputs, ${t.cleanMetric} on clean ones.`,
      defended ? `DER against the same attack's no-defense column of the same model, paired by seed (0.5 = no change).` : '',
      ranked ? BEST_CAPTION : 'One defense per model: nothing to rank.',
      'Average row: mean over attacks of the per-attack means.',
    ]
      .filter(Boolean)
      .join(' '),
    columns: t.columns.map((c) => ({ label: c.label, span: c.baseline ? 2 : 3, baseline: c.baseline })),
    subheads: t.columns.flatMap((c) => [
      { text: `${ASR_HEADER} ↓`, cls: 'gstart' },
      { text: `${t.cleanMetric} ↑`, cls: '' },
      ...(c.baseline ? [] : [{ text: 'DER ↑', cls: '' }]),
    ]),
    rows: t.rows.map((r, k) => ({ attack: r.attack, cells: rowCells(r.cells, marks.rows[k]) })),
    average: {
      attack: AVERAGE_ROW,
      cells: t.average.flatMap((a, i) => {
        const col = t.columns[i].label;
        return groupStart([
          averageCell(col, ASR_HEADER, 'ASR', a.asr, a.attacks.asr, nRows, marks.average[i].asr),
          averageCell(col, t.cleanMetric, t.cleanMetric, a.clean, a.attacks.clean, nRows, marks.average[i].clean),
          ...(t.columns[i].baseline ? [] : [averageCell(col, 'DER', 'DER', a.der, a.attacks.der, nRows, marks.average[i].der)]),
        ]);
      }),
    },
    oracle: t.oracle ? fmtStat(t.oracle, t.cleanMetric) : '',
  };
}

