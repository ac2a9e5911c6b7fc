import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from './errors.js';
import type { Goal } from './goals.js';
import type { AnyModel, Bounds } from './model.js';

/** Tolerance for inputs sitting on the bounds after float arithmetic. */
const BOUNDS_TOLERANCE = 1e-6;

function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Checks that `x` is a batch for `model`: rank, per-sample shape, finite values, inside bounds.
 * Throws `INVALID_SHAPE`, `NON_FINITE_INPUT` or `OUT_OF_BOUNDS`; creates no lasting tensor.
 *
 * @public
 */
export async function validateInput(model: Pick<AnyModel, 'inputShape' | 'bounds'>, x: tf.Tensor): Promise<void> {
  if (!(x instanceof tf.Tensor)) {
    throw new AdvxError('INVALID_SHAPE', 'x must be a tf.Tensor batch of shape [n, ...inputShape].');
  }
  const expected = [-1, ...model.inputShape];
  if (x.rank !== expected.length || model.inputShape.some((d, i) => x.shape[i + 1] !== d)) {
    throw new AdvxError(
      'INVALID_SHAPE',
      `x has shape ${shapeString(x.shape)} but the model expects [n, ${model.inputShape.join(', ')}]. ` +
        'Add the batch axis (tf.expandDims(x, 0)) or reshape the data to the model input shape.',
      { expected: model.inputShape, got: x.shape },
    );
  }
  if (x.shape[0] === 0) {
    throw new AdvxError('INVALID_SHAPE', 'x is an empty batch (n = 0): pass at least one sample.');
  }
  const stats = tf.tidy(() => {
    const flat = tf.reshape(tf.cast(x, 'float32'), [-1]);
    const finite = tf.isFinite(flat);
    const nonFinite = tf.sum(tf.cast(tf.logicalNot(finite), 'float32'));
    const safe = tf.where(finite, flat, tf.zerosLike(flat));
    return tf.stack([nonFinite, tf.min(safe), tf.max(safe)]);
  });
  const [nonFinite, lo, hi] = await stats.data();
  stats.dispose();
  if ((nonFinite as number) > 0) {
    throw new AdvxError('NON_FINITE_INPUT', `x contains ${nonFinite} NaN or infinite values. Clean the data (e.g. replace NaN) before attacking.`);
  }
  checkInBounds(model.bounds, lo as number, hi as number, 'x');
}

/** Throws `OUT_OF_BOUNDS` when [lo, hi] is not inside `bounds`. */
export function checkInBounds(bounds: Bounds, lo: number, hi: number, what: string): void {
  const [b0, b1] = bounds;
  const tol = BOUNDS_TOLERANCE * Math.max(1, b1 - b0);
  if (lo < b0 - tol || hi > b1 + tol) {
    throw new AdvxError(
      'OUT_OF_BOUNDS',
      `${what} has values in [${lo}, ${hi}] but the model's bounds are [${b0}, ${b1}]. ` +
        'Scale the data to the bounds (e.g. divide 8-bit images by 255) or declare the right bounds on the model adapter.',
      { bounds, min: lo, max: hi },
    );
  }
}

async function checkClasses(t: tf.Tensor1D, n: number, numClasses: number, name: string): Promise<Int32Array> {
  if (!(t instanceof tf.Tensor) || t.rank !== 1) {
    throw new AdvxError('INVALID_SHAPE', `${name} must be a 1-D tensor of class indices, one per sample.`);
  }
  if (t.shape[0] !== n) {
    throw new AdvxError(
      'BATCH_MISMATCH',
      `${name} has ${t.shape[0]} entries but x has ${n} samples: pass one ${name === 'targets' ? 'target' : 'label'} per sample.`,
      { expected: n, got: t.shape[0] },
    );
  }
  const values = await t.data();
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (!Number.isInteger(v) || v < 0 || v >= numClasses) {
      throw new AdvxError('LABEL_OUT_OF_RANGE', `${name}[${i}] = ${v} is not a class index in [0, ${numClasses - 1}] (the model has ${numClasses} classes).`, {
        index: i,
        value: v,
        numClasses,
      });
    }
    out[i] = v;
  }
  return out;
}

/**
 * Validated goal values: `classes` are the labels (untargeted) or targets (targeted).
 *
 * @public
 */
export interface GoalValues {
  /** `true` for a targeted goal. */
  readonly targeted: boolean;
  /** Labels (untargeted) or targets (targeted). */
  readonly classes: Int32Array;
  /** True labels when known. */
  readonly labels: Int32Array | undefined;
}

