import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { AdvxError } from '@advx/core';

/**
 * The activations of a named layer of a tfjs-layers model, as the `features` option of the dataset
 * inspectors ({@link spectralSignatures}, {@link spectre}, {@link activationClustering}): they work
 * on the penultimate layer, where a backdoor separates poisoned from clean samples.
 * The returned function maps a batch `[n, ...inputShape]` to `[n, ...layerShape]` (inspectors
 * flatten it); it shares the model's weights, so keep the model alive while it is used.
 *
 * @param model - the trained tfjs-layers model.
 * @param layerName - name of the layer whose output is returned (e.g. the last hidden dense layer).
 * @throws AdvxError `INVALID_OPTION` when no layer has that name (the message lists the names).
 * @example
 * ```ts
 * const features = layerFeatures(layersModel, 'dense2');
 * const inspection = await spectralSignatures({ features, poisonFraction: 0.1 }).inspect(model, { x, y });
 * ```
 * @public
 */
export function layerFeatures(model: tfl.LayersModel, layerName: string): (x: tf.Tensor) => tf.Tensor {
  if (!model || typeof (model as { getLayer?: unknown }).getLayer !== 'function') {
    throw new AdvxError('INVALID_MODEL', 'layerFeatures needs a tfjs-layers LayersModel.');
  }
  const names = model.layers.map((l) => l.name);
  if (!names.includes(layerName)) {
    throw new AdvxError('INVALID_OPTION', `layerFeatures: the model has no layer '${layerName}'. Its layers: ${names.join(', ')}.`);
  }
  const sub = tfl.model({ inputs: model.inputs, outputs: model.getLayer(layerName).output as tfl.SymbolicTensor });
  return (x: tf.Tensor) => sub.predict(x) as tf.Tensor;
}
