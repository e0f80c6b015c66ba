/**
 * A paper table as the HTML shows it: formatted text, best/failed classes, and data-*
 * attributes carrying the very numbers the CSV holds (same rounding, same header names via
 * csvHeader), so a test can check the two against each other cell by cell.
 */
import type { PaperTable, Stat, TableCell } from './aggregate.js';
import { BEST_CAPTION, bestMarks, type BestMark, type BestMarks } from './best.js';
import { ASR_HEADER, AVERAGE_ROW } from './csv.js';
import { fmt, fmtInterval, roundFor } from './format.js';

export interface CellView {
  /** The column label (CSV header prefix). */
  col: string;
  /** Metric name as in the CSV header: "ASR (%)", the clean metric, or "DER". */
  metric: string;
  /** The mean as shown. */
  text: string;
  /** The 95% interval as shown, "[lo, hi]", or ''. */
  ci: string;
  note: string;
  cls: string;
  /** Tooltip: the best/tie mark's comparison. */
  title: string;
  mean: number | '';
  lo: number | '';
  hi: number | '';
  std: number | '';
  n: number | '';
}

export interface RowView {
  attack: string;
  /** "did not implant" for a row whose undefended ASR stayed below 50%. */
  note: string;
  cls: string;
  cells: CellView[];
}

export interface TableView {
  task: string;
  cleanMetric: string;
  caption: string;
  columns: { label: string; span: number; baseline: boolean }[];
  subheads: { text: string; cls: string }[];
  rows: RowView[];
  average: RowView;
  oracle: string;
  /** The false-trigger rate (%) per attack × column, "mean [lo, hi]". */
  ftr: { columns: string[]; rows: { attack: string; cells: string[] }[] };
}

const blank = { ci: '', title: '', lo: '' as const, hi: '' as const, std: '' as const, n: '' as const };

function markText(m: BestMark): { cls: string; note: string; title: string } {
  const p = m.p === undefined || !Number.isFinite(m.p) ? 'n/a' : m.p.toFixed(3);
  if (m.mark === 'best') return { cls: 'best', note: '', title: `ahead of ${m.runnerUp}: p (Holm) = ${p}` };
  if (m.mark === 'tie') return { cls: 'tie', note: 'tie', title: `leads ${m.runnerUp}, not significantly: p (Holm) = ${p}` };
  return { cls: '', note: '', title: '' };
}

function statCell(col: string, metric: string, fmtKey: string, s: Stat | undefined, cell: TableCell, mark: BestMark): CellView {
  const partial = cell.failed > 0 && s ? `${cell.failed} of ${cell.runs} runs failed` : '';
  if (!s) {
    const failed = cell.failed > 0 && cell.failed === cell.runs;
    // A DER needs a baseline run of the same seed: say so instead of leaving a bare gap.
    const text = failed ? 'failed' : cell.runs === 0 ? '—' : metric === 'DER' ? 'n/a' : '—';
    return { ...blank, col, metric, text, note: '', cls: failed ? 'failed' : 'missing', mean: '' };
  }
  const m = markText(mark);
  return {
    col,
    metric,
    text: fmt(s.mean, fmtKey),
    ci: fmtInterval(s, fmtKey),
    note: [m.note, partial].filter(Boolean).join('; '),
    cls: [m.cls, partial ? 'partial' : ''].filter(Boolean).join(' '),
    title: m.title,
    mean: roundFor(s.mean, fmtKey),
    lo: s.ci ? roundFor(s.ci.lo, fmtKey) : '',
    hi: s.ci ? roundFor(s.ci.hi, fmtKey) : '',
    std: s.n > 1 ? roundFor(s.std, fmtKey) : '',
    n: s.n,
  };
}

