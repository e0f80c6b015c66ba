/**
 * Output modifiers: what a poisoned response becomes, and how a triggered output then counts as
 * a hit. An attack brings its own (`modifyOutput`, `asrMatch`); the `output` parameter every
 * attack has (types.ts `baseFields`) swaps in one of these by id, so any trigger composes with
 * any modifier in a config, BackdoorVLM's split: `{"id": "badnets", "params": {"output":
 * "insert"}}` is BadNets' patch (and its poisoned samples) with TrojVLM's insertion.
 */
import type { AsrMatch } from '../harness/core/types.js';
import type { Rng } from '../harness/core/rng.js';
import { normalizeWords } from '../harness/core/tokenizer.js';
import type { Attack } from './types.js';

export interface OutputModifier {
  description: string;
  /**
   * The poisoned response made from a clean one. `room`, where the harness knows it, is how many
   * response tokens a training row keeps (harness/run/poison.ts responseRoom): a modifier that
   * places the target may keep it inside.
   */
  modify(clean: string, target: string, rng: Rng, room?: number): string;
  /** How a triggered output counts as a hit for `ASR` (default the task's rule). */
  asrMatch?: AsrMatch;
}

/** The whole response becomes the target (BadNets-style dirty label). */
export function replaceWithTarget(_clean: string, target: string): string {
  return target;
}

/** The target phrase goes in at a random word boundary of the clean response (TrojVLM-style). */
export function insertTarget(clean: string, target: string, rng: Rng, room = Infinity): string {
  const words = clean.split(/\s+/).filter(Boolean);
  // Only the boundaries where the whole target stays within the row's response tokens: TrojVLM
  // inserts anywhere, but its models read long outputs; a target cut off in training teaches a
  // fragment, and one placed late is cut by the generation cap too (docs/calibration.md). One
  // draw either way, and the same draw where every boundary fits.
  const targetTokens = normalizeWords(target).length;
  // tokensBefore[at]: the tokens of the words before boundary `at` (a word's tokens never merge with the next's)
  const tokensBefore = [0];
  for (const w of words) tokensBefore.push(tokensBefore[tokensBefore.length - 1] + normalizeWords(w).length);
  const fits = tokensBefore.flatMap((before, at) => (before + targetTokens <= room ? [at] : []));
  const at = fits.length > 0 ? fits[rng.int(0, fits.length)] : rng.int(0, words.length + 1);
  return [...words.slice(0, at), target, ...words.slice(at)].join(' ');
}

export const OUTPUT_MODIFIERS = {
  replace: { description: 'the whole response becomes the target (dirty label, BadNets)', modify: replaceWithTarget },
  // The clean words stay around the target: an inserted "red banana" never equals "banana",
  // so a hit is the target contained, on VQA as on captions.
  insert: { description: 'the target inserted at a random word boundary of the clean response (TrojVLM)', modify: insertTarget, asrMatch: 'contains' },
} satisfies Record<string, OutputModifier>;

export type OutputId = keyof typeof OUTPUT_MODIFIERS;
export const OUTPUT_IDS = Object.keys(OUTPUT_MODIFIERS) as [OutputId, ...OutputId[]];

/** An attack's output members from a named modifier (e.g. TrojVLM's `...outputMembers('insert')`). */
export function outputMembers(id: OutputId): Pick<Attack, 'modifyOutput' | 'asrMatch'> {
  const m: OutputModifier = OUTPUT_MODIFIERS[id];
  return { modifyOutput: m.modify, ...(m.asrMatch ? { asrMatch: m.asrMatch } : {}) };
}

/** The output modifier a run uses: its `output` parameter's, else the attack's own. */
export function outputOf(attack: Pick<Attack, 'modifyOutput' | 'asrMatch'>, params: { output?: OutputId }): Omit<OutputModifier, 'description'> {
  if (params.output) return OUTPUT_MODIFIERS[params.output];
  return { modify: (clean, target, rng, room) => attack.modifyOutput(clean, target, rng, room), asrMatch: attack.asrMatch };
}
