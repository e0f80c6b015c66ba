/**
 * Expanding an experiment into runs (models × tasks × attacks × rates × defenses × seeds) and
 * into the distinct cached stages those runs need (what sharding and time estimates count).
 */
import { configForTask, type ExperimentConfig, type PluginRef } from '../config/schema.js';
import { refLabel, runId, type RunSpec } from '../run/runSpec.js';
import type { Task } from '../core/types.js';
import { hashOf, stableStringify } from '../core/hash.js';

/**
 * An attack at a given poisoning rate, labelled `<label>@<rate>`: the rate overrides the task's
 * own (`perTask`) rates too, so a rates axis or a calibration rung means the same on every task.
 */
export function atRate(a: PluginRef, rate: number): PluginRef {
  const perTask = a.perTask && Object.fromEntries(Object.entries(a.perTask).map(([task, params]) => [task, { ...params, rate }]));
  return { ...a, params: { ...a.params, rate }, ...(perTask ? { perTask } : {}), label: `${refLabel(a)}@${rate}` };
}

/** A plugin as one task's runs use it: its params with that task's own layered over, and no perTask. */
export function forTask(r: PluginRef, task: Task): PluginRef {
  const { perTask, ...ref } = r;
  return perTask?.[task] ? { ...ref, params: { ...ref.params, ...perTask[task] } } : ref;
}

/**
 * The attacks of one task's runs: as given, or, with a `rates` axis, each attack once per rate
 * (`atRate`; only then are labels suffixed, so that run ids of configs without `rates` stay
 * what they were).
 */
export function expandAttacks(exp: ExperimentConfig, task: Task): PluginRef[] {
  const attacks = exp.rates ? exp.attacks.flatMap((a) => exp.rates!.map((rate) => atRate(a, rate))) : exp.attacks;
  return attacks.map((a) => forTask(a, task));
}

/** Runs grouped so that runs sharing a pre-trained and a backdoored model are adjacent. */
export function expandGrid(exp: ExperimentConfig): RunSpec[] {
  const runs: RunSpec[] = [];
  const base = withoutMachineFields(exp);
  for (const seed of exp.seeds)
    for (const model of exp.models)
      for (const task of exp.tasks) {
        const taskExp = configForTask(base, task);
        for (const attack of expandAttacks(taskExp, task))
          for (const defense of taskExp.defenses) runs.push({ exp: taskExp, task, model, attack, defense: forTask(defense, task), seed });
      }
  return runs;
}

/**
 * The experiment without fields that describe the machine, not the results (the worker count,
 * where plugin files live): a run's config hash must not change with the number of cores or a
 * folder, or a grid sharded over unequal machines, or resumed with another --set workers, would
 * not recognise its own records. A plugin file's content counts, through the code hash.
 */
function withoutMachineFields(exp: ExperimentConfig): ExperimentConfig {
  return { ...exp, workers: undefined, plugins: undefined };
}

/** Identity of an experiment's results: what every shard's records must agree on to be merged. */
export function experimentHash(exp: ExperimentConfig): string {
  return hashOf(withoutMachineFields(exp));
}

/** Key of the chain of cached stages a run depends on; runs with one key go to one worker. */
export function chainKey(r: RunSpec): string {
  return [r.task, r.model, r.seed].join('/');
}

export interface SplitSizes {
  train: number;
  val: number;
  test: number;
  /** What LM pre-training reads: its own corpus (ShapesWorld's nPretrain), else the train split. */
  pretrain: number;
}

/**
 * Samples per split of a task's data, as far as the config tells: ShapesWorld's sizes (one
 * sample per image for captions, per question for VQA), or a real dataset's `limit` (a cap per
 * split); undefined for a real dataset without a limit, whose sizes only its files know.
 */
export function splitSizes(exp: ExperimentConfig, task: Task): SplitSizes | undefined {
  const d = exp.data;
  if (d.kind === 'shapes') {
    const perImage = task === 'vqa' ? d.questionsPerImage : 1;
    return { train: d.nTrain * perImage, val: d.nVal * perImage, test: d.nTest * perImage, pretrain: (d.nPretrain ?? d.nTrain) * perImage };
  }
  return d.limit > 0 ? { train: d.limit, val: d.limit, test: d.limit, pretrain: d.limit } : undefined;
}

/**
 * Stand-in sizes for a real dataset without a limit, for balancing only: every chain of a task
 * shares its dataset, so the slices of one task stay balanced whatever the constant.
 */
const NOMINAL_SIZES: SplitSizes = { train: 3000, val: 100, test: 300, pretrain: 3000 };

