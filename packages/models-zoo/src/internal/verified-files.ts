/**
 * Checksum-verified reading of a zoo folder (`card.json` listing files with their sha256, tfjs
 * layers models built from those verified bytes), shared by the classifier zoo (`models.ts`) and
 * the autoencoder zoo (`autoencoders.ts`).
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { AdvxError } from './core.js';
import { joinPath, packageRoot, readBytes, readText, sha256 } from '#platform';

/**
 * A file listed in a card with its checksum (structurally a `ModelCardFile`).
 *
 * @internal
 */
export interface VerifiedFileEntry {
  /** Plain file name inside the folder. */
  readonly path: string;
  /** Lower-case hex sha256. */
  readonly sha256: string;
}

/**
 * The part of a card that verification needs: its id and its files.
 *
 * @internal
 */
export interface VerifiableCard {
  /** Id the card must carry. */
  readonly id: string;
  /** Files with their checksums. */
  readonly files: readonly VerifiedFileEntry[];
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

/**
 * The folder of a shipped zoo entry: checks that `id` is one of `ids` (a clear `UNKNOWN_NAME`
 * listing them otherwise), then gives `directory` when set, else `models/<id>/` under `baseUrl`
 * when set, else under this package's folder.
 *
 * @param what - the kind of entry, for the message (`'model'`, `'autoencoder'`).
 * @example
 * ```ts
 * const dir = zooFolder(id, ZOO_MODEL_IDS, 'model', options);
 * ```
 * @internal
 */
export function zooFolder(id: string, ids: readonly string[], what: string, options: { directory?: string; baseUrl?: string | URL }): string {
  if (!ids.includes(id)) {
    throw new AdvxError('UNKNOWN_NAME', `unknown zoo ${what} '${id}'. Shipped ${what}s: ${ids.join(', ')}.`, { id });
  }
  if (options.directory !== undefined) return joinPath(options.directory);
  return joinPath(zooBase(options.baseUrl), 'models', id);
}

/**
 * The folder holding the zoo's `models/` and `data/`: `baseUrl` when given (a string or `URL`),
 * else this package's own folder.
 *
 * @throws AdvxError `INVALID_OPTION` when `baseUrl` is neither a non-empty string nor a `URL`.
 * @example
 * ```ts
 * zooBase('https://example.org/zoo/'); // 'https://example.org/zoo/'
 * ```
 * @internal
 */
export function zooBase(baseUrl: string | URL | undefined): string {
  if (baseUrl === undefined) return packageRoot();
  if (baseUrl instanceof URL) return baseUrl.href;
  if (typeof baseUrl !== 'string' || baseUrl === '') {
    throw new AdvxError(
      'INVALID_OPTION',
      `baseUrl must be a URL (or a non-empty string) of a folder serving this package's models/ and data/, got ${JSON.stringify(baseUrl)}.`,
    );
  }
  return baseUrl;
}

/**
 * Returns `name` when it is a plain file name (no folder separators, not `.` or `..`).
 *
 * @throws AdvxError `INVALID_MODEL` otherwise.
 * @example
 * ```ts
 * const name = checkFileName(dir, file.path);
 * ```
 * @internal
 */
export function checkFileName(dir: string, name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
    throw new AdvxError('INVALID_MODEL', `model folder ${dir}: invalid file name ${JSON.stringify(name)} (only plain file names are allowed).`);
  }
  return name;
}

/**
 * Reads and parses `<dir>/card.json` and checks that it carries `id` and a non-empty files list.
 *
 * @throws AdvxError `INVALID_MODEL` when the card is missing, unreadable or malformed.
 * @example
 * ```ts
 * const card = await readCardJson<ModelCard>('mnist-mlp', dir);
 * ```
 * @internal
 */
export async function readCardJson<C extends VerifiableCard>(id: string, dir: string): Promise<C> {
  const path = joinPath(dir, 'card.json');
  let card: C;
  try {
    card = JSON.parse(await readText(path)) as C;
  } catch (e) {
    throw new AdvxError('INVALID_MODEL', `cannot read the model card ${path}: ${(e as Error).message}. Re-install @advx/models-zoo.`, { id, path });
  }
  if (card === null || typeof card !== 'object' || card.id !== id || !Array.isArray(card.files) || card.files.length === 0) {
    throw new AdvxError('INVALID_MODEL', `the model card ${path} is malformed (expected id '${id}' and a non-empty files list). Re-install @advx/models-zoo.`, {
      id,
      path,
    });
  }
  return card;
}

