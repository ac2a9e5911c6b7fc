import type * as tf from '@tensorflow/tfjs-core';

/**
 * The part of a tfjs-layers `SymbolicTensor` that {@link fromLayersModel} reads. Declared here, so that
 * `@advx/core`'s types need no `@tensorflow/tfjs-layers`; a real `SymbolicTensor` fits it.
 *
 * @example
 * ```ts
 * const output: SymbolicTensorLike = net.outputs[0]; // net: a tf.LayersModel
 * ```
 * @public
 */
export interface SymbolicTensorLike {
  /** Name of the tensor in the model, as `LayersModel.execute` accepts it. */
  readonly name: string;
  /** Shape with the batch axis; `null` for an unknown dimension. */
  readonly shape: readonly (number | null)[];
  /** The layer that outputs this tensor. */
  readonly sourceLayer: LayerLike;
  /** The tensors fed into {@link SymbolicTensorLike.sourceLayer} to produce this one. */
  readonly inputs: readonly SymbolicTensorLike[];
}

/**
 * The part of a tfjs-layers `Layer` that {@link fromLayersModel} reads (class, config and weights of
 * the last layer, to find and strip a softmax). A real `Layer` fits it.
 *
 * @example
 * ```ts
 * const last: LayerLike = net.layers[net.layers.length - 1]; // net: a tf.LayersModel
 * ```
 * @public
 */
export interface LayerLike {
  /** Layer name, unique in its model. */
  readonly name: string;
  /** The layer's weights; `read()` returns the live value. */
  readonly weights: readonly {
    /** The weight's name in the saved model, e.g. `'dense/kernel'`. */
    readonly originalName: string;
    /** The weight's current value. */
    read(): tf.Tensor;
  }[];
  /** Serialization class name, e.g. `'Dense'`, `'Activation'`, `'Softmax'`. */
  getClassName(): string;
  /** The layer's configuration (`activation`, `axis`, ...). */
  getConfig(): object;
}

/**
 * The part of a tfjs-layers `LayersModel` (from `tf.sequential`, `tf.model` or `tf.loadLayersModel`)
 * that {@link fromLayersModel} uses. `@advx/core` declares it structurally so that its types do not
 * require `@tensorflow/tfjs-layers`; any real `LayersModel` is assignable to it.
 *
 * @example
 * ```ts
 * import * as tfl from '@tensorflow/tfjs-layers';
 * const net: LayersModelLike = tfl.sequential({ layers: [tfl.layers.dense({ units: 3, inputShape: [4] })] });
 * ```
 * @public
 */
export interface LayersModelLike {
  /** The model's symbolic inputs (advx needs exactly one). */
  readonly inputs: readonly SymbolicTensorLike[];
  /** The model's symbolic outputs (advx needs exactly one, `[batch, numClasses]`). */
  readonly outputs: readonly SymbolicTensorLike[];
  /** Runs the model on `inputs` up to the tensor(s) named `outputs`. */
  execute(inputs: tf.Tensor, outputs: string): tf.Tensor | tf.Tensor[];
}

/**
 * An input or output of a tfjs-converter `GraphModel`, as its signature describes it.
 *
 * @example
 * ```ts
 * const info: GraphTensorInfoLike = { name: 'x:0', shape: [-1, 28, 28, 1] };
 * ```
 * @public
 */
export interface GraphTensorInfoLike {
  /** Node name, possibly with a `:port` suffix. */
  readonly name: string;
  /** Shape with the batch axis; `-1` for an unknown dimension; absent when the graph does not say. */
  readonly shape?: readonly number[];
}

/**
 * The part of a tfjs-converter `GraphModel` (from `tf.loadGraphModel`) that {@link fromGraphModel}
 * uses. `@advx/core` declares it structurally so that its types do not require
 * `@tensorflow/tfjs-converter`; any real `GraphModel` is assignable to it.
 *
 * @example
 * ```ts
 * import { loadGraphModel } from '@tensorflow/tfjs-converter';
 * const graph: GraphModelLike = await loadGraphModel('https://example.com/model.json');
 * ```
 * @public
 */
export interface GraphModelLike {
  /** The graph's inputs (advx needs exactly one). */
  readonly inputs: readonly GraphTensorInfoLike[];
  /** The graph's outputs. */
  readonly outputs: readonly GraphTensorInfoLike[];
  /** Runs the graph synchronously, returning its output or the node named `outputs`. */
  execute(inputs: tf.Tensor, outputs?: string): tf.Tensor | tf.Tensor[];
}
