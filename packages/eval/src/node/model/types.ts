import type * as tf from '@tensorflow/tfjs-core';

import type { Bounds, Model, ModelOutput, NormalizeOptions } from '@advx/core';

/**
 * What a model given to `advx eval --model` is: a zoo id, a tfjs layers model, a tfjs graph model
 * (converted SavedModel / TF Hub) or a Teachable Machine image export.
 *
 * @public
 */
export type UserModelFormat = 'zoo' | 'layers' | 'graph' | 'teachable-machine';

/**
 * Options of {@link loadUserModel}: how inputs reach the model and what it outputs. Every field is
 * optional; the defaults come from the model (its signature, a Teachable Machine `metadata.json`).
 *
 * @public
 */
export interface LoadUserModelOptions {
  /** Valid input range `[lo, hi]` of the raw input. Default `[0, 1]` (zoo: its card's bounds). */
  readonly bounds?: Bounds;
  /**
   * What the model (or `outputNode`) returns. Default: detected — a graph output that ends in
   * `Softmax` (or `Sigmoid`) is read before it, as logits; anything else is taken as logits (and
   * {@link inspectModel} refuses rows that sum to 1).
   */
  readonly output?: ModelOutput;
  /** Graph models: the node holding the class scores (e.g. the input of the final Softmax). */
  readonly outputNode?: string;
  /** `[height, width]` of the model's input; needed when the graph's signature leaves it unknown. */
  readonly inputSize?: readonly [number, number];
  /** Colour channels of the model's input (1 grey, 3 RGB); needed when the signature leaves it unknown. */
  readonly channels?: 1 | 3;
  /** `(x - mean) / std` inside the model. Teachable Machine default: mean = std = 127/255 (TM's `x/127 - 1`). */
  readonly normalize?: NormalizeOptions;
  /** Class names, in output order (e.g. from `--labels FILE`); they override the model's metadata. */
  readonly labels?: readonly string[];
}

/**
 * The input handling and output reading of a loaded model, as stored in `results.json` (config)
 * and shown in the reports. Plain JSON.
 *
 * @public
 */
export interface UserModelDescription {
  /** The `--model` argument. */
  readonly source: string;
  /** What it was read as. */
  readonly format: UserModelFormat;
  /** Shape of one input sample `[h, w, c]` (or whatever the model takes). */
  readonly inputShape: readonly number[];
  /** dtype of the model's input as declared (`float32`, or `int32` for graphs with integer pixels). */
  readonly inputDtype: string;
  /** Valid raw input range; data pixels 0..255 are mapped linearly onto it. */
  readonly bounds: readonly [number, number];
  /** Normalization applied inside the model, or `null`. */
  readonly normalize: {
    /** Subtracted from the input, per channel or one value. */
    readonly mean: number | readonly number[];
    /** The input is divided by it after the mean is subtracted. */
    readonly std: number | readonly number[];
  } | null;
  /** What the read node returns (`probabilities` are attacked as log-probabilities). */
  readonly output: ModelOutput;
  /** The graph node that is read, or `null` (the model's output). */
  readonly outputNode: string | null;
  /** Number of classes. */
  readonly numClasses: number;
  /** Class names, or `null`. */
  readonly classNames: readonly string[] | null;
  /** Where the class names came from. */
  readonly classNamesFrom: 'labels-file' | 'teachable-machine' | 'zoo' | 'none';
  /** How the output was derived, in words (softmax stripped, binary sigmoid, ...). */
  readonly notes: readonly string[];
}

/**
 * A model loaded by {@link loadUserModel}.
 *
 * @public
 */
export interface UserModel {
  /** The advx model. */
  readonly model: Model;
  /** A short id for reports (zoo id, or the model's folder name). */
  readonly id: string;
  /** What it was read as. */
  readonly format: UserModelFormat;
  /** Class names in output order, when known. */
  readonly classNames: readonly string[] | undefined;
  /** The zoo model's dataset (`mnist`, `fashion-mnist`); `undefined` for other models. */
  readonly dataset: string | undefined;
  /** The input handling, for results.json and the reports. */
  readonly description: UserModelDescription;
  /**
   * The model's penultimate features `[n, k]` (the input of its last dense layer) for the attack
   * self-test, where the model gives them: zoo and tfjs layers models without input normalization.
   */
  readonly features?: (x: tf.Tensor) => tf.Tensor2D;
  /** Releases the model's weights. */
  dispose(): void;
}
