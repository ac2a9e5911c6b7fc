import type * as tf from '@tensorflow/tfjs-core';

/**
 * The valid input range `[low, high]` of a model. Attacks clip to it; they never assume [0, 1].
 *
 * @public
 */
export type Bounds = readonly [number, number];

/**
 * What a model's raw output is. Attacks need `logits`; `log-probabilities` come from a model that
 * outputs probabilities (converted with `log`, which can mask gradients when the softmax saturates).
 *
 * @public
 */
export type OutputKind = 'logits' | 'log-probabilities';

/**
 * A differentiable classifier in input space: white-box access.
 * The adapter owns bounds and normalization; `logits` is pure tfjs ops, differentiable w.r.t. `x`.
 *
 * @public
 */
export interface Model {
  /** Discriminator: white-box model. */
  readonly kind: 'model';
  /** Shape of one sample, without the batch axis (e.g. `[28, 28, 1]`). */
  readonly inputShape: readonly number[];
  /** Number of classes. */
  readonly numClasses: number;
  /** Valid input range. */
  readonly bounds: Bounds;
  /** What {@link Model.logits} returns: true logits, or log-probabilities of a probability model. */
  readonly outputKind: OutputKind;
  /** Class scores before softmax for a batch `[n, ...inputShape]`: shape `[n, numClasses]`. */
  logits(x: tf.Tensor): tf.Tensor2D;
}

/**
 * What a query-only model returns: softmax scores, or only the top-1 label (as a one-hot row).
 *
 * @public
 */
export type QueryOutput = 'scores' | 'label';

/**
 * Query-only access to a classifier (a remote API, a non-differentiable pipeline). Every queried
 * sample is counted against a budget.
 *
 * @public
 */
export interface QueryModel {
  /** Discriminator: query-only model. */
  readonly kind: 'query';
  /** Shape of one sample, without the batch axis. */
  readonly inputShape: readonly number[];
  /** Number of classes. */
  readonly numClasses: number;
  /** Valid input range. */
  readonly bounds: Bounds;
  /** `scores`: rows of probabilities; `label`: one-hot rows of the predicted class. */
  readonly output: QueryOutput;
  /** Total budget of samples that may be queried (`Infinity` for none). */
  readonly budget: number;
  /** Samples queried so far. */
  readonly queries: number;
  /**
   * Queries a batch `[n, ...inputShape]`, returning `[n, numClasses]`. Counts `n` queries.
   * @throws AdvxError `QUERY_BUDGET_EXHAUSTED` (before any work) when `n` exceeds what is left.
   */
  query(x: tf.Tensor): Promise<tf.Tensor2D>;
}

/**
 * Any model an attack or detector accepts.
 *
 * @public
 */
export type AnyModel = Model | QueryModel;
