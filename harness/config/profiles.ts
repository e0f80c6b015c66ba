/**
 * Named experiment profiles, layered over the schema defaults.
 * - smoke: every registered attack × defense on both tasks with a tiny model, in a few minutes
 *   (tests, CI): proves each plugin runs end to end, says nothing about the numbers;
 * - default: run-all's profile (≤ 20 minutes on 2 cores): BadNets, none vs PCR, both tasks.
 * - paper: the paper's tables: 3 model families × both tasks × the six attacks × every defense
 *   × 10 seeds (chosen from the power line), at the default profile's sizes (a batch job: shard
 *   it, see `mbb estimate`).
 * The values of smoke and default are fixed: their cached stages and records are keyed by them.
 */
import { ATTACKS } from '../../attacks/registry.js';
import { DEFENSES } from '../../defenses/registry.js';

const every = (registry: Record<string, unknown>) => Object.keys(registry).map((id) => ({ id, params: {} }));

/**
 * Per-task overrides of the default and paper profiles: VQA needs finer visual tokens (no
 * merge) and more distinct images than captioning to answer shape/position questions; its short
 * answers make each sample cheaper. Chosen on the validation split ("val VQA-acc", session 1).
 */
/**
 * The vision tower pre-trained on its own and frozen after (docs/models.md), chosen on the
 * validation split (1000 VQA questions, 500 caption images; llava, seed 1; rule fixed before:
 * the higher validation clean metric wins, within 1 point the cheaper): captions CIDEr-D 3.90
 * against 2.59 without, VQA accuracy 70.5% against 56.8% ("where" 75.5% against 50.5%).
 */
const VISION = { epochs: 30 };

const DEFAULT_PER_TASK = {
  vqa: {
    data: { nTrain: 6000, questionsPerImage: 1 },
    model: { merge: 1 },
    pretrain: { epochs: 10 },
    sft: { epochs: 4 },
  },
};

export const PROFILES: Record<string, Record<string, unknown>> = {
  smoke: {
    name: 'smoke',
    attacks: every(ATTACKS),
    defenses: every(DEFENSES),
    data: { nTrain: 160, nVal: 20, nTest: 40 },
    model: { patch: 8, merge: 1, width: 32, heads: 2, encoderLayers: 1, decoderLayers: 1 },
    pretrain: { epochs: 2 },
    sft: { epochs: 1 },
    eval: { batchSize: 40 },
  },
  default: {
    name: 'default',
    vision: VISION,
    perTask: DEFAULT_PER_TASK,
  },
  paper: {
    name: 'paper',
    // Listed, not taken from the registries: the paper's table is a fixed set, and a family
    // that is not registered yet fails validation by name instead of silently shrinking it.
    models: ['llava', 'blip2', 'flamingo'],
    // The default 5% (docs/attacks.md), except where an attack needs more to implant at this scale (measured,
    // issue 3 notes): blended 10%, trojvlm 20%. WaNet implants at no rate tried (on the fly, not at 5%
    // with s up to 4 either: docs/attacks.md); it stays at 5%.
    attacks: [
      { id: 'badnets', params: {} },
      { id: 'blended', params: { rate: 0.1 }, label: 'blended@0.1' },
      { id: 'sig', params: {} },
      { id: 'wanet', params: {} },
      { id: 'trojvlm', params: { rate: 0.2 }, label: 'trojvlm@0.2' },
      { id: 'dualkey', params: {} },
    ],
    defenses: ['none', 'pcr', 'pcr-aug', 'pcr-cv', 'ft', 'fp', 'nad', 'abl', 'aug', 'jitter'].map((id) => ({ id, params: {} })),
    // From the power line (docs/statistics.md), by the rule fixed before the run: the seeds a
    // 20-point paired ΔASR needs at 80% power, and at least 6 (the exact sign-flip floor).
    // Measured: caption BadNets 5%, llava, default sizes, none/pcr/fp × 8 seeds: pooled seed sd
    // of the paired ASR differences 22.4 points → 10 seeds (a 10-point difference would need 40).
    seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    vision: VISION,
    perTask: DEFAULT_PER_TASK,
  },
};
