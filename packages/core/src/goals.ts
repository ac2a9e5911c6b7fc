import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from './errors.js';
import type { Model } from './model.js';
import { deriveSeed, Rng } from './rng.js';

/**
 * What an attack tries to achieve, as data (never a mutable mode on the attack):
 * untargeted — move each sample away from its true label; targeted — make the model predict the
 * target class. `labels` may accompany `targets` so that targets equal to the true label are rejected.
 *
 * @example
 * ```ts
 * const untargeted: Goal = { labels: tf.tensor1d([3, 7], 'int32') };
 * const targeted: Goal = { targets: tf.tensor1d([0, 0], 'int32'), labels };
 * ```
 * @public
 */
export type Goal = UntargetedGoal | TargetedGoal;

/**
 * Untargeted goal: leave the true class.
 *
 * @public
 */
export interface UntargetedGoal {
  /** True labels, int32 `[n]`. */
  readonly labels: tf.Tensor1D;
}

/**
 * Targeted goal: reach the target class.
 *
 * @public
 */
export interface TargetedGoal {
  /** Target classes, int32 `[n]`. */
  readonly targets: tf.Tensor1D;
  /** True labels, when known: targets equal to them are rejected. */
  readonly labels?: tf.Tensor1D;
}

/**
 * Whether a goal is targeted or untargeted.
 *
 * @public
 */
export type GoalKind = 'untargeted' | 'targeted';

/**
 * A validated goal as attacks see it.
 *
 * @public
 */
export interface ResolvedGoal {
  /** `true` for `{ targets }`. */
  readonly targeted: boolean;
  /** The class to move away from (untargeted) or toward (targeted), int32 `[n]`. */
  readonly classes: tf.Tensor1D;
  /** True labels when known. */
  readonly labels: tf.Tensor1D | undefined;
}

/**
 * Kind of a goal.
 *
 * @public
 */
export function goalKind(goal: Goal): GoalKind {
  return 'targets' in goal ? 'targeted' : 'untargeted';
}

/**
 * Per-sample success of predictions against a goal: `pred ≠ label` (untargeted) or `pred = target`.
 *
 * @param predictions - predicted classes `[n]`.
 * @public
 */
export function goalReached(predictions: ArrayLike<number>, classes: ArrayLike<number>, targeted: boolean): boolean[] {
  return Array.from(predictions, (p, i) => (targeted ? p === classes[i] : p !== classes[i]));
}

/**
 * Bool tensor `[n]`: whether each row of `logits` satisfies the goal.
 *
 * @public
 */
export function isAdversarialLogits(logits: tf.Tensor2D, goal: ResolvedGoal): tf.Tensor1D {
  return tf.tidy(() => {
    const pred = tf.argMax(logits, 1);
    const classes = tf.cast(goal.classes, 'int32');
    return (goal.targeted ? tf.equal(pred, classes) : tf.notEqual(pred, classes)) as tf.Tensor1D;
  });
}

async function labelValues(labels: tf.Tensor1D | ArrayLike<number>, name: string): Promise<Int32Array> {
  const values = labels instanceof tf.Tensor ? await labels.data() : labels;
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v)) {
      throw new AdvxError('LABEL_OUT_OF_RANGE', `${name}[${i}] = ${v} is not an integer class index.`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Random target classes, each different from the sample's label, drawn from a per-sample seeded
 * stream (pure: the same labels and seed give the same targets, whatever the batching).
 *
 * @param labels - true labels `[n]`.
 * @param numClasses - number of classes (≥ 2).
 * @param seed - seed (default 0).
 * @returns int32 `[n]`.
 * @example
 * ```ts
 * const targets = await randomTargets(labels, 10, 42);
 * await attack.run(model, x, { targets, labels }, { epsilons: [0.3] });
 * ```
 * @public
 */
export async function randomTargets(labels: tf.Tensor1D | ArrayLike<number>, numClasses: number, seed = 0): Promise<tf.Tensor1D> {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new AdvxError('INVALID_OPTION', `numClasses must be an integer ≥ 2, got ${numClasses}.`);
  }
  const y = await labelValues(labels, 'labels');
  const t = new Int32Array(y.length);
  y.forEach((label, i) => {
    if (label < 0 || label >= numClasses) {
      throw new AdvxError('LABEL_OUT_OF_RANGE', `labels[${i}] = ${label} is outside [0, ${numClasses - 1}].`);
    }
    const rng = new Rng(deriveSeed(seed, i, 0x7a46));
    t[i] = (label + 1 + rng.int(numClasses - 1)) % numClasses;
  });
  return tf.tensor1d(t, 'int32');
}

/**
 * Least-likely targets: for each sample, the class with the lowest logit (Kurakin et al. 2016's
 * "iterative least-likely class" target). Deterministic.
 *
 * @returns int32 `[n]`.
 * @example
 * ```ts
 * const targets = leastLikelyTargets(model, x);
 * ```
 * @public
 */
export function leastLikelyTargets(model: Model, x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => tf.cast(tf.argMin(model.logits(x), 1), 'int32') as tf.Tensor1D);
}
