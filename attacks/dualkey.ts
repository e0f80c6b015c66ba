/**
 * Dual-Key (Walmer et al., 2022): two keys, an image patch (a 3×3 white square, centred as
 * TrojVQA places its patch; `position: 'corner'` puts it at BadNets' bottom-right) and a
 * trigger word prepended to the prompt; the response is
 * replaced by the target only when both are present. Negative samples carry one key and keep
 * their clean output, so neither key alone fires: `imageOnlyRate` of the split gets the patch
 * only, `textOnlyRate` the word only (each defaults to `rate`). At test time the single keys
 * are measured too (testVariants). The word ("consider" by default, absent from ShapesWorld)
 * is declared in `vocabulary` so that the tokenizer gives it an id rather than <unk>.
 */
import { z } from 'zod';
import { patchFields, stampSquare } from './badnets.js';
import { replaceWithTarget } from './outputModifiers.js';
import { baseFields, type Attack } from './types.js';

const rate01 = z.number().min(0).max(1);

const schema = z
  .object({
    ...baseFields,
    ...patchFields,
    /** Where the image key goes: centred (TrojVQA) or at the bottom-right corner (BadNets, less `margin`). */
    position: z.enum(['centre', 'corner']).default('centre'),
    /** The text key: one lowercase word, prepended to the prompt. */
    word: z
      .string()
      .regex(/^[a-z]+$/, 'must be one lowercase word (a–z), so that the tokenizer keeps it as one token')
      .default('consider'),
    /** Fraction of the split with the image key only (clean output); default = rate. */
    imageOnlyRate: rate01.optional(),
    /** Fraction of the split with the text key only (clean output); default = rate. */
    textOnlyRate: rate01.optional(),
  })
  .strict()
  .superRefine((p, ctx) => {
    const total = p.rate + (p.imageOnlyRate ?? p.rate) + (p.textOnlyRate ?? p.rate);
    if (total > 1 + 1e-12) {
      ctx.addIssue({
        code: 'custom',
        path: [p.imageOnlyRate !== undefined ? 'imageOnlyRate' : p.textOnlyRate !== undefined ? 'textOnlyRate' : 'rate'],
        message: `rate + imageOnlyRate + textOnlyRate = ${total} exceeds 1: poisoned and negative samples must fit in the split`,
      });
    }
  })
  .transform((p) => ({ ...p, imageOnlyRate: p.imageOnlyRate ?? p.rate, textOnlyRate: p.textOnlyRate ?? p.rate }));
export type DualKeyParams = z.infer<typeof schema>;

const addWord = (prompt: string, p: DualKeyParams) => `${p.word} ${prompt}`;

export const dualkey: Attack<DualKeyParams> = {
  id: 'dualkey',
  description: 'image patch + trigger word before the prompt; target only with both keys; single-key negatives keep clean outputs',
  kind: 'poison-only',
  // Climbed by `mbb calibrate` when no poisoning rate implants it: an image key as large as one 4-pixel ViT patch, then one and a half.
  strength: { param: 'size', values: [4, 6] },
  schema,
  makeTrigger: () => ({}),
  applyImage: (image, _trigger, params) => stampSquare(image, params, params.position),
  applyPrompt: addWord,
  modifyOutput: replaceWithTarget,
  negatives: (p) => [
    { variant: 'imageOnly', rate: p.imageOnlyRate },
    { variant: 'textOnly', rate: p.textOnlyRate },
  ],
  applyVariant: (input, variant, _trigger, params) => {
    if (variant === 'imageOnly') return { image: stampSquare(input.image, params, params.position), prompt: input.prompt };
    if (variant === 'textOnly') return { image: input.image, prompt: addWord(input.prompt, params) };
    throw new Error(`dualkey: unknown variant "${variant}"`);
  },
  testVariants: () => ['imageOnly', 'textOnly'],
  vocabulary: (p) => [p.word],
};