/**
 * Reads every file listed in the card and checks its sha256; returns the verified bytes by name.
 *
 * @throws AdvxError `CHECKSUM_MISMATCH` naming the file, the expected and the actual hash;
 *   `INVALID_MODEL` for a file that cannot be read or a name that is not a plain file name.
 * @example
 * ```ts
 * const files = await readVerified(id, dir, card);
 * ```
 * @internal
 */
export async function readVerified(id: string, dir: string, card: VerifiableCard): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const file of card.files) {
    const name = checkFileName(dir, file.path);
    const path = joinPath(dir, name);
    let bytes: Uint8Array;
    try {
      bytes = await readBytes(path);
    } catch (e) {
      throw new AdvxError('INVALID_MODEL', `model '${id}': cannot read ${path} (${(e as Error).message}). Re-install @advx/models-zoo.`, { id, file: path });
    }
    const actual = await sha256(bytes);
    if (actual !== file.sha256) {
      throw new AdvxError(
        'CHECKSUM_MISMATCH',
        `model '${id}': file ${path} has sha256 ${actual}, but its model card expects ${file.sha256}. ` +
          'The file is corrupted or was modified: re-install @advx/models-zoo (or, for a model you retrained, ' +
          'regenerate its card with the training script).',
        { id, file: path, expected: file.sha256, actual },
      );
    }
    files.set(name, bytes);
  }
  return files;
}

/**
 * Builds a tfjs `LayersModel` (from memory) out of verified files: the topology file `jsonName`
 * and the weight files its manifest names, all of which must be among `files`.
 *
 * @param requires - the package that registers the model's custom layers (from the card), for the
 *   error when one is not registered.
 * @throws AdvxError `INVALID_MODEL` when `jsonName` is not listed, is not a tfjs layers model,
 *   names a weight file that the card does not list with a checksum, or uses a custom layer that no
 *   imported package registered.
 * @example
 * ```ts
 * const layers = await layersModelFromVerified(id, dir, files, 'model.json');
 * ```
 * @internal
 */
export async function layersModelFromVerified(
  id: string,
  dir: string,
  files: ReadonlyMap<string, Uint8Array>,
  jsonName: string,
  requires?: string,
): Promise<tfl.LayersModel> {
  const modelJsonBytes = files.get(jsonName);
  if (modelJsonBytes === undefined) {
    throw new AdvxError('INVALID_MODEL', `model '${id}': its card (${dir}/card.json) lists no ${jsonName}.`, { id });
  }
  const modelJson = JSON.parse(new TextDecoder().decode(modelJsonBytes)) as ModelJson;
  if (modelJson.modelTopology === undefined || !Array.isArray(modelJson.weightsManifest)) {
    throw new AdvxError('INVALID_MODEL', `model '${id}': ${dir}/${jsonName} is not a tfjs layers model (no modelTopology / weightsManifest).`, { id });
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const name = checkFileName(dir, p);
      const bytes = files.get(name);
      if (bytes === undefined) {
        throw new AdvxError(
          'INVALID_MODEL',
          `model '${id}': weight file ${name} (named in ${jsonName}) is not listed with a checksum in card.json, so it cannot be verified.`,
          { id, file: name },
        );
      }
      parts.push(bytes);
    }
  }
  const weightData = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    weightData.set(p, at);
    at += p.length;
  }
  // Deserializing builds the layers in order: a failure part-way (an unregistered custom layer) leaves
  // the variables of the layers before it, which are disposed here.
  const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData: weightData.buffer }));
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!variablesBefore.has(name)) v.dispose();
    const unknown = /Unknown layer: (\w+)/.exec((e as Error).message ?? '');
    if (unknown === null) throw e;
    throw new AdvxError(
      'INVALID_MODEL',
      `model '${id}' uses the custom layer ${unknown[1]}, which is not registered with tfjs-layers: ` +
        (requires !== undefined
          ? `\`import '${requires}'\` (it registers the layer) before loading it.`
          : 'import the package that defines it before loading.'),
      { id, layer: unknown[1], ...(requires !== undefined ? { requires } : {}) },
    );
  }
}
