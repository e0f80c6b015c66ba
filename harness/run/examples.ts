/**
 * The supervised examples of a clean split, and the ground truth the harness keeps beside them
 * (never shown to a defense). Apart from poison.ts so that a stage that trains on clean data
 * only (pre-training) reaches no attack code: its cache key then survives an attack's edit.
 */
import type { TrainExample } from '../core/batch.js';
import type { Sample, Task } from '../core/types.js';

/** A training example with its ground truth, which the harness keeps for its own metrics and never shows a defense. */
export interface LabelledExample extends TrainExample {
  poisoned: boolean;
}

/** The examples as a defense sees them: the same objects' fields (a training-controlled attack's `stepImage` included), no ground truth. */
export function withoutGroundTruth(examples: readonly LabelledExample[]): TrainExample[] {
  return examples.map(({ poisoned: _, ...e }) => e);
}

/** The clean supervised examples of a split (captions: every reference is an alternative). */
export function cleanExamples(samples: Sample[], task: Task): LabelledExample[] {
  return samples.map((s) => ({
    id: s.id,
    image: s.image,
    prompt: s.prompt,
    // VQA trains on the most common of the 10 answers, as VQA models are trained on the
    // consensus answer; captions draw one of the references each epoch.
    responses: task === 'vqa' ? [mostCommon(s.refs)] : s.refs,
    poisoned: false,
  }));
}

function mostCommon(items: string[]): string {
  const counts = new Map<string, number>();
  for (const x of items) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}
