/**
 * What each detecting defense found, per cell of a task's table (model × attack × defense), as
 * means over seeds with their 95% intervals, all fractions in [0, 1]:
 * - `AUROC`: how well its suspicion score ranks the poisoned training examples first, at the
 *   last epoch it scored (PCR, ABL, remove, BYE; reports/detection.ts has every epoch);
 * - `removal precision` / `removal recall`: the training examples it removed against the
 *   poisoned ground truth it never saw (remove, BYE: RunRecord.removal);
 * - `flagged triggered` / `flagged clean`: the share of triggered and of clean test inputs it
 *   flagged (CleanSight: the `flagged` and `flagged clean` metrics, harness/evaluate.ts).
 * One row per suspicion score (every defense here has one), or one row without a score for a
 * defense that only flags; cells without any of these facts have no row.
 */
import type { RunRecord } from '../harness/core/record.js';
import { stat, uniq, type PaperTable, type Stat } from './aggregate.js';
import { metricValue } from './recordFields.js';

export const DETECTION_METRICS = ['AUROC', 'removal precision', 'removal recall', 'flagged triggered', 'flagged clean'] as const;
export type DetectionMetric = (typeof DETECTION_METRICS)[number];

/** A metric's column header on the pages (the CSV uses the bare names). */
export function detectionHeader(m: DetectionMetric): string {
  return m === 'AUROC' ? 'AUROC (last epoch)' : m;
}

export interface DetectionSummaryRow {
  model: string;
  attack: string;
  defense: string;
  /** The table column's label: the defense, model-prefixed when the table has several models (as Comparison.defense). */
  column: string;
  /** The suspicion score the AUROC is of; '' for a defense that scores no training example. */
  score: string;
  /** Whether the attack implanted in this model (the paper table's cell). */
  implanted?: boolean;
  /** Successful runs of the cell. */
  runs: number;
  stats: Partial<Record<DetectionMetric, Stat>>;
}

/** JSON turns NaN into null: anything but a number is "not recorded". */
const num = (v: unknown) => (typeof v === 'number' ? v : NaN);

function valuesOf(r: RunRecord, score: string): Record<DetectionMetric, number> {
  const epochs = r.suspicion?.[score] ?? [];
  return {
    AUROC: num(epochs[epochs.length - 1]?.auroc),
    'removal precision': num(r.removal?.precision),
    'removal recall': num(r.removal?.recall),
    'flagged triggered': metricValue(r, 'flagged'),
    'flagged clean': metricValue(r, 'flagged clean'),
  };
}

export function detectionSummary(t: PaperTable, records: RunRecord[]): DetectionSummaryRow[] {
  const ok = records.filter((r) => r.status === 'ok' && r.task === t.task);
  return t.rows.flatMap((row) =>
    t.columns.flatMap((col, i) => {
      const runs = ok.filter((r) => r.attack === row.attack && r.model === col.model && r.defense === col.defense);
      const scores = uniq(runs.flatMap((r) => Object.keys(r.suspicion ?? {})));
      return (scores.length ? scores : ['']).flatMap((score) => {
        const values = runs.map((r) => valuesOf(r, score));
        const stats: DetectionSummaryRow['stats'] = {};
        for (const m of DETECTION_METRICS) {
          const s = stat(values.map((v) => v[m]), [0, 1]);
          if (s) stats[m] = s;
        }
        if (Object.keys(stats).length === 0) return [];
        return [{ model: col.model, attack: row.attack, defense: col.defense, column: col.label, score, implanted: row.cells[i].implanted, runs: runs.length, stats }];
      });
    }),
  );
}
