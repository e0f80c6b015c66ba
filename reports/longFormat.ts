/** Long format: one row per run × metric, the source of truth for any other table. */
import type { RunRecord } from '../harness/core/record.js';
import { lastEpochAuroc } from './detection.js';
import { attackId, poisonRate } from './recordFields.js';

export type LongRow = Record<string, string | number>;

export const LONG_COLUMNS = ['run', 'status', 'task', 'model', 'attack', 'attackId', 'rate', 'defense', 'seed', 'metric', 'value'] as const;

export function longRows(records: RunRecord[]): LongRow[] {
  const rows: LongRow[] = [];
  for (const r of records) {
    const base = {
      run: r.id,
      status: r.status,
      task: r.task,
      model: r.model,
      attack: r.attack,
      attackId: attackId(r),
      rate: poisonRate(r) ?? '',
      defense: r.defense,
      seed: r.seed,
    };
    if (r.status !== 'ok') rows.push({ ...base, metric: 'error', value: r.error ?? '' });
    // A metric that was NaN is null after JSON: an empty cell, not the string "null".
    const removal = r.removal ? { 'removal precision': r.removal.precision, 'removal recall': r.removal.recall, 'removal n': r.removal.removed } : {};
    for (const [metric, value] of Object.entries({ ...r.metrics, ...lastEpochAuroc(r), ...removal })) rows.push({ ...base, metric, value: typeof value === 'number' ? value : '' });
  }
  return rows;
}
