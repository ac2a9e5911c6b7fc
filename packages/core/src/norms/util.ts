/**
 * Private helpers shared by the norm geometries: per-sample flattening, validation and broadcast
 * of `eps`, and per-row ranks. Not part of the public API.
 *
 * Every helper here is meant to be called inside a `tf.tidy` of the caller.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '../errors.js';

/** A batch `[n, ...]` flattened to `[n, d]`, with its original shape. */
export interface FlatBatch {
  /** The batch as `[n, d]`, float32. */
  readonly flat: tf.Tensor2D;
  /** Number of samples. */
  readonly n: number;
  /** Number of entries per sample (product of the non-batch axes; 1 for a rank-1 batch). */
  readonly d: number;
  /** The original shape `[n, ...]`. */
  readonly shape: readonly number[];
}

/** Flattens a batch `[n, ...]` to `[n, d]` (float32). Throws `INVALID_SHAPE` for a scalar. */
export function flatten(t: tf.Tensor, what: string): FlatBatch {
  const shape = t.shape;
  const n = shape[0];
  if (n === undefined) {
    throw new AdvxError('INVALID_SHAPE', `${what} must be a batch [n, ...] with a leading batch axis, got a scalar.`);
  }
  const d = shape.slice(1).reduce((p, s) => p * s, 1);
  const f = t.dtype === 'float32' ? t : tf.cast(t, 'float32');
  return { flat: tf.reshape(f, [n, d]), n, d, shape };
}

/** Throws `INVALID_SHAPE` unless `a` and `b` have identical shapes. */
export function assertSameShape(a: tf.Tensor, b: tf.Tensor): void {
  const same = a.shape.length === b.shape.length && a.shape.every((s, i) => s === b.shape[i]);
  if (!same) {
    throw new AdvxError('INVALID_SHAPE', `distance(a, b) needs tensors of the same shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}].`);
  }
}

/**
 * Validates a scalar radius: not NaN and ≥ 0; `+Infinity` is accepted only when `allowInfinite`
 * (an unbounded projection), never for sampling.
 */
export function checkEps(eps: number, allowInfinite: boolean): void {
  const bad = Number.isNaN(eps) || eps < 0 || (!allowInfinite && !Number.isFinite(eps));
  if (bad) {
    const range = allowInfinite ? 'a number ≥ 0 (Infinity allowed)' : 'a finite number ≥ 0';
    throw new AdvxError('INVALID_EPSILON', `eps must be ${range}, got ${eps}.`, { eps });
  }
}

/**
 * `eps` as a float32 column `[n, 1]` that broadcasts against a flattened batch `[n, d]`.
 * A number is validated with {@link checkEps}; a tensor must have shape `[n]` (its values are not
 * read back, to keep the call asynchronous-backend friendly).
 */
export function epsColumn(eps: number | tf.Tensor1D, n: number): tf.Tensor2D {
  if (typeof eps === 'number') {
    checkEps(eps, true);
    return tf.fill([n, 1], eps, 'float32') as tf.Tensor2D;
  }
  if (eps.rank !== 1 || eps.shape[0] !== n) {
    throw new AdvxError('INVALID_SHAPE', `eps as a tensor must have shape [${n}] (one radius per sample), got [${eps.shape.join(', ')}].`, {
      expected: [n],
      actual: [...eps.shape],
    });
  }
  const e = eps.dtype === 'float32' ? eps : tf.cast(eps, 'float32');
  return tf.reshape(e, [n, 1]);
}

/**
 * Per-row rank of every entry of `scores` `[n, d]` in descending order: 0 for the largest entry
 * of its row, `d − 1` for the smallest (float32). Ties are broken by `tf.topk`, deterministically.
 *
 * Built from two `tf.topk` calls (a sort and the inverse permutation), so it runs on every backend.
 */
export function rowRanks(scores: tf.Tensor2D): tf.Tensor2D {
  const d = scores.shape[1];
  // order[i, j] = index of the j-th largest entry of row i.
  const order = tf.topk(scores, d, true).indices;
  // Sorting the indices ascending gives, at position p, the sorted position j with order[i, j] = p.
  const inverse = tf.topk(tf.neg(tf.cast(order, 'float32')), d, true).indices;
  return tf.cast(inverse, 'float32') as tf.Tensor2D;
}

/** Row-wise reduction `[n, d] → [n]` helper type. */
export type RowReduce = (flat: tf.Tensor2D) => tf.Tensor1D;

/** `norm(delta)` for a geometry defined by a row-wise reduction. */
export function normOf(delta: tf.Tensor, reduce: RowReduce): tf.Tensor1D {
  return tf.tidy(() => reduce(flatten(delta, 'delta').flat));
}

/** `distance(a, b)` for a geometry defined by a row-wise reduction. */
export function distanceOf(a: tf.Tensor, b: tf.Tensor, reduce: RowReduce): tf.Tensor1D {
  assertSameShape(a, b);
  return tf.tidy(() => {
    const fa = flatten(a, 'a');
    const fb = flatten(b, 'b');
    return reduce(tf.sub(fa.flat, fb.flat));
  });
}
