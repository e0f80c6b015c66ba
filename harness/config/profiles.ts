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

/**
 * The six attacks at the rates `mbb calibrate` chose on the validation split (docs/calibration.md):
 * the smallest rung of 1, 2, 5, 10, 20% whose undefended val ASR has a 95% lower bound ≥ 90%
 * while keeping ≥ 95% of the clean model's val metric; llava, 3 seeds, default sizes, commit
 * 97f03ff. Val ASR mean [95% interval], n = 3 each:
 *
 * | attack  | caption                          | VQA                              |
 * | ------- | -------------------------------- | -------------------------------- |
 * | badnets | 20%: 98.7 [95.8, 100.0]          | 2%: 95.3 [90.2, 100.0]           |
 * | blended | 20%: 98.3 [94.5, 100.0]          | 20%: 98.3 [94.5, 100.0]          |
 * | sig     | 5%: 98.7 [97.2, 100.0]           | 5%: 97.3 [94.5, 100.0]           |
 * | wanet   | none; closest 5%: 0.3 [-1.1, 1.8] | none; closest 10%: 4.0 [1.5, 6.5] |
 * | trojvlm | none; closest 20%: 89.0 [84.0, 94.0] | 10%: 99.3 [96.5, 100.0]      |
 * | dualkey | 5%: 97.7 [94.8, 100.0]           | 10%: 96.3 [94.9, 97.8]           |
 *
 * An attack that reached no rung stays at its closest rung (WaNet implants on no rung without
 * breaking captioning: at 20% its val ASR is 80% but CIDEr-D falls to 17% of the clean model's;
 * TrojVLM's captions miss the bound by one point at 20%); the tables show them as they are.
 */
/** Each attack at its caption rate, and its VQA rate for VQA's runs (one label, one row per task's table). */
const calibrated = (rates: Record<string, [caption: number, vqa: number]>) =>
  Object.entries(rates).map(([id, [caption, vqa]]) => ({ id, params: { rate: caption }, perTask: { vqa: { rate: vqa } } }));
const CALIBRATED = calibrated({ badnets: [0.2, 0.02], blended: [0.2, 0.2], sig: [0.05, 0.05], wanet: [0.05, 0.1], trojvlm: [0.2, 0.1], dualkey: [0.05, 0.1] });

/**
 * The adaptive attackers (issue 18) are BadNets' patch with a twist (viewinv: also poisons the
 * patch-shuffled view, against PCR; randpatch: a random position, against jitter and aug), so
 * they take BadNets' calibrated rate on each task.
 */
const ADAPTIVE = calibrated({ viewinv: [0.2, 0.02], randpatch: [0.2, 0.02] });

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
    attacks: CALIBRATED,
    defenses: ['none', 'pcr', 'fp', 'jitter', 'cleansight'].map((id) => ({ id, params: {} })),
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
    vision: VISION,
    perTask: DEFAULT_PER_TASK,
  },
  results: {
    name: 'results',
    attacks: [...CALIBRATED, ...ADAPTIVE],
    defenses: every(DEFENSES),
    seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    vision: VISION,
    perTask: DEFAULT_PER_TASK,
  },
};
