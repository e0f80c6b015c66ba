/**
 * The run record: what one run of the grid writes (JSON), and all that reports/ read.
 * Plain data only: no TF.js here, so the report side never loads the engine.
 */
/** One generated output on a clean test input and on its triggered copy. */
export interface Generation {
  id: string;
  prompt: string;
  clean: string;
  triggered: string;
  refs: string[];
}

export interface EpochLog {
  epoch: number;
  loss: number;
  seconds: number;
  /** tf.memory().numTensors at the end of the epoch: must stay flat. */
  numTensors: number;
  /** Held-out measurements taken after the epoch, where the stage takes any (the vision tower's accuracies). */
  val?: Record<string, number>;
}

export interface RunRecord {
  id: string;
  status: 'ok' | 'failed';
  error?: string;
  task: string;
  model: string;
  attack: string;
  defense: string;
  defenseStage: string;
  seed: number;
  metrics: Record<string, number>;
  /** Reference-vs-references score of the test captions (upper bound for CIDEr-D). */
  oracle?: Record<string, number>;
  attackParams: unknown;
  defenseParams: unknown;
  target: string;
  poisonCount: number;
  trainSize: number;
  keys: Record<string, string>;
  /**
   * How well each defense's per-example suspicion score finds the poisoned training examples
   * (AUROC; 0.5 = chance), per epoch it was reported.
   */
  suspicion: Record<string, { epoch: number; n: number; positives: number; auroc: number }[]>;
  /**
   * For a defense that removes training examples before training (e.g. `remove`): how many it
   * removed, how many were poisoned, and the removed set's precision and recall against them.
   */
  removal?: { removed: number; poisoned: number; hits: number; precision: number; recall: number };
  /**
   * Which model stages were loaded from the cache instead of trained in this run; `probe`: the
   * backdoored model a probing defense (BYE) read, when it read one.
   */
  cached: Record<string, boolean>;
  /** Seconds per stage; `probe` (when trained or loaded inside SFT) is apart from `sft`'s. */
  timings: Record<string, number>;
  trainLog: Record<string, EpochLog[]>;
  examples: Generation[];
  provenance: {
    backend: string;
    engineFixes: string[];
    tfjs: string;
    node: string;
    /** Hash of the code this run reaches (harness/run/runIdentity.ts): with configHash, what "done" checks. */
    codeVersion: string;
    /** Hash of this run's own inputs, whatever grid it ran in. */
    configHash: string;
    date: string;
    /**
     * Hash of all the result-computing source of the tree the grid ran from (every folder but
     * the orchestration layers, harness/run/codeHash.ts codeVersion): the shards `mbb merge`
     * combines must share it.
     */
    sourceVersion?: string;
    /** `git rev-parse HEAD` of the code, `-dirty` when tracked files had uncommitted changes (untracked files do not count); absent outside git. */
    gitCommit?: string;
    /** Hash of the whole experiment (all runs): records that `mbb merge` may combine share it. */
    experimentHash?: string;
    /** This run's seed and the experiment's seeds (over which tables give mean ± std). */
    seeds?: { run: number; experiment: number[] };
  };
  config: unknown;
}
