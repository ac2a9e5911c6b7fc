import * as tf from '@tensorflow/tfjs-core';

import { fromFunction } from '../adapters/index.js';
import type { Bounds, Model } from '../model.js';
import { Rng } from '../rng.js';

/**
 * Options of {@link linearModel}.
 *
 * @public
 */
export interface LinearModelOptions {
  /** Weight matrix, one row per class: `weights[c]` has one entry per input element. */
  readonly weights: readonly (readonly number[])[];
  /** One bias per class (default zeros). */
  readonly bias?: readonly number[];
  /** Per-sample input shape (default `[weights[0].length]`). */
  readonly inputShape?: readonly number[];
  /** Input bounds (default `[0, 1]`). */
  readonly bounds?: Bounds;
}

/**
 * A linear classifier `z = W·x + b` with hand-chosen weights: the smallest model whose gradients
 * and adversarial examples can be computed by hand, for closed-form tests.
 *
 * @example
 * ```ts
 * const model = linearModel({ weights: [[1, -1], [-1, 1]] }); // 2 inputs, 2 classes
 * ```
 * @public
 */
export function linearModel(options: LinearModelOptions): Model {
  const w = options.weights;
  const d = w[0]?.length ?? 0;
  const c = w.length;
  const inputShape = options.inputShape ?? [d];
  const wt = tf.keep(
    tf.transpose(
      tf.tensor2d(
        w.map((r) => [...r]),
        [c, d],
      ),
    ) as tf.Tensor2D,
  );
  const b = tf.keep(tf.tensor1d(options.bias ? [...options.bias] : new Array<number>(c).fill(0)));
  return fromFunction((x) => tf.add(tf.matMul(tf.reshape(x, [-1, d]), wt), b) as tf.Tensor2D, {
    inputShape: [...inputShape],
    numClasses: c,
    bounds: options.bounds ?? [0, 1],
    output: 'logits',
  });
}

/**
 * Options of {@link mlpModel}.
 *
 * @public
 */
export interface MlpModelOptions {
  /** Seed of the weights. */
  readonly seed: number;
  /** Input features (flat). */
  readonly inputs: number;
  /** Hidden ReLU units. */
  readonly hidden: number;
  /** Classes. */
  readonly classes: number;
}

/**
 * A 2-layer ReLU network `x − ½ → relu(W₁·+b₁) → W₂·+b₂` on [0, 1] with weights drawn from
 * `new Rng(seed)` (He-style scale): a small nonlinear model for conformance tests.
 *
 * @example
 * ```ts
 * const model = mlpModel({ seed: 2, inputs: 16, hidden: 12, classes: 4 });
 * ```
 * @public
 */
export function mlpModel(options: MlpModelOptions): Model {
  const { inputs: d, hidden: h, classes: c } = options;
  const rng = new Rng(options.seed);
  const draw = (k: number, scale: number) => Array.from({ length: k }, () => scale * rng.normal());
  const w1 = tf.keep(tf.tensor2d(draw(d * h, 2 / Math.sqrt(d)), [d, h]));
  const b1 = tf.keep(tf.tensor1d(draw(h, 0.1)));
  const w2 = tf.keep(tf.tensor2d(draw(h * c, 2 / Math.sqrt(h)), [h, c]));
  const b2 = tf.keep(tf.tensor1d(draw(c, 0.1)));
  return fromFunction((x) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(tf.sub(tf.reshape(x, [-1, d]), 0.5), w1), b1)), w2), b2) as tf.Tensor2D, {
    inputShape: [d],
    numClasses: c,
    bounds: [0, 1],
    output: 'logits',
  });
}

/**
 * A batch and its labels.
 *
 * @public
 */
export interface LabeledBatch {
  /** Inputs `[n, ...inputShape]`. */
  readonly x: tf.Tensor;
  /** Labels, int32 `[n]`. */
  readonly labels: tf.Tensor1D;
}

/**
 * `n` samples uniform in [0.1, 0.9] labelled with the model's own predictions (clean accuracy 100 %):
 * data on which any successful attack has to change a prediction.
 *
 * @example
 * ```ts
 * const { x, labels } = selfLabeledData(model, 3, 8);
 * ```
 * @public
 */
export function selfLabeledData(model: Model, seed: number, n: number): LabeledBatch {
  const shape = [n, ...model.inputShape];
  const size = shape.reduce((p, s) => p * s, 1);
  const rng = new Rng(seed);
  const x = tf.tensor(
    Float32Array.from({ length: size }, () => 0.1 + 0.8 * rng.uniform()),
    shape,
  );
  const labels = tf.tidy(() => tf.cast(tf.argMax(model.logits(x), 1), 'int32') as tf.Tensor1D);
  return { x, labels };
}
