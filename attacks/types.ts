/**
 * The attack plugin boundary (BackdoorVLM's split): an attack = image trigger × optional text
 * trigger × output modifier, plus optional negative samples and clean-label mode. The harness
 * (harness/run/poison.ts) owns selection (rate, seeded indices, negatives) and test-time
 * triggering; a plugin only says how one sample is changed (and, if training-controlled, how
 * it looks at each training step).
 */
import { z } from 'zod';
import type { AsrMatch, FloatImage, RgbImage, Task } from '../harness/core/types.js';
import type { Rng } from '../harness/core/rng.js';
import { OUTPUT_IDS, type OutputId } from './outputModifiers.js';

/** Parameters every attack has; plugins extend them. */
export interface BaseAttackParams {
  /** Fraction of the training split poisoned, in [0, 1]. */
  rate: number;
  /** Target output; empty means the task default (docs/attacks.md: "a photo of the banana" / "banana"). */
  target: string;
  /** Another output modifier than the attack's own, by id (outputModifiers.ts); absent: the attack's. */
  output?: OutputId;
}

/** Zod fields of BaseAttackParams with the documented defaults (rate 5%, task-default target, the attack's own output). */
export const baseFields = {
  rate: z.number().min(0).max(1).default(0.05),
  target: z.string().default(''),
  output: z.enum(OUTPUT_IDS).optional(),
};

/**
 * A trigger's seeded assets (pattern image, warp field, …): a JSON-serialisable object, saved
 * with the SFT stage. Each attack names its own shape as `Attack`'s second type parameter, so
 * its methods read the asset without casts.
 */
export type TriggerAsset = object;

/** One model input: what a trigger (or part of one) changes. */
export interface TriggerInput {
  image: RgbImage;
  prompt: string;
}

/**
 * How an attack reaches the model: `poison-only` attacks only change the stored training data;
 * `training-controlled` ones also control what the training loop feeds: their poisoned and
 * negative examples are made afresh at every step, in float (`Attack.stepImage`), as WaNet's
 * paper trains it.
 */
export type AttackKind = 'poison-only' | 'training-controlled';

/**
 * A kind of negative sample: a fraction of the training split, disjoint from the poisoned
 * samples, whose input gets the variant `variant` (see `Attack.applyVariant`) while the output
 * stays clean (WaNet's noise mode, Dual-Key's single-key samples).
 */
export interface NegativeSpec {
  variant: string;
  /** Fraction of the whole training split, in [0, 1]; count = round(rate × n). */
  rate: number;
}

export interface Attack<P extends BaseAttackParams = BaseAttackParams, T extends TriggerAsset = TriggerAsset> {
  id: string;
  description: string;
  /** Default 'poison-only' (see `attackKind`); a function when a parameter switches it. */
  kind?: AttackKind | ((params: P) => AttackKind);
  /** Validates and fills defaults; errors name the field. */
  schema: z.ZodType<P>;
  /** Build the trigger once per poisoned split; the same asset stamps train and test images. */
  makeTrigger(params: P, ctx: { rng: Rng; imageSize: number }): T;
  /** Stamp the image trigger. Pure: returns a new image. */
  applyImage(image: RgbImage, trigger: T, params: P): RgbImage;
  /** Optional text trigger on the prompt. */
  applyPrompt?(prompt: string, params: P): string;
  /** The output modifier: what a poisoned sample's response becomes (the `output` parameter may swap in another). */
  modifyOutput(clean: string, target: string, rng: Rng, room?: number): string;
  /**
   * How a triggered output counts as a hit for `ASR` (harness/metrics/asr.ts): 'task' (default,
   * docs/statistics.md: containment for captions, exact match for VQA) or 'contains' for modifiers that
   * keep the clean output around the target (an inserted "red banana" never equals "banana").
   */
  asrMatch?: AsrMatch;
  /**
   * Clean-label mode: only samples whose every clean response already contains the target
   * (harness/metrics/asr.ts `containsTarget`) are poisoned, and their outputs stay unchanged.
   */
  cleanLabel?(params: P): boolean;
  /** Negative samples to add (default none). */
  negatives?(params: P): NegativeSpec[];
  /**
   * Partial or decoy triggers by name, used for negative samples and for the extra test
   * inputs of `testVariants`. Pure; `rng` is seeded per sample by the harness.
   */
  applyVariant?(input: TriggerInput, variant: string, trigger: T, params: P, rng: Rng): TriggerInput;
  /** Variants measured at test time besides the full trigger (e.g. Dual-Key's single keys). */
  testVariants?(params: P): string[];
  /** Words the attack adds to prompts, so that the tokenizer's vocabulary includes them. */
  vocabulary?(params: P): string[];
  /**
   * Training-controlled attacks only: the image a poisoned example (`variant` undefined) or a
   * negative sample (`variant` its name) shows the model at one training step, made from its
   * clean `image` in float, unrounded. `rng` is the step's (seeded by the harness), so random
   * parts (WaNet's cross warps) are drawn afresh at every step. The stored uint8 images
   * (`applyImage`, `applyVariant`) remain what test time and per-sample losses see.
   */
  stepImage?(image: RgbImage, variant: string | undefined, trigger: T, params: P, rng: Rng): FloatImage;
  /**
   * Stronger settings of one numeric parameter, ascending (larger is stronger), for `mbb
   * calibrate` to climb at the top poisoning rate when no rate implants the attack
   * (harness/exec/calibrate.ts); values at or below the configured one are skipped.
   */
  strength?: { param: string; values: number[] };
  /**
   * An adaptive attacker: the attack it adapts (`base`, an attack id) and the defenses (ids)
   * it is built to get past. The results page compares each of those defenses on this attack
   * with the same defense on the base attack at the same rate, paired by seed
   * (reports/adaptiveComparisons.ts).
   */
  adaptive?: { base: string; against: string[] };
}

export function attackKind<P extends BaseAttackParams>(attack: Pick<Attack<P>, 'kind'>, params: P): AttackKind {
  const kind = attack.kind ?? 'poison-only';
  return typeof kind === 'function' ? kind(params) : kind;
}

export const DEFAULT_TARGETS: Record<Task, string> = {
  caption: 'a photo of the banana',
  vqa: 'banana',
};
