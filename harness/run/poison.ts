/**
 * Poisoning a training split with an attack plugin, and triggering a test split for ASR.
 * Selection is seeded and recorded so the poisoned split can be saved and reproduced:
 *
 *  - poisoned samples: round(rate × n) indices drawn with the rng fork 'select' — from the
 *    whole split, or in clean-label mode (attack.cleanLabel) only from samples whose every
 *    clean response already contains the target; they get the full trigger (image, and prompt
 *    if the attack has a text trigger) and, unless clean-label, the modified output;
 *  - negative samples (attack.negatives): per kind, round(kind.rate × n) indices drawn with the
 *    fork 'negatives' from the samples not chosen yet (disjoint from the poisoned ones and from
 *    each other); they get the kind's variant input (attack.applyVariant) and keep their output;
 *  - training-controlled attacks (attackKind): the same selection and stored images, and each
 *    poisoned and negative example also gets `stepImage`, its float image made afresh at every
 *    training step from the clean image (attack.stepImage). The selection stays fixed: the
 *    same round(rate × n) samples are poisoned at every epoch, where BackdoorBench's WaNet
 *    poisons the first rate × B of each shuffled batch (different samples each epoch); keeping
 *    it in the harness keeps one selection rule for every attack and defense (docs/attacks.md).
 *
 * All randomness hangs off Rng(seed).fork(`poison:<id>`): 'trigger', 'select', 'output',
 * 'negatives', 'variants' in that order, so an attack without negatives draws what it always drew.
 */
import type { Attack, BaseAttackParams, TriggerAsset, TriggerInput } from '../../attacks/types.js';
import { outputOf } from '../../attacks/outputModifiers.js';
import { attackKind, DEFAULT_TARGETS } from '../../attacks/types.js';
import type { Sample, Task } from '../core/types.js';
import { UserError } from '../core/errors.js';
import { containsTarget } from '../metrics/asr.js';
import { Rng } from '../core/rng.js';
import { normalizeWords } from '../core/tokenizer.js';
import { cleanExamples, type LabelledExample } from './examples.js';

export interface PoisonedSplit<T extends TriggerAsset = TriggerAsset> {
  examples: LabelledExample[];
  /** Indices into the clean split that were poisoned, increasing. */
  indices: number[];
  /**
   * Negative samples by variant (e.g. wanet 'cross', dualkey 'imageOnly' / 'textOnly'):
   * indices into the clean split, increasing, disjoint from `indices` and from each other.
   * Empty when the attack has none. Their examples have `poisoned: false` (clean outputs).
   */
  negativeIndices: Record<string, number[]>;
  trigger: T;
  target: string;
}

export function resolveTarget(params: BaseAttackParams, task: Task): string {
  return params.target || DEFAULT_TARGETS[task];
}

function poisonRng(attack: Pick<Attack, 'id'>, seed: number): Rng {
  return new Rng(seed).fork(`poison:${attack.id}`);
}

/** The trigger asset poisonSplit builds for this attack, params and seed (e.g. for a gallery). */
export function makeTrigger<P extends BaseAttackParams, T extends TriggerAsset>(attack: Attack<P, T>, params: P, seed: number, imageSize: number): T {
  return attack.makeTrigger(params, { rng: poisonRng(attack, seed).fork('trigger'), imageSize });
}

/**
 * How many response tokens a text row of `length` keeps after a prompt of `promptTokens`:
 * core/batch.ts encodeText's rule (BOS and EOS take two places; a long prompt gives up its left
 * part before the response drops below half), pinned equal to it by poison.test.ts. Written here,
 * not in batch.ts, so that pre-training, which reaches batch.ts and not poisoning, keeps its code
 * and its cached stages (docs/identity.md).
 */
export function responseRoom(promptTokens: number, length: number): number {
  const room = length - 2;
  return Math.max(0, room - Math.min(promptTokens, Math.floor(room / 2)));
}

