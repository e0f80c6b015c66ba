/**
 * The package's entry, for projects that build on the benchmark without forking it:
 *
 *   import { attacks, defenses, metrics, type Attack } from 'mllm-backdoor-bench';
 *
 * - `attacks`, `defenses`: the registries (ATTACKS / DEFENSES by id, getAttack / getDefense,
 *   isAttack / isDefense), every built-in plugin included;
 * - `metrics`: the caption, VQA, ASR, DER and statistics functions (harness/metrics);
 * - the plugin interfaces (Attack, Defense and what they take, the float images of
 *   training-controlled attacks included), the same types the built-in plugins implement, so a
 *   file loaded with `mbb run --plugin FILE` is checked as they are.
 *
 * The package ships its TypeScript sources, no build: package.json's `exports` points both the
 * `types` and the `default` condition here, so tsc reads these files for types and a consumer
 * runs them through tsx, as `mbb` does (docs/plugins.md).
 */
export * as attacks from './attacks/registry.js';
export * as defenses from './defenses/registry.js';
export * as metrics from './harness/metrics/index.js';
export { baseFields, DEFAULT_TARGETS, type Attack, type AttackKind, type BaseAttackParams, type NegativeSpec, type TriggerAsset, type TriggerInput } from './attacks/types.js';
export type {
  Defense,
  DefenseContext,
  DefenseStage,
  GuardDefense,
  GuardedModel,
  HookDefense,
  InferenceContext,
  InferenceDefense,
  NoDefense,
  PostContext,
  PostDefense,
  ScoreSink,
  SftContext,
  SftDefense,
  TrainingDefense,
  TransformDefense,
} from './defenses/types.js';
export type { FloatImage, PixelImage, RgbImage, Task } from './harness/core/types.js';
export type { Rng } from './harness/core/rng.js';