function averageCell(col: string, metric: string, fmtKey: string, v: number | undefined, attacks: number, rows: number): CellView {
  return {
    ...blank,
    col,
    metric,
    text: v === undefined ? '—' : fmt(v, fmtKey),
    note: v !== undefined && attacks < rows ? `over ${attacks} of ${rows} attacks` : '',
    cls: v === undefined ? 'missing' : '',
    mean: v === undefined ? '' : roundFor(v, fmtKey),
  };
}

/** Marks the first metric cell of a column group, where the page draws the group's left rule. */
function groupStart(cells: CellView[]): CellView[] {
  return cells.map((c, i) => (i === 0 ? { ...c, cls: `${c.cls} gstart`.trim() } : c));
}

export function tableView(t: PaperTable): TableView {
  const marks = bestMarks(t);
  const seeds = [...new Set(t.rows.flatMap((r) => r.cells.flatMap((c) => (c.asr ? [c.asr.n] : []))))];
  const seedText = seeds.length === 1 ? `n = ${seeds[0]} seed${seeds[0] > 1 ? 's' : ''} per cell` : 'the seeds of each cell (n in the CSV)';
  const asrNs = [...new Set(t.rows.flatMap((r) => r.cells.flatMap((c) => (c.asrN === undefined ? [] : [Math.round(c.asrN)]))))];
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
  const implantedRows = t.rows.filter((r) => r.implanted).length;
  return {
    task: t.task,
    cleanMetric: t.cleanMetric,
    caption: [
      `Mean over ${seedText}, with its 95% Student-t interval in brackets (n ≥ 2). ASR on triggered test inputs (${asrNs.length === 1 ? `${asrNs[0]} per run` : 'per-run counts in the CSV'}), ${t.cleanMetric} on clean ones.`,
      defended ? `DER against the same attack's no-defense column of the same model, paired by seed (0.5 = no change).` : '',
      ranked ? BEST_CAPTION : 'One defense per model: nothing to rank.',
      `Grey rows did not implant (no-defense mean ASR < 50%): they say nothing about a defense and are left out of the average.`,
      `Average row: mean over ${implantedRows} implanted attack${implantedRows === 1 ? '' : 's'} of the per-attack means.`,
    ]
      .filter(Boolean)
      .join(' '),
    columns: t.columns.map((c) => ({ label: c.label, span: c.baseline ? 2 : 3, baseline: c.baseline })),
    subheads: t.columns.flatMap((c) => [
      { text: `${ASR_HEADER} ↓`, cls: 'gstart' },
      { text: `${t.cleanMetric} ↑`, cls: '' },
      ...(c.baseline ? [] : [{ text: 'DER ↑', cls: '' }]),
    ]),
    rows: t.rows.map((r, k) => ({
      attack: r.attack,
      note: r.implanted ? '' : 'did not implant',
      cls: r.implanted ? '' : 'not-implanted',
      cells: rowCells(r.cells, marks.rows[k]),
    })),
    average: {
      attack: AVERAGE_ROW,
      note: '',
      cls: '',
      cells: t.average.flatMap((a, i) => {
        const col = t.columns[i].label;
        return groupStart([
          averageCell(col, ASR_HEADER, 'ASR', a.asr, a.attacks.asr, nRows),
          averageCell(col, t.cleanMetric, t.cleanMetric, a.clean, a.attacks.clean, nRows),
          ...(t.columns[i].baseline ? [] : [averageCell(col, 'DER', 'DER', a.der, a.attacks.der, nRows)]),
        ]);
      }),
    },
    oracle: t.oracle ? `${fmt(t.oracle.mean, t.cleanMetric)}${t.oracle.ci ? ` ${fmtInterval(t.oracle, t.cleanMetric)}` : ''}` : '',
    ftr: {
      columns: t.columns.map((c) => c.label),
      rows: t.rows.map((r) => ({ attack: r.attack, cells: r.cells.map((c) => (c.ftr ? `${fmt(c.ftr.mean, 'ASR')}${c.ftr.ci ? ` ${fmtInterval(c.ftr, 'ASR')}` : ''}` : '—')) })),
    },
  };
}
