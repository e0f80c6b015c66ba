/**
 * Named experiment profiles, layered over the schema defaults.
 * - smoke: every registered attack × defense on both tasks with a tiny model, in a few minutes
 *   (tests, CI): proves each plugin runs end to end, says nothing about the numbers;
 * - default: run-all's profile: the six attacks at their calibrated settings × none, PCR, FP,
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
 * The six attacks at the settings `mbb calibrate` chose on the validation split
 * (docs/calibration.md): the smallest rung of 1, 2, 5, 10, 20%, then the attack's stronger
 * settings at 20%, whose undefended val ASR has a 95% lower bound ≥ 90% while keeping ≥ 95% of
 * the clean model's val metric; llava, 3 seeds, the sizes above. The rates at commit ffdef65,
 * the strength rungs at a4a277b (`--rates 0.2`, only where no rate held), TrojVLM's captions again
 * at 56970a4, once its insertion kept the target inside the row; VQA again at fb1d73c, once its
 * pre-training had its own corpus (the whole ladder). Val ASR mean [95% interval], n = 3 each:
 *
 * | attack  | caption                                     | VQA                                   |
 * | ------- | ------------------------------------------- | ------------------------------------- |
 * | badnets | 20%: 98.0 [91.4, 100.0]                     | 20%: 98.8 [96.2, 100.0]               |
 * | blended | 20%, alpha 0.3: 100.0 [100.0, 100.0]        | 20%: 94.8 [92.2, 97.4]                |
 * | sig     | 5%: 97.7 [92.5, 100.0]                      | 5%: 95.8 [92.7, 99.0]                 |
 * | wanet   | none; closest 5%: 1.0 [0.0, 5.3]            | none; closest 5%: 2.7 [1.9, 3.4]      |
 * | trojvlm | 20%, size 8: 96.3 [90.6, 100.0]              | 20%, size 4: 99.0 [97.8, 100.0]       |
 * | dualkey | 10%: 99.3 [97.9, 100.0]                     | 20%, size 6: 96.8 [93.7, 100.0]       |
 *
 * An attack that reached no rung stays at its closest (rule 5: the highest lower bound among
 * the rungs that keep the clean floor), and the tables show it as it is: WaNet's captions
 * implant only by breaking captioning (20%, s 2: val ASR 78% at 29% of the clean CIDEr-D), so
 * they stay at 5%; on VQA every 20% rung falls below the clean floor (91–94%), so 5% there too.
 */
type Setting = Record<string, number>;
/** Each attack's calibrated setting on each task (its rate, and its strength where the ladder climbed). */
const calibrated = (settings: Record<string, [caption: Setting, vqa: Setting]>) =>
  Object.entries(settings).map(([id, [caption, vqa]]) => ({ id, params: {}, perTask: { caption, vqa } }));
const CALIBRATED = calibrated({
  badnets: [{ rate: 0.2 }, { rate: 0.2 }],
  blended: [{ rate: 0.2, alpha: 0.3 }, { rate: 0.2 }],
  sig: [{ rate: 0.05 }, { rate: 0.05 }],
  wanet: [{ rate: 0.05 }, { rate: 0.05 }],
  trojvlm: [{ rate: 0.2, size: 8 }, { rate: 0.2, size: 4 }],
  dualkey: [{ rate: 0.1 }, { rate: 0.2, size: 6 }],
});

/**
 * The adaptive attackers (issue 18) are BadNets' patch with a twist (viewinv: also poisons the
 * patch-shuffled view, against PCR; randpatch: a random position, against jitter and aug), so
 * they take BadNets' calibrated setting on each task, read from it rather than restated.
 */
const BADNETS = CALIBRATED.find((a) => a.id === 'badnets')!;
const ADAPTIVE = ['viewinv', 'randpatch'].map((id) => ({ ...BADNETS, id }));

/**
 * Defense knobs chosen on the validation split by `mbb sweep` and the rule docs/defenses.md
 * wrote down before each sweep ran (the lowest val ASR whose val clean metric keeps ≥ 95% of
 * no defense's, then 90%, 85%), per task, over BadNets, Blended, SIG and Dual-Key at their
 * calibrated settings, llava, seeds 1–3. Val ASR % and the clean metric's share of no
 * defense's, means over the 12 runs:
 *
 * Captions at commit 8a92573; VQA again at 82914d5, on the VQA model with its own pre-training
 * corpus and the VQA attacks calibrated on it (BadNets 20%).
 *
 * BYE's `separation` (no defense: caption 98.2%, VQA 96.6%):
 * | separation | caption              | VQA                  |
 * | ---------- | -------------------- | -------------------- |
 * | 0.5        | 79.3, 99.4%          | **73.0, 97.7%**      |
 * | 1          | **72.8, 101.0%**     | 77.9, 98.6%          |
 * | 1.5        | 81.8, 100.3%         | 95.2, 99.9%          |
 * | 2 (paper)  | 90.1, 99.8%          | 96.1, 100.0%         |
 *
 * RobustIT, one knob at a time, the rule over every setting run (defaults maxShift 3,
 * colorJitter 0.2, lambdaAar 0.01). No setting keeps 95% of the caption CIDEr-D; on VQA every
 * setting keeps it, and λ_aar 0.1 has the lowest val ASR, by one triggered answer in 2400:
 * | setting        | caption              | VQA                  |
 * | -------------- | -------------------- | -------------------- |
 * | defaults       | 80.8, 85.2%          | 40.33, 96.0%         |
 * | maxShift 0     | 85.6, 90.6%          | 61.2, 97.3%          |
 * | maxShift 1     | **83.3, 91.1%** (90% floor) | 52.7, 96.3%   |
 * | colorJitter 0  | 84.2, 87.0%          | 43.8, 95.3%          |
 * | lambdaAar 0.1  | 80.8, 85.3%          | **40.29, 96.0%**     |
 */
