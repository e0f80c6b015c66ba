/**
 * Which positions of the LM's sequence hold input, for the feature-level defenses (NAD's
 * attention maps, fine-pruning's mean activations): the visual prefix and the non-PAD text
 * tokens. Padding after EOS is an artefact of fixed-length batches; a statistic over it would
 * depend on the batch's longest caption.
 */
import { tf } from '../harness/core/engine.js';
import { PAD } from '../harness/core/tokenizer.js';

/** [B, S] float mask for a sequence of S = (S − L) visual positions followed by the L tokens. */
export function inputPositions(tokens: tf.Tensor2D, s: number): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, l] = tokens.shape;
    if (s < l) throw new Error(`inputPositions: sequence of ${s} positions is shorter than the ${l} tokens`);
    const text = tf.cast(tf.notEqual(tokens, PAD), 'float32');
    return tf.concat([tf.ones([b, s - l]), text], 1) as tf.Tensor2D;
  });
}
