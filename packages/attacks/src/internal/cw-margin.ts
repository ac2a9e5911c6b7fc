/**
 * What Carlini & Wagner's attack and EAD share besides the search over `c` (`const-search.ts`): the
 * margin loss with confidence κ, its success test, and the early abort of the reference code.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import type { AttackContext } from '@advx/core';

/** Early abort: the loss must have fallen below this fraction of its value at the previous check. */
const ABORT_FACTOR = 0.9999;

/** The margin loss of one batch's goal, with confidence κ. Holds tensors until `dispose()`. */
export interface CwMargin {
  /**
   * `f + κ = max(s·(z_cls − max_{i≠cls} z_i) + κ, 0)` per sample, with `s = +1` untargeted (leave the
   * label) and `−1` targeted (reach the target): the same minimiser and gradient as C&W's `f₆`, and a
   * non-negative loss for the relative early-abort test (as in the reference code).
   */
  loss(logits: tf.Tensor2D): tf.Tensor1D;
  /** Bool `[n]`: the goal holds on logits whose class `cls` is handicapped by κ, on the active rows. */
  succeeded(logits: tf.Tensor2D): tf.Tensor1D;
  /** Releases the loss's tensors. */
  dispose(): void;
}

/** The margin loss of `ctx`'s goal with confidence `confidence` (κ ≥ 0), for a model of `numClasses` classes. */
export function cwMargin(ctx: Pick<AttackContext<unknown>, 'goal' | 'active'>, numClasses: number, confidence: number): CwMargin {
  const { classes, targeted } = ctx.goal;
  const sign = targeted ? -1 : 1;
  const cls = tf.cast(classes, 'int32') as tf.Tensor1D;
  const mask = tf.oneHot(cls, numClasses);
  const exclude = tf.mul(mask, 1e9);
  const shift = tf.mul(mask, sign * confidence);
  return {
    loss: (logits) => {
      const margin = tf.sub(tf.sum(tf.mul(logits, mask), 1), tf.max(tf.sub(logits, exclude), 1));
      return tf.relu(tf.add(tf.mul(margin, sign), confidence)) as tf.Tensor1D;
    },
    succeeded: (logits) => {
      const pred = tf.cast(tf.argMax(tf.add(logits, shift), 1), 'int32');
      return tf.logicalAnd(targeted ? tf.equal(pred, cls) : tf.notEqual(pred, cls), ctx.active) as tf.Tensor1D;
    },
    dispose: () => tf.dispose([cls, mask, exclude, shift]),
  };
}

/** Bool `[n]`: rows whose loss did not fall below {@link ABORT_FACTOR} times its value at the previous check. */
export function stalledRows(loss: tf.Tensor1D, previous: tf.Tensor1D): tf.Tensor1D {
  return tf.logicalNot(tf.lessEqual(loss, tf.mul(previous, ABORT_FACTOR))) as tf.Tensor1D;
}

/** Whether every entry of the bool `t` is true (read back; `t` stays the caller's). */
export async function allTrue(t: tf.Tensor): Promise<boolean> {
  const all = tf.all(t);
  const [done] = await all.data();
  all.dispose();
  return done === 1;
}
