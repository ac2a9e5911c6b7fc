import { promises as fs } from 'node:fs';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { AdvxError, fromLayersModel, type Bounds, type Model } from '@advx/core';

interface ModelJson {
  readonly format?: string;
  readonly modelTopology?: object;
  readonly weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

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
 * @param file - path of `model.json`; the weight files are read from the same folder.
 * @param bounds - the valid input range (default `[0, 1]`).
 * @returns the advx model and a `dispose` for its weights.
 * @throws AdvxError `INVALID_MODEL` when the file cannot be read or is not a layers model.
 *
 * @example
 * ```ts
 * const { model, dispose } = await loadModelFile('my-model/model.json', [0, 1]);
 * ```
 * @public
 */
export async function loadModelFile(file: string, bounds: Bounds = [0, 1]): Promise<LoadedModelFile> {
  let json: ModelJson;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new AdvxError('INVALID_MODEL', `cannot read the model ${file}: ${(e as Error).message}. Pass a zoo id (e.g. mnist-cnn) or the path of a tfjs layers model.json.`);
  }
  if (json.format === 'graph-model') {
    throw new AdvxError('INVALID_MODEL', `${file} is a tfjs graph model; advx eval reads layers models (wrap graph models with fromGraphModel and call evaluate() from code).`);
  }
  if (json.modelTopology === undefined || !Array.isArray(json.weightsManifest)) {
    throw new AdvxError('INVALID_MODEL', `${file} is not a tfjs layers model.json (it has no modelTopology and weightsManifest).`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const weights = path.join(path.dirname(file), p);
      try {
        parts.push(await fs.readFile(weights));
      } catch (e) {
        throw new AdvxError('INVALID_MODEL', `cannot read the weight file ${weights} named in ${file}: ${(e as Error).message}`);
      }
    }
  }
  const data = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  let layers: tfl.LayersModel;
  try {
    layers = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: data.buffer }));
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
