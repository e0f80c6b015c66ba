/**
 * Test helper: loads fixtures/reference-vectors.json, the metric test vectors whose expected
 * values were computed with the reference Python implementations (pycocoevalcap's BLEU,
 * ROUGE-L and CIDEr-D scorers, the official VQA evaluation): 4 caption sets (an empty
 * prediction and a single-image corpus among them) and 21 VQA cases exercising the answer
 * normalisation. Kept inside the repository so a clone alone runs its tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CaptionVector {
  name: string;
  refs: Record<string, string[]>;
  preds: Record<string, string>;
  expected: {
    'CIDEr-D': number;
    'CIDEr-D per image': number[];
    'BLEU-1': number;
    'BLEU-2': number;
    'BLEU-3': number;
    'BLEU-4': number;
    'ROUGE-L': number;
  };
}

export interface VqaVector {
  pred: string;
  answers: string[];
  accuracy: number;
}

export const REFERENCE_VECTORS_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/reference-vectors.json');

export function loadReferenceVectors(): { captions: CaptionVector[]; vqa: VqaVector[] } {
  if (!fs.existsSync(REFERENCE_VECTORS_PATH)) {
    throw new Error(
      `reference vectors not found at ${REFERENCE_VECTORS_PATH}: restore harness/metrics/fixtures/reference-vectors.json from git`,
    );
  }
  const data = JSON.parse(fs.readFileSync(REFERENCE_VECTORS_PATH, 'utf8'));
  if (!Array.isArray(data.captions) || !Array.isArray(data.vqa)) {
    throw new Error(`${REFERENCE_VECTORS_PATH}: expected "captions" and "vqa" arrays`);
  }
  return data;
}
