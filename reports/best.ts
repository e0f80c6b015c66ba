/**
 * "Best" marks of a paper table. In each row (an attack, or the average row) and for each
 * model, among that model's defense columns (the no-defense baseline included, as it is the
 * reference a defense has to beat): the lowest ASR, the highest clean metric, and among the
 * defended columns the highest DER. Values are compared as shown (rounded), so equal-looking
 * figures are marked alike; a mark needs at least two columns with a value to compare.
 */
import type { PaperTable } from './aggregate.js';
import { roundFor } from './format.js';

export interface BestMarks {
  asr: boolean;
  clean: boolean;
  der: boolean;
}

export const BEST_CAPTION =
  'Best (bold, green): per row, among the same model\'s columns (the no-defense column counts too): the lowest ASR, the highest clean metric, the highest DER.';

function marks(values: (number | undefined)[], groups: string[], metric: string, lowerIsBetter: boolean): boolean[] {
  const out = values.map(() => false);
  for (const g of new Set(groups)) {
    const idx = values.map((_, i) => i).filter((i) => groups[i] === g && values[i] !== undefined && Number.isFinite(values[i]!));
    if (idx.length < 2) continue;
    const shown = idx.map((i) => roundFor(values[i]!, metric));
    const best = lowerIsBetter ? Math.min(...shown) : Math.max(...shown);
    idx.forEach((i, k) => (out[i] = shown[k] === best));
  }
  return out;
}

function rowMarks(t: PaperTable, asr: (number | undefined)[], clean: (number | undefined)[], derV: (number | undefined)[]): BestMarks[] {
  const groups = t.columns.map((c) => c.model);
  const a = marks(asr, groups, 'ASR', true);
  const c = marks(clean, groups, t.cleanMetric, false);
  const d = marks(derV, groups, 'DER', false);
  return t.columns.map((_, i) => ({ asr: a[i], clean: c[i], der: d[i] }));
}

/** Marks per row (same order as `t.rows`) and for the average row. */
export function bestMarks(t: PaperTable): { rows: BestMarks[][]; average: BestMarks[] } {
  return {
    rows: t.rows.map((r) =>
      rowMarks(
        t,
        r.cells.map((c) => c.asr?.mean),
        r.cells.map((c) => c.clean?.mean),
        r.cells.map((c) => c.der?.mean),
      ),
    ),
    average: rowMarks(
      t,
      t.average.map((c) => c.asr),
      t.average.map((c) => c.clean),
      t.average.map((c) => c.der),
    ),
  };
}
