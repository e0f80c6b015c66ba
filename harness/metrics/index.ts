/**
 * Caption and VQA metrics: pure functions over strings and numbers, ported from the
 * reference Python implementations (see each module). `captionMetrics` is the entry point
 * for raw captions: it tokenises, then scores, like pycocoevalcap's COCOEvalCap.
 */
import { bleu } from './bleu.js';
import { ciderD } from './cider.js';
import { rougeL } from './rouge.js';
import { tokenizeCaption } from './tokenize.js';

export { bleu } from './bleu.js';
export { ciderD, type CiderOptions, type CiderResult } from './cider.js';
export { rougeL, rougeLSentence, lcsLength } from './rouge.js';
export { ptbTokens, tokenizeCaption, PTB_PUNCTUATIONS } from './tokenize.js';
export {
  vqaScore, vqaAccuracy, vqaEvaluate, processPunctuation, processDigitArticle, cleanAnswer, normalizeVqaAnswer,
  type GtAnswer, type VqaItem, type VqaEvaluation,
} from './vqaAccuracy.js';
export { asr, containsTarget, falseTriggerRate, type AsrInput, type AsrResult, type Rate } from './asr.js';
export { der, relativeCleanDrop, type DerInput } from './der.js';
export { differenceSummary, holm, pairedComparison, seedsForPower, signFlipP, studentTQuantile, tInterval, wilson, type Interval, type MeanInterval, type PairedComparison } from './stats.js';
export { auroc } from './auroc.js';

export interface CaptionScores {
  'CIDEr-D': number;
  'BLEU-1': number;
  'BLEU-2': number;
  'BLEU-3': number;
  'BLEU-4': number;
  'ROUGE-L': number;
}

/**
 * CIDEr-D, BLEU-1..4 and ROUGE-L of raw predictions against raw references, over the
 * images that have a prediction (the other references are ignored, so they do not enter
 * CIDEr-D's document frequencies). Every predicted image must have references.
 */
export function captionMetrics(refs: Record<string, string[]>, preds: Record<string, string>): CaptionScores {
  const tokRefs: Record<string, string[]> = {};
  const tokPreds: Record<string, string> = {};
  for (const id of Object.keys(preds)) {
    if (!Object.hasOwn(refs, id)) throw new Error(`captionMetrics: prediction for image ${id} has no references`);
    tokRefs[id] = refs[id].map(tokenizeCaption);
    tokPreds[id] = tokenizeCaption(preds[id]);
  }
  const [b1, b2, b3, b4] = bleu(tokRefs, tokPreds, 4);
  return {
    'CIDEr-D': ciderD(tokRefs, tokPreds).score,
    'BLEU-1': b1,
    'BLEU-2': b2,
    'BLEU-3': b3,
    'BLEU-4': b4,
    'ROUGE-L': rougeL(tokRefs, tokPreds).score,
  };
}
