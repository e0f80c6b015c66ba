/**
 * Named experiment profiles, layered over the schema defaults.
 * - smoke: every registered attack × defense on both tasks with a tiny model, in a few minutes
 *   (tests, CI): proves each plugin runs end to end, says nothing about the numbers;
 * - default: run-all's profile: the six attacks at their calibrated rates × none, PCR, FP,
 *   jitter and CleanSight × both tasks, llava, one seed: a real table in one sitting (CleanSight
 *   is an inference-time defense on the undefended model: its runs cost an evaluation each; BYE
 *   and RobustIT, a fine-tune each, would not fit the 20 minutes).
 * - paper: the paper's tables: 3 model families × both tasks × the six attacks × every defense
 *   × 10 seeds (chosen from the power line), at the default profile's sizes (a batch job: shard
 *   it, see `mbb estimate`).
 * - results: docs/results.md's grid: llava × both tasks × the six calibrated attacks and the two
 *   adaptive ones × every registered defense × 10 seeds (a run over several sessions: it resumes).
 * The values of smoke and default are fixed: their cached stages and records are keyed by them.
 */
import { ATTACKS } from '../../attacks/registry.js';
import { DEFENSES } from '../../defenses/registry.js';

const every = (registry: Record<string, unknown>) => Object.keys(registry).map((id) => ({ id, params: {} }));

/**
 * The clean model's sizes, chosen on the validation split (docs/models.md; llava, seed 1, the
 * clean model; 1000 VQA images, 500 caption images; rule fixed before: the higher validation
 * clean metric wins, within 1 point the cheaper, among settings within the cost bound). The
 * vision tower is pre-trained on its own and frozen after: two encoder layers, 60 epochs over
 * 6000 corpus scenes (it names the shape of 98.8% of held-out object patches, the position of
 * 91.6%; one layer at 30 epochs over 3000: 75% and 65%). Captions: validation CIDEr-D 4.49
 * against 4.02 with the former tower.
 */
const VISION = { epochs: 60, images: 6000 };
const MODEL = { encoderLayers: 2 };

/**
 * Per-task overrides of the default and paper profiles: VQA needs finer visual tokens (no
 * merge) to answer shape/position questions; its short answers make each sample cheaper. Two
 * questions per image over 3000 images and 20 pre-training epochs: validation accuracy 87.9%
 * ("what shape" 93.2%, "where" 87.0%), against 69.1% (55.0%, 75.0%) for the former model
 * (one question over 6000 images, 10 epochs, the one-layer tower). With the new tower, one
 * question over 6000 images gave 76.1% at 10 epochs and 85.8% at 20; two over 6000 reached
 * 91.2% but double every VQA SFT, outside the cost bound.
 */

/**
 * The six attacks at the rates `mbb calibrate` chose on the validation split (docs/calibration.md):
 * the smallest rung of 1, 2, 5, 10, 20% whose undefended val ASR has a 95% lower bound ≥ 90%
 * while keeping ≥ 95% of the clean model's val metric; llava, 3 seeds, the sizes above, commit
 * ffdef65. Val ASR mean [95% interval], n = 3 each:
 *
 * | attack  | caption                               | VQA                                   |
 * | ------- | ------------------------------------- | ------------------------------------- |
 * | badnets | 20%: 98.0 [91.4, 100.0]               | 10%: 96.2 [91.5, 100.0]               |
 * | blended | none; closest 20%: 94.7 [89.5, 99.8]  | 20%: 96.5 [94.3, 98.7]                |
 * | sig     | 5%: 97.7 [92.5, 100.0]                | 5%: 96.2 [92.4, 100.0]                |
 * | wanet   | none; closest 5%: 1.0 [0.0, 5.3]      | none; closest 5%: 3.3 [0.2, 6.5]      |
 * | trojvlm | none; closest 20%: 83.7 [75.7, 91.7]  | 20%: 97.8 [92.7, 100.0]               |
 * | dualkey | 10%: 99.3 [97.9, 100.0]               | none; closest 20%: 80.8 [52.2, 100.0] |
 *
 * An attack that reached no rung stays at its closest rung, and the tables show it as it is:
 * WaNet implants on no rung without breaking captioning (at 20% its caption val ASR is 74% with
 * CIDEr-D at 20% of the clean model's); Blended's captions miss the bound by half a point,
 * TrojVLM's by six; Dual-Key's VQA reaches 71–94% across the seeds at 20%.
 */
/** Each attack at its caption rate, and its VQA rate for VQA's runs (one label, one row per task's table). */
const calibrated = (rates: Record<string, [caption: number, vqa: number]>) =>
  Object.entries(rates).map(([id, [caption, vqa]]) => ({ id, params: { rate: caption }, perTask: { vqa: { rate: vqa } } }));
const CALIBRATED = calibrated({ badnets: [0.2, 0.1], blended: [0.2, 0.2], sig: [0.05, 0.05], wanet: [0.05, 0.05], trojvlm: [0.2, 0.2], dualkey: [0.1, 0.2] });

/**
 * The adaptive attackers (issue 18) are BadNets' patch with a twist (viewinv: also poisons the
 * patch-shuffled view, against PCR; randpatch: a random position, against jitter and aug), so
 * they take BadNets' calibrated rate on each task.
 */
const ADAPTIVE = calibrated({ viewinv: [0.2, 0.1], randpatch: [0.2, 0.1] });

const DEFAULT_PER_TASK = {
  vqa: {
    data: { nTrain: 3000, questionsPerImage: 2 },
    model: { merge: 1 },
    pretrain: { epochs: 20 },
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
    attacks: CALIBRATED,
    defenses: ['none', 'pcr', 'fp', 'jitter', 'cleansight'].map((id) => ({ id, params: {} })),
    model: MODEL,
    vision: VISION,
    perTask: DEFAULT_PER_TASK,
  },
  paper: {
    name: 'paper',
    // Listed, not taken from the registries: the paper's table is a fixed set, and a family
    // that is not registered yet fails validation by name instead of silently shrinking it.
    models: ['llava', 'blip2', 'flamingo'],
    attacks: CALIBRATED,
    defenses: ['none', 'pcr', 'pcr-aug', 'pcr-cv', 'ft', 'fp', 'nad', 'abl', 'aug', 'jitter'].map((id) => ({ id, params: {} })),
    // From the power line (docs/statistics.md), by the rule fixed before the run: the seeds a
    // 20-point paired ΔASR needs at 80% power, and at least 6 (the exact sign-flip floor).
    // Measured: caption BadNets 5%, llava, default sizes, none/pcr/fp × 8 seeds: pooled seed sd
    // of the paired ASR differences 22.4 points → 10 seeds (a 10-point difference would need 40).
    seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    model: MODEL,
    vision: VISION,
    perTask: DEFAULT_PER_TASK,
  },
  results: {
    name: 'results',
    attacks: [...CALIBRATED, ...ADAPTIVE],
    defenses: every(DEFENSES),
    seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    model: MODEL,
    vision: VISION,
    perTask: DEFAULT_PER_TASK,
  },
};