/** Generated sequences × their length in tokens: clean and triggered test inputs, then validation. */
export function evalUnits(exp: ExperimentConfig, task: Task, sizes: SplitSizes): number {
  const test = exp.eval.limit > 0 ? Math.min(exp.eval.limit, sizes.test) : sizes.test;
  const maxText = task === 'caption' ? exp.text.captionMaxText : exp.text.vqaMaxText;
  return (2 * test + sizes.val) * maxText;
}

export type StageKind = 'vision' | 'pretrain' | 'sft' | 'repair' | 'eval';

/**
 * One unit of work the grid needs, after the cache's sharing: a vision tower per seed × tower
 * size when the config pre-trains one (shared across tasks and families), a pre-training per chain, an SFT
 * per chain × attack × training-time defense (plain SFT, shared by every post-training and
 * inference defense), a repair per post-training defense, an evaluation per run.
 */
export interface PlannedStage {
  kind: StageKind;
  /** Identity within the grid: equal keys are one cached stage. */
  key: string;
  chain: string;
  task: Task;
  model: string;
  /** pretrain/eval: ''; sft: the training-time defense's id or 'none'; repair: the defense's id. */
  variant: string;
  /**
   * Size of the work: sample-epochs for pretrain and SFT, training samples for repair (its
   * epochs are the defense's own), tokens generated for eval. Cost = units × seconds per unit.
   */
  units: number;
  /**
   * sft: the backdoored model the run's training-time defense probes besides its own SFT. Exact
   * in a one-run plan; in a grid's plan the stage is shared and keeps its first use's flag.
   */
  probe?: true;
}

/** The vision tower a run needs (harness/run/vision.ts: one per seed × tower size × settings), or none. */
export function visionStageKey(r: RunSpec): string | undefined {
  if (!r.exp.vision) return undefined;
  const { freeze: _, ...settings } = r.exp.vision;
  const { patch, width, heads, mlpRatio, encoderLayers } = r.exp.model;
  return `vision|${r.seed}|${stableStringify({ imageSize: r.exp.data.imageSize, patch, width, heads, mlpRatio, encoderLayers, settings })}`;
}

/**
 * The distinct stages `runs` need, in first-use order; `stageOf` gives a defense's stage by id.
 * `probesBackdoored`: whether a training-time run's defense also reads the plain SFT of its
 * split (BYE's probe, SftDefense.probesBackdoored); that run then needs the backdoored model too.
 */
export function planStages(runs: RunSpec[], stageOf: (defenseId: string) => string, probesBackdoored: (r: RunSpec) => boolean = () => false): PlannedStage[] {
  const seen = new Map<string, PlannedStage>();
  const add = (s: PlannedStage) => {
    if (!seen.has(s.key)) seen.set(s.key, s);
  };
  for (const r of runs) {
    const chain = chainKey(r);
    const sizes = splitSizes(r.exp, r.task) ?? NOMINAL_SIZES;
    const n = sizes.train;
    const base = { chain, task: r.task, model: r.model };
    const stage = stageOf(r.defense.id);
    const attack = `${refLabel(r.attack)}:${stableStringify(r.attack.params)}`;
    const defense = `${r.defense.id}:${stableStringify(r.defense.params)}`;
    const vision = visionStageKey(r);
    if (vision) add({ ...base, kind: 'vision', key: vision, variant: '', units: r.exp.vision!.epochs * r.exp.vision!.images });
    add({ ...base, kind: 'pretrain', key: `pretrain|${chain}`, variant: '', units: r.exp.pretrain.epochs * sizes.pretrain });
    const sftVariant = stage === 'training' ? r.defense.id : 'none';
    const sftKeyOf = (trainingDefense: string) => `sft|${chain}|${attack}|${trainingDefense}`;
    if (stage === 'training' && probesBackdoored(r)) add({ ...base, kind: 'sft', key: sftKeyOf(''), variant: 'none', units: r.exp.sft.epochs * n, probe: true });
    const sftKey = sftKeyOf(stage === 'training' ? defense : '');
    add({ ...base, kind: 'sft', key: sftKey, variant: sftVariant, units: r.exp.sft.epochs * n });
    if (stage === 'post') add({ ...base, kind: 'repair', key: `repair|${sftKey}|${defense}`, variant: r.defense.id, units: n });
    add({ ...base, kind: 'eval', key: `eval|${runId(r)}`, variant: '', units: evalUnits(r.exp, r.task, sizes) });
  }
  return [...seen.values()];
}