/**
 * Checks a goal against a batch of `n` samples and `numClasses` classes: shapes, integer classes in
 * range, targets different from labels. Throws `BATCH_MISMATCH`, `LABEL_OUT_OF_RANGE`,
 * `TARGET_EQUALS_LABEL` or `INVALID_OPTION`.
 *
 * @public
 */
export async function validateGoal(goal: Goal, n: number, numClasses: number): Promise<GoalValues> {
  if (goal === null || typeof goal !== 'object' || !('labels' in goal || 'targets' in goal)) {
    throw new AdvxError('INVALID_OPTION', 'goal must be { labels } (untargeted) or { targets, labels? } (targeted).');
  }
  if ('targets' in goal && goal.targets !== undefined) {
    const classes = await checkClasses(goal.targets, n, numClasses, 'targets');
    const labels = goal.labels === undefined ? undefined : await checkClasses(goal.labels, n, numClasses, 'labels');
    if (labels) {
      const i = labels.findIndex((l, k) => l === classes[k]);
      if (i >= 0) {
        throw new AdvxError(
          'TARGET_EQUALS_LABEL',
          `targets[${i}] = ${classes[i]} equals the true label of sample ${i}: a targeted attack needs a different class ` +
            '(use randomTargets(labels, numClasses, seed) to draw valid targets).',
          { index: i },
        );
      }
    }
    return { targeted: true, classes, labels };
  }
  const labels = await checkClasses((goal as { labels: tf.Tensor1D }).labels, n, numClasses, 'labels');
  return { targeted: false, classes: labels, labels };
}

/**
 * Checks a list of epsilons: non-empty, each finite and > 0. Throws `INVALID_EPSILON`.
 *
 * @public
 */
export function validateEpsilons(epsilons: readonly number[] | undefined, required: boolean): readonly number[] {
  if (epsilons === undefined) {
    if (required) {
      throw new AdvxError('INVALID_EPSILON', 'This attack needs epsilons: pass { epsilons: [0.3] } (one or more radii > 0).');
    }
    return [];
  }
  if (!Array.isArray(epsilons) || (required && epsilons.length === 0)) {
    throw new AdvxError('INVALID_EPSILON', 'epsilons must be a non-empty array of numbers > 0, e.g. [0.1, 0.2, 0.3].');
  }
  epsilons.forEach((e, i) => {
    if (typeof e !== 'number' || !Number.isFinite(e) || e <= 0) {
      throw new AdvxError(
        'INVALID_EPSILON',
        `epsilons[${i}] = ${e} is not a finite number > 0. Perturbation radii must be positive (clean accuracy is measured separately).`,
        { index: i, value: e },
      );
    }
  });
  return [...epsilons];
}

/**
 * Checks an option is an integer in `[min, max]`; throws `INVALID_OPTION` naming it.
 *
 * @public
 */
export function checkInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AdvxError('INVALID_OPTION', `${name} must be an integer in [${min}, ${max}], got ${String(value)}.`);
  }
  return value;
}

/**
 * Checks an option is a finite number in `[min, max]` (exclusive bounds with `open`); throws `INVALID_OPTION`.
 *
 * @public
 */
export function checkNumber(name: string, value: unknown, min: number, max = Infinity, open = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (open ? value > min && value < max : value >= min && value <= max);
  if (!ok) {
    const range = open ? `(${min}, ${max})` : `[${min}, ${max}]`;
    throw new AdvxError('INVALID_OPTION', `${name} must be a finite number in ${range}, got ${String(value)}.`);
  }
  return value as number;
}

/**
 * Throws `PROBABILITIES_NOT_LOGITS` when a model that declares logits returns rows that are all
 * probability vectors (non-negative, summing to 1): its gradients would be those of a saturated
 * softmax and would make attacks look weak.
 *
 * @public
 */
export async function assertLogitsOutput(logits: tf.Tensor2D): Promise<void> {
  const check = tf.tidy(() => {
    const rowSums = tf.sum(logits, 1);
    const nonNeg = tf.all(tf.greaterEqual(logits, 0));
    const sumsToOne = tf.all(tf.lessEqual(tf.abs(tf.sub(rowSums, 1)), 1e-4));
    return tf.logicalAnd(nonNeg, sumsToOne);
  });
  const [isProb] = await check.data();
  check.dispose();
  if (isProb) {
    throw new AdvxError(
      'PROBABILITIES_NOT_LOGITS',
      'The model declares logits but every output row is a probability vector (non-negative, summing to 1). ' +
        "Pass a model without the final softmax, or declare output: 'probabilities' on the adapter so it is converted (with a warning).",
    );
  }
}