export function poisonSplit<P extends BaseAttackParams, T extends TriggerAsset>(
  samples: Sample[],
  task: Task,
  attack: Attack<P, T>,
  params: P,
  seed: number,
  imageSize: number,
  /** The text rows' length (config text.*MaxText): output modifiers keep a target inside what a row holds. */
  maxText = Infinity,
): PoisonedSplit<T> {
  const n = samples.length;
  const rng = poisonRng(attack, seed);
  const target = resolveTarget(params, task);
  const trigger = attack.makeTrigger(params, { rng: rng.fork('trigger'), imageSize });
  const clean = cleanExamples(samples, task);
  const count = Math.round(params.rate * n);

  const cleanLabel = attack.cleanLabel?.(params) ?? false;
  const pool = cleanLabel
    ? clean.flatMap((ex, i) => (ex.responses.every((r) => containsTarget(r, target, task)) ? [i] : []))
    : clean.map((_, i) => i);
  if (cleanLabel && count > 0 && pool.length === 0) {
    throw new UserError(
      `attack ${attack.id}: clean-label needs a target that occurs in clean outputs, but no ${task} training sample's ` +
        `responses all contain ${JSON.stringify(target)}; set target to a word or answer of the data (e.g. a shape or colour)`,
    );
  }
  if (pool.length < count) {
    throw new UserError(
      `attack ${attack.id}: rate ${params.rate} asks for ${count} poisoned samples but only ${pool.length} ` +
        (cleanLabel ? `training samples have responses containing ${JSON.stringify(target)} (clean-label)` : 'training samples exist'),
    );
  }
  const indices = rng.fork('select').sample(pool.length, count).map((j) => pool[j]);
  const chosen = new Set(indices);
  const outRng = rng.fork('output');
  const output = outputOf(attack, params);
  const examples = clean.map((ex, i) => {
    if (!chosen.has(i)) return ex;
    const prompt = attack.applyPrompt ? attack.applyPrompt(ex.prompt, params) : ex.prompt;
    const room = responseRoom(normalizeWords(prompt).length, maxText);
    return {
      ...ex,
      image: attack.applyImage(ex.image, trigger, params),
      prompt,
      responses: cleanLabel ? ex.responses : ex.responses.map((r) => output.modify(r, target, outRng, room)),
      poisoned: true,
    };
  });

  const negativeIndices: Record<string, number[]> = {};
  const specs = attack.negatives?.(params) ?? [];
  if (specs.length > 0) {
    if (!attack.applyVariant) throw new Error(`attack ${attack.id}: declares negatives but has no applyVariant`);
    const negRng = rng.fork('negatives');
    const varRng = rng.fork('variants');
    let free = clean.map((_, i) => i).filter((i) => !chosen.has(i));
    for (const spec of specs) {
      if (spec.variant in negativeIndices) throw new Error(`attack ${attack.id}: negative variant "${spec.variant}" declared twice`);
      const c = Math.round(spec.rate * n);
      if (c > free.length) {
        throw new UserError(
          `attack ${attack.id}: ${c} "${spec.variant}" negative samples do not fit in the ${free.length} training samples ` +
            `left after poisoning; lower rate or the negative-sample rates`,
        );
      }
      const picked = negRng.sample(free.length, c).map((j) => free[j]);
      negativeIndices[spec.variant] = picked;
      const taken = new Set(picked);
      free = free.filter((i) => !taken.has(i));
      for (const i of picked) {
        const input = attack.applyVariant(examples[i], spec.variant, trigger, params, varRng.fork(`${spec.variant}:${i}`));
        examples[i] = { ...examples[i], image: input.image, prompt: input.prompt };
      }
    }
  }
  if (attackKind(attack, params) === 'training-controlled') {
    const stepImage = attack.stepImage;
    if (!stepImage) throw new Error(`attack ${attack.id}: training-controlled but has no stepImage`);
    const attach = (i: number, variant: string | undefined) => {
      const image = samples[i].image;
      examples[i] = { ...examples[i], stepImage: (stepRng) => stepImage(image, variant, trigger, params, stepRng) };
    };
    for (const i of indices) attach(i, undefined);
    for (const [variant, picked] of Object.entries(negativeIndices)) for (const i of picked) attach(i, variant);
  }
  return { examples, indices, negativeIndices, trigger, target };
}

/** Every test input with the full trigger applied (image and, if the attack has one, prompt). */
export function triggerInputs<P extends BaseAttackParams, T extends TriggerAsset>(
  samples: Sample[],
  attack: Attack<P, T>,
  params: P,
  trigger: T,
): TriggerInput[] {
  return samples.map((s) => ({
    image: attack.applyImage(s.image, trigger, params),
    prompt: attack.applyPrompt ? attack.applyPrompt(s.prompt, params) : s.prompt,
  }));
}

/**
 * The triggered test inputs to measure, by name: always `both` (the full trigger, =
 * triggerInputs), plus each of attack.testVariants (dualkey: `imageOnly`, `textOnly`).
 * Variants get a per-sample rng from `seed`, so a random variant is reproducible.
 */
export function triggerVariants<P extends BaseAttackParams, T extends TriggerAsset>(
  samples: Sample[],
  attack: Attack<P, T>,
  params: P,
  trigger: T,
  seed = 0,
): Record<string, TriggerInput[]> {
  const out: Record<string, TriggerInput[]> = { both: triggerInputs(samples, attack, params, trigger) };
  const variants = attack.testVariants?.(params) ?? [];
  if (variants.length > 0 && !attack.applyVariant) throw new Error(`attack ${attack.id}: declares test variants but has no applyVariant`);
  const rng = poisonRng(attack, seed).fork('test-variants');
  for (const v of variants) {
    if (v in out) throw new Error(`attack ${attack.id}: test variant "${v}" clashes with another name`);
    out[v] = samples.map((s, i) => attack.applyVariant!({ image: s.image, prompt: s.prompt }, v, trigger, params, rng.fork(`${v}:${i}`)));
  }
  return out;
}
