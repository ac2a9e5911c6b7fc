import { promises as fs } from 'node:fs';
import path from 'node:path';

import type * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '@advx/core';

/** The fields of a tfjs `model.json` (layers or graph format) that advx reads. */
export interface ModelJsonFile {
  /** `'layers-model'`, `'graph-model'` or absent (older layers files). */
  readonly format?: string;
  /** The layers topology or the graph def. */
  readonly modelTopology?: object;
  /** Weight groups: files (relative to the json) and the tensors they hold. */
  readonly weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  /** Graph models: the converter's signature (inputs and outputs with shapes and dtypes). */
  readonly signature?: object;
  /** Who produced the file. */
  readonly generatedBy?: string;
  /** The converter version. */
  readonly convertedBy?: string;
  /** Free metadata of the converter. */
  readonly userDefinedMetadata?: { [key: string]: object };
  /** Graph models: initializer graph (hash tables). */
  readonly modelInitializer?: object;
}

/** A parsed `model.json` with its weights, ready for `tf.io.fromMemory`. */
export interface ModelJsonArtifacts {
  /** The parsed json. */
  readonly json: ModelJsonFile;
  /** Topology, weight specs and concatenated weight bytes. */
  readonly artifacts: tf.io.ModelArtifacts;
  /** Total bytes of the weight files. */
  readonly weightBytes: number;
}

/**
 * Reads a tfjs `model.json` and every weight file its `weightsManifest` names, from the same folder
 * only: a weight path that is absolute or leaves the folder (`../`) is refused, naming the path.
 *
 * @param file - path of the `model.json`.
 * @returns the json and the artifacts (nothing is built yet).
 * @throws AdvxError `INVALID_MODEL` when the json or a weight file cannot be read, the file is not a
 * tfjs model.json, or a weight path leaves the model's folder.
 *
 * @example
 * ```ts
 * const { json, artifacts } = await readModelJson('my-model/model.json');
 * ```
 */
export async function readModelJson(file: string): Promise<ModelJsonArtifacts> {
  let json: ModelJsonFile;
  try {
    json = JSON.parse(await fs.readFile(file, 'utf8')) as ModelJsonFile;
  } catch (e) {
    throw new AdvxError(
      'INVALID_MODEL',
      `cannot read the model ${file}: ${(e as Error).message}. Pass a zoo id (e.g. mnist-cnn), a tfjs model.json or a Teachable Machine export folder.`,
    );
  }
  if (
    json === null ||
    typeof json !== 'object' ||
    typeof json.modelTopology !== 'object' ||
    json.modelTopology === null ||
    !Array.isArray(json.weightsManifest)
  ) {
    throw new AdvxError('INVALID_MODEL', `${file} is not a tfjs model.json (it needs a modelTopology and a weightsManifest).`);
  }
  const folder = path.resolve(path.dirname(file));
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    if (group === null || typeof group !== 'object' || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new AdvxError('INVALID_MODEL', `${file}: every weightsManifest entry needs paths and weights arrays.`);
    }
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const weights = path.resolve(folder, String(p));
      const relative = path.relative(folder, weights);
      if (typeof p !== 'string' || path.isAbsolute(p) || relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
        throw new AdvxError(
          'INVALID_MODEL',
          `${file} names the weight file '${String(p)}', which is outside the model's folder ${folder}; advx reads weights only next to the model.json (move the file there and name it without ../).`,
        );
      }
      try {
        parts.push(await fs.readFile(weights));
      } catch (e) {
        throw new AdvxError('INVALID_MODEL', `cannot read the weight file ${weights} named in ${file}: ${(e as Error).message}`);
      }
    }
  }
  const weightBytes = parts.reduce((s, p) => s + p.length, 0);
  const data = new Uint8Array(weightBytes);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology,
    weightSpecs,
    weightData: data.buffer,
    ...(json.format !== undefined ? { format: json.format } : {}),
    ...(json.generatedBy !== undefined ? { generatedBy: json.generatedBy } : {}),
    ...(json.convertedBy !== undefined ? { convertedBy: json.convertedBy } : {}),
    ...(json.signature !== undefined ? { signature: json.signature } : {}),
    ...(json.userDefinedMetadata !== undefined ? { userDefinedMetadata: json.userDefinedMetadata } : {}),
    ...(json.modelInitializer !== undefined ? { modelInitializer: json.modelInitializer } : {}),
  };
  return { json, artifacts, weightBytes };
}
