import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { AdvxError, fromLayersModel, type Bounds, type Model } from '@advx/core';

import { readModelJson } from './model/read-model-json.js';

/**
 * A model read by {@link loadModelFile}.
 *
 * @public
 */
export interface LoadedModelFile {
  /** The advx model (logits). */
  readonly model: Model;
  /** Releases the model's weights. */
  readonly dispose: () => void;
}

/**
 * Loads a tfjs layers model from a `model.json` file and its weight files (the format of
 * `tf.io.withSaveHandler`, `model.save('file://...')` or the tfjs converter's `layers-model`) and
 * wraps it with `fromLayersModel` (a final softmax is stripped: logits).
 *
 * @param file - path of `model.json`; the weight files are read from the same folder, and a weight
 *   path that leaves it (`../`, absolute) is refused.
 * @param bounds - the valid input range (default `[0, 1]`).
 * @returns the advx model and a `dispose` for its weights.
 * @throws AdvxError `INVALID_MODEL` when the file cannot be read, is not a layers model, or names a
 *   weight file outside its folder.
 *
 * @example
 * ```ts
 * const { model, dispose } = await loadModelFile('my-model/model.json', [0, 1]);
 * ```
 * @public
 */
export async function loadModelFile(file: string, bounds: Bounds = [0, 1]): Promise<LoadedModelFile> {
  const { json, artifacts } = await readModelJson(file);
  if (json.format === 'graph-model') {
    throw new AdvxError(
      'INVALID_MODEL',
      `${file} is a tfjs graph model; loadModelFile reads layers models (use loadUserModel, or advx eval --model, for graph models).`,
    );
  }
  let layers: tfl.LayersModel;
  try {
    layers = await tfl.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new AdvxError('INVALID_MODEL', `cannot build the layers model of ${file}: ${(e as Error).message}`);
  }
  try {
    return { model: fromLayersModel(layers, { bounds }), dispose: () => layers.dispose() };
  } catch (e) {
    layers.dispose();
    throw e;
  }
}