const SWEPT: Record<string, [caption: Setting, vqa: Setting]> = {
  bye: [{ separation: 1 }, { separation: 0.5 }],
  robustit: [{ maxShift: 1 }, { lambdaAar: 0.1 }],
};
/** Every registered defense, at its swept settings where a sweep chose them. */
const everyDefenseAsSwept = () =>
  Object.keys(DEFENSES).map((id) => (SWEPT[id] ? calibrated({ [id]: SWEPT[id] })[0] : { id, params: {} }));

/**
 * Per-task overrides of the default, paper and results profiles: VQA needs finer visual tokens
 * (no merge) to answer shape/position questions; its short answers make each sample cheaper.
 * SFT on two questions per image over 3000 images: with 20 pre-training epochs on that split,
 * seed 1 reached val 87.9% (69.1% for the former model, one question over 6000 images and the
 * one-layer tower); two questions over 6000 images reached 91.2% but double every VQA SFT,
 * outside the cost bound. Over seeds 1–4 that model averaged 78.25% (seed 1 was the outlier),
 * so VQA pre-trains on its own 6000-image corpus (12000 questions) since: val 96.25%, where a
 * 3000-image corpus gives 83.6% (docs/models.md, the rule written before the run).
 */
const DEFAULT_PER_TASK = {
  vqa: {
    data: { nTrain: 3000, questionsPerImage: 2, nPretrain: 6000 },
    model: { merge: 1 },
    pretrain: { epochs: 20 },
    sft: { epochs: 4 },
  },
};

/** The results grid's sizes, which its slices must share for their runs to be its own. */
const SIZES = { model: MODEL, vision: VISION, perTask: DEFAULT_PER_TASK };

/** The entries of a list of attacks or defenses with these ids, in the list's order. */
const only = <T extends { id: string }>(list: T[], ids: string[]) => list.filter((x) => ids.includes(x.id));

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
    defenses: everyDefenseAsSwept(),
    seeds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ...SIZES,
  },
  // The results grid's slice that judges the MLLM-specific defenses (issue 21's close-out): the
  // four attacks their sweeps ran on × none, PCR and the three of them × 3 seeds. Its runs are
  // the results grid's own (the name is not part of a run's identity), so they count there too.
  'mllm-defenses': {
    name: 'mllm-defenses',
    attacks: only(CALIBRATED, ['badnets', 'blended', 'sig', 'dualkey']),
    defenses: only(everyDefenseAsSwept(), ['none', 'pcr', 'bye', 'cleansight', 'robustit']),
    seeds: [1, 2, 3],
    ...SIZES,
  },
  // Why `remove`'s LGA ranking inverts (docs/defenses.md, "What was measured"): its probe from the
  // pre-trained model (the results grid's own runs, identity and all) against the same probe from
  // a fresh language model on the run's vision tower, as ABL trains from scratch; and the fresh
  // probe with BYE's GMM cut in place of the fixed 10% (no poisoning rate to know); captions.
  'remove-probe': {
    name: 'remove-probe',
    tasks: ['caption'],
    attacks: CALIBRATED,
    defenses: [
      { id: 'remove', params: {} },
      { id: 'remove', label: 'remove-fresh', params: { probeFrom: 'fresh' } },
      { id: 'remove', label: 'remove-gmm', params: { probeFrom: 'fresh', cut: 'gmm' } },
    ],
    seeds: [1, 2, 3],
    ...SIZES,
  },
  // The pre-registered held-out test of `cut: 'union'` (docs/defenses.md): formed on the caption
  // runs of remove-probe, tested on VQA, where neither cut was looked at, against no defense
  // (the results grid's own runs) on the four attacks both single cuts were measured on.
  'remove-union': {
    name: 'remove-union',
    tasks: ['vqa'],
    attacks: only(CALIBRATED, ['badnets', 'blended', 'sig', 'dualkey']),
    defenses: [
      { id: 'none', params: {} },
      { id: 'remove', label: 'remove-union', params: { probeFrom: 'fresh', cut: 'union' } },
    ],
    seeds: [1, 2, 3],
    ...SIZES,
  },
};
