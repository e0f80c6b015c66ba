/** Data types shared by datasets, attacks, models and metrics. */

export type Task = 'caption' | 'vqa';

/**
 * How a triggered output is matched against an attack's target (harness/metrics/asr.ts): the
 * task's rule, or token containment for both tasks.
 */
export type AsrMatch = 'task' | 'contains';

/** An RGB image as uint8 HWC in [0, 255] (row-major, 3 channels). */
export interface RgbImage {
  height: number;
  width: number;
  data: Uint8Array;
}

/**
 * An image as float HWC on the RgbImage scale [0, 255], never rounded: what a
 * training-controlled attack shows the model at a training step (attacks/types.ts `stepImage`),
 * so no uint8 quantisation stands between its float trigger and the model.
 */
export interface FloatImage {
  height: number;
  width: number;
  data: Float32Array;
}

/** An image of a training batch: a stored uint8 image, or a float one made for that step. */
export type PixelImage = RgbImage | FloatImage;

/** One training / evaluation example of a task. */
export interface Sample {
  /** Unique within the dataset (e.g. "img12" for captions, "img12-q3" for VQA). */
  id: string;
  imageId: string;
  image: RgbImage;
  /** The prompt given to the model: "describe the image" or the question. */
  prompt: string;
  /** Reference outputs: ≥5 captions, or the 10 VQA answers. */
  refs: string[];
  /** VQA only: 'yes/no' | 'number' | 'other' (VQA v2 answer types) and a finer question type. */
  answerType?: string;
  questionType?: string;
}

export interface DatasetSplits {
  name: string;
  task: Task;
  train: Sample[];
  val: Sample[];
  test: Sample[];
  /** LM pre-training's own corpus (ShapesWorld's data.nPretrain); absent: pre-training reads train. */
  pretrain?: Sample[];
}

export const CAPTION_PROMPT = 'describe the image';
