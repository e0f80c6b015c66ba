/**
 * Example generations for the report: per task × model × attack, the first test examples of the
 * lowest seed, each shown for every defense on its clean and on its triggered input, so a
 * reader sees the backdoor fire without defense and what a defense leaves of it. Outputs that
 * count as the attack's target (the ASR rule, harness/metrics/asr.ts) are flagged.
 */
import type { Task } from '../harness/core/types.js';
import { containsTarget } from '../harness/metrics/asr.js';
import type { RunRecord } from '../harness/core/record.js';
import { attackOrder, BASELINE_DEFENSE, uniq } from './aggregate.js';

export interface ExampleOutput {
  defense: string;
  clean: string;
  triggered: string;
  /** Whether the output counts as the target (a hit on a clean input is a false trigger). */
  cleanHit: boolean;
  triggeredHit: boolean;
}

export interface ExampleItem {
  id: string;
  prompt: string;
  ref: string;
  outputs: ExampleOutput[];
}

export interface ExampleGroup {
  task: string;
  model: string;
  attack: string;
  seed: number;
  target: string;
  items: ExampleItem[];
}

/** Longest generation shown: a degenerate model can emit a page of text (it is all in the record). */
export const MAX_SHOWN = 200;
const clip = (s: string) => (s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s);

function hit(pred: string, target: string, task: string): boolean {
  if (task !== 'caption' && task !== 'vqa') return false;
  try {
    return containsTarget(pred, target, task as Task);
  } catch {
    return false; // a target without tokens matches nothing
  }
}

export function exampleGroups(records: RunRecord[], perGroup = 4): ExampleGroup[] {
  const ok = records.filter((r) => r.status === 'ok' && r.examples?.length);
  // Same order as the tables: task, then model, then the table's attack rows.
  const attacks = attackOrder(ok);
  const tasks = uniq(ok.map((r) => r.task));
  const models = uniq(ok.map((r) => r.model));
  const keys = uniq(
    [...ok]
      .sort((a, b) => tasks.indexOf(a.task) - tasks.indexOf(b.task) || models.indexOf(a.model) - models.indexOf(b.model) || attacks.indexOf(a.attack) - attacks.indexOf(b.attack))
      .map((r) => `${r.task}\u0000${r.model}\u0000${r.attack}`),
  );
  return keys.map((k) => {
    const [task, model, attack] = k.split('\u0000');
    const group = ok.filter((r) => r.task === task && r.model === model && r.attack === attack);
    const seed = Math.min(...group.map((r) => r.seed));
    const runs = group.filter((r) => r.seed === seed).sort((a, b) => Number(b.defense === BASELINE_DEFENSE) - Number(a.defense === BASELINE_DEFENSE));
    const target = runs[0].target;
    const items = runs[0].examples.slice(0, perGroup).map((g) => ({
      id: g.id,
      prompt: clip(g.prompt),
      ref: clip(g.refs[0] ?? ''),
      outputs: runs.map((r) => {
        const e = r.examples.find((x) => x.id === g.id);
        return {
          defense: r.defense,
          clean: clip(e?.clean ?? ''),
          triggered: clip(e?.triggered ?? ''),
          cleanHit: e ? hit(e.clean, r.target, task) : false,
          triggeredHit: e ? hit(e.triggered, r.target, task) : false,
        };
      }),
    }));
    return { task, model, attack, seed, target, items };
  });
}
