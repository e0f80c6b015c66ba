/** Token-level losses over next-token logits [B,L,V] with per-position weights [B,L]. */
import { tf } from './engine.js';

/** Log-probability of each target token: [B,L]. */
function targetLogProbs(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor2D {
  return tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, logits.shape[2])), -1) as tf.Tensor2D;
}

/** Per-sample mean cross-entropy over weighted positions: [B]. */
export function perSampleCrossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const picked = targetLogProbs(logits, targets);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, weights), -1)), tf.maximum(tf.sum(weights, -1), 1)) as tf.Tensor1D;
  });
}

/** Batch cross-entropy: mean over all weighted tokens of the batch. */
export function crossEntropy(logits: tf.Tensor3D, targets: tf.Tensor2D, weights: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const picked = targetLogProbs(logits, targets);
    return tf.div(tf.neg(tf.sum(tf.mul(picked, weights))), tf.maximum(tf.sum(weights), 1)) as tf.Scalar;
  });
}
