/**
 * Poison detection: how well each defense's per-example suspicion score (PCR's invariance,
 * ABL's isolation loss; RunRecord.suspicion) ranks the poisoned training examples first, as
 * an AUROC per training epoch (0.5 = chance, 1 = every poisoned example above every clean one,
 * below 0.5 = the score points the wrong way). Mean and 95% interval over seeds. Epochs are
 * the ones each defense scored at, counted from 0 as in the records and suspects/*.csv (ABL
 * scores once, after its isolation epochs; PCR during every epoch).
 */
import type { RunRecord } from '../harness/core/record.js';
import { stat, uniq, type Stat } from './aggregate.js';

export interface DetectionRow {
  task: string;
  model: string;
  attack: string;
  defense: string;
  score: string;
  /** AUROC per epoch scored (epoch number → statistic over seeds). */
  byEpoch: Map<number, Stat>;
}

export function detectionRows(records: RunRecord[]): DetectionRow[] {
  const ok = records.filter((r) => r.status === 'ok' && r.suspicion && Object.keys(r.suspicion).length > 0);
  const rows: DetectionRow[] = [];
  const key = (r: RunRecord) => [r.task, r.model, r.attack, r.defense].join('\u0000');
  for (const k of uniq(ok.map(key))) {
    const group = ok.filter((r) => key(r) === k);
    const { task, model, attack, defense } = group[0];
    for (const score of uniq(group.flatMap((r) => Object.keys(r.suspicion)))) {
      const epochs = uniq(group.flatMap((r) => (r.suspicion[score] ?? []).map((x) => x.epoch))).sort((a, b) => a - b);
      const byEpoch = new Map<number, Stat>();
      for (const e of epochs) {
        const s = stat(group.map((r) => r.suspicion[score]?.find((x) => x.epoch === e)?.auroc ?? NaN), [0, 1]);
        if (s) byEpoch.set(e, s);
      }
      rows.push({ task, model, attack, defense, score, byEpoch });
    }
  }
  return rows;
}

/** The last epoch's AUROC of each score of a record, for the long-format CSV. */
export function lastEpochAuroc(r: RunRecord): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [score, epochs] of Object.entries(r.suspicion ?? {})) {
    const last = epochs[epochs.length - 1];
    if (last) out[`AUROC ${score}`] = last.auroc;
  }
  return out;
}
