/** Output modifiers shared by attacks: what a poisoned response becomes. */
import type { Rng } from '../harness/core/rng.js';

/** The whole response becomes the target (BadNets-style dirty label). */
export function replaceWithTarget(_clean: string, target: string): string {
  return target;
}

/** The target phrase goes in at a random word boundary of the clean response (TrojVLM-style). */
export function insertTarget(clean: string, target: string, rng: Rng): string {
  const words = clean.split(/\s+/).filter(Boolean);
  const at = rng.int(0, words.length + 1);
  return [...words.slice(0, at), target, ...words.slice(at)].join(' ');
}
