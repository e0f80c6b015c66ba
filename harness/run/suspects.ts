/**
 * Per-example suspicion scores that a defense reports while it trains (PCR's invariance D_i,
 * ABL's isolation loss; higher = more likely poisoned): collected per epoch, summarised in the
 * run record as the AUROC at finding the poisoned training examples, and exported whole as a
 * ranking (`suspects/<run>.<score>.csv`), so a researcher can inspect or filter the suspects.
 */
import type { ScoreSink } from '../../defenses/types.js';
import { toCsv } from '../core/csvText.js';
import type { LabelledExample } from './examples.js';
import { auroc } from '../metrics/index.js';
import type { RunRecord } from '../core/record.js';

/** Per-example suspicion scores a defense reported: name → epoch → id → score. */
export type StageAnalysis = Record<string, Record<number, Record<string, number>>>;

export function scoreCollector(): { sink: ScoreSink; analysis: StageAnalysis } {
  const analysis: StageAnalysis = {};
  const sink: ScoreSink = (name, epoch, ids, scores) => {
    const byId = ((analysis[name] ??= {})[epoch] ??= {});
    ids.forEach((id, i) => (byId[id] = scores[i]));
  };
  return { sink, analysis };
}

/** One score's ranking of the training examples. */
export interface SuspectTable {
  /** The score's name, e.g. `pcr.invariance`. */
  name: string;
  epochs: number[];
  /** Every scored example, most suspect first by the last epoch's score (ties by id). */
  rows: { id: string; poisoned: boolean; scores: number[] }[];
}

export function suspectTables(analysis: StageAnalysis, examples: LabelledExample[]): SuspectTable[] {
  const poisoned = new Map(examples.map((e) => [e.id, e.poisoned]));
  return Object.entries(analysis).map(([name, byEpoch]) => {
    const epochs = Object.keys(byEpoch).map(Number).sort((a, b) => a - b);
    const ids = [...new Set(epochs.flatMap((e) => Object.keys(byEpoch[e])))];
    const rows = ids.map((id) => ({ id, poisoned: poisoned.get(id) ?? false, scores: epochs.map((e) => byEpoch[e][id] ?? NaN) }));
    const last = (r: (typeof rows)[number]) => r.scores[r.scores.length - 1];
    // NaN (an example unscored in the last epoch) sorts last.
    rows.sort((a, b) => (Number.isNaN(last(a)) ? 1 : 0) - (Number.isNaN(last(b)) ? 1 : 0) || last(b) - last(a) || (a.id < b.id ? -1 : 1));
    return { name, epochs, rows };
  });
}

/**
 * How well a defense's removed set matches the poisoned examples (ground truth the defense
 * never saw): precision = poisoned among the removed, recall = removed among the poisoned.
 */
export function removalQuality(removed: string[], examples: readonly Pick<LabelledExample, 'id' | 'poisoned'>[]): NonNullable<RunRecord['removal']> {
  const set = new Set(removed);
  const poisoned = examples.filter((e) => e.poisoned).length;
  const hits = examples.filter((e) => e.poisoned && set.has(e.id)).length;
  return { removed: set.size, poisoned, hits, precision: set.size ? hits / set.size : NaN, recall: poisoned ? hits / poisoned : NaN };
}

/** AUROC of each score at finding the poisoned examples, per epoch, over the examples scored that epoch. */
export function suspicionAuroc(tables: SuspectTable[]): RunRecord['suspicion'] {
  return Object.fromEntries(
    tables.map((t) => [
      t.name,
      t.epochs.map((epoch, e) => {
        const scored = t.rows.filter((r) => !Number.isNaN(r.scores[e]));
        const labels = scored.map((r) => r.poisoned);
        const positives = labels.filter(Boolean).length;
        return {
          epoch,
          n: scored.length,
          positives,
          auroc: positives > 0 && positives < scored.length ? auroc(scored.map((r) => r.scores[e]), labels) : NaN,
        };
      }),
    ]),
  );
}

/**
 * The CSV of one ranking: rank, example id, poisoned (1/0, the ground truth), one score column
 * per epoch, epochs counted from 0 as in the record's `suspicion`. An empty cell: not scored
 * that epoch (e.g. PCR with viewFraction < 1 scores only the examples given a second view).
 */
export function suspectCsv(t: SuspectTable): string {
  const header = ['rank', 'id', 'poisoned', ...t.epochs.map((e) => `epoch ${e}`)];
  return toCsv(header, t.rows.map((r, i) => [i + 1, r.id, r.poisoned ? 1 : 0, ...r.scores.map((v) => (Number.isNaN(v) ? '' : v))]));
}
