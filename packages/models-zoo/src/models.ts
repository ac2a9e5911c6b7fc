/**
 * The model zoo: trained tfjs layers models shipped in `models/<id>/` (model.json, weights,
 * card.json, card.md), verified against the sha256 in their card before use.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import type { DatasetName } from './datasets.js';
import { AdvxError, fromLayersModel, type Model } from './internal/core.js';
import { joinPath, packageRoot, readBytes, readText, sha256Hex } from './node-fs.js';

/**
 * Ids of the models that ship with this package.
 *
 * @public
 */
export type ZooModelId = 'mnist-logreg' | 'mnist-mlp' | 'mnist-cnn' | 'mnist-cnn-at' | 'mnist-cnn-noise' | 'mnist-cnn-distilled';

/**
 * Every {@link ZooModelId}, in a stable order.
 *
 * @example
 * ```ts
 * for (const id of ZOO_MODEL_IDS) console.log(id);
 * ```
 * @public
 */
export const ZOO_MODEL_IDS: readonly ZooModelId[] = ['mnist-logreg', 'mnist-mlp', 'mnist-cnn', 'mnist-cnn-at', 'mnist-cnn-noise', 'mnist-cnn-distilled'];

/**
 * A file of a shipped model and its checksum.
 *
 * @public
 */
export interface ModelCardFile {
  /** File name inside the model folder. */
  readonly path: string;
  /** Size in bytes. */
  readonly bytes: number;
  /** Lower-case hex sha256. */
  readonly sha256: string;
}

/**
 * The machine a model was trained on.
 *
 * @public
 */
export interface TrainingMachine {
  /** CPU model (from `os.cpus()`). */
  readonly cpu: string;
  /** Logical cores visible to Node. */
  readonly cores: number;
  /** Total memory in GiB. */
  readonly memoryGiB: number;
  /** `process.platform`-`process.arch`. */
  readonly platform: string;
  /** Node version. */
  readonly node: string;
  /** tfjs-core version. */
  readonly tfjs: string;
  /** tfjs backend used for training. */
  readonly backend: string;
}

/**
 * FGSM robustness measured at training time (Goodfellow et al., 2015, section 5).
 *
 * @public
 */
export interface FgsmMetric {
  /** L∞ step size in [0, 1] pixel units. */
  readonly epsilon: number;
  /** Whether the adversarial images were clipped to [0, 1]. */
  readonly clipped: boolean;
  /** Error rate on the adversarial test set. */
  readonly errorRate: number;
  /** Mean softmax probability of the predicted class on misclassified adversarial images. */
  readonly meanConfidenceOnErrors: number;
  /** Number of test samples. */
  readonly samples: number;
}

/**
 * The model card of a shipped model (`models/<id>/card.json`; `card.md` says the same in prose).
 *
 * @public
 */
export interface ModelCard {
  /** Card format version. */
  readonly schemaVersion: 1;
  /** Model id. */
  readonly id: ZooModelId;
  /** Human title. */
  readonly title: string;
  /** What the model is and what it is for. */
  readonly description: string;
  /** Dataset it was trained on. */
  readonly dataset: DatasetName;
  /** Shape of one input sample. */
  readonly inputShape: readonly number[];
  /** Number of classes. */
  readonly numClasses: number;
  /** Valid input range. */
  readonly bounds: readonly [number, number];
  /** Expected input preprocessing. */
  readonly preprocessing: string;
  /** What the tfjs model outputs (`ZooModel.model` always gives logits). */
  readonly output: 'probabilities' | 'logits';
  /** Architecture. */
  readonly architecture: {
    /** One-line summary, e.g. `784 → 10 softmax`. */
    readonly summary: string;
    /** Layers, one line each. */
    readonly layers: readonly string[];
    /** Trainable parameters. */
    readonly parameters: number;
  };
  /** Training and test data. */
  readonly data: {
    /** Training data. */
    readonly train: string;
    /** Test data the accuracy was measured on. */
    readonly test: string;
    /** License of the data. */
    readonly license: string;
    /** Whom to credit for the data. */
    readonly credit: string;
  };
  /** How the model was trained. */
  readonly training: {
    /** The one command that reproduces the weights. */
    readonly command: string;
    /** Training script, relative to the package. */
    readonly script: string;
    /** Seed of initialisation and shuffling. */
    readonly seed: number;
    /** Epochs over the training set. */
    readonly epochs: number;
    /** Mini-batch size. */
    readonly batchSize: number;
    /** Optimizer and its settings. */
    readonly optimizer: string;
    /** Training loss. */
    readonly loss: string;
    /** Wall-clock training time in seconds (excluding data loading and evaluation). */
    readonly timeSeconds: number;
    /** ISO date of training. */
    readonly date: string;
    /** Machine used. */
    readonly machine: TrainingMachine;
  };
  /** Measured accuracies, as fractions in [0, 1]. */
  readonly metrics: {
    /** Clean accuracy on the full test set. */
    readonly cleanAccuracy: number;
    /** Samples of the full test set. */
    readonly cleanAccuracyTestCount: number;
    /** Clean accuracy on the evaluation set shipped in `data/` (the first test images). */
    readonly shippedEvalAccuracy: number;
    /** Samples of the shipped evaluation set. */
    readonly shippedEvalCount: number;
    /** FGSM results, where measured. */
    readonly fgsm?: readonly FgsmMetric[];
  };
  /** Licenses. */
  readonly license: {
    /** License of the weights. */
    readonly weights: string;
    /** License of the data. */
    readonly data: string;
  };
  /** Every file of the model (model.json and weights) with its sha256. */
  readonly files: readonly ModelCardFile[];
}

/**
 * A loaded zoo model.
 *
 * @public
 */
export interface ZooModel {
  /** Model id. */
  readonly id: ZooModelId;
  /** The tfjs model (outputs what `card.output` says). Dispose it with `layers.dispose()`. */
  readonly layers: tfl.LayersModel;
  /** Its model card. */
  readonly card: ModelCard;
  /** The advx {@link Model} (logits, bounds [0, 1]) for attacks, via `fromLayersModel`. */
  readonly model: Model;
}

/**
 * Options of {@link loadModel} and {@link readModelCard}.
 *
 * @public
 */
export interface LoadModelOptions {
  /**
   * Folder holding the model's card.json, model.json and weight files, instead of the one shipped
   * in this package (`models/<id>/`). For testing and custom locations.
   */
  directory?: string;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
}

function checkId(id: string): asserts id is ZooModelId {
  if (!(ZOO_MODEL_IDS as readonly string[]).includes(id)) {
    throw new AdvxError('UNKNOWN_NAME', `unknown zoo model '${id}'. Shipped models: ${ZOO_MODEL_IDS.join(', ')}.`, { id });
  }
}

function modelDir(id: ZooModelId, options: LoadModelOptions): string {
  return options.directory !== undefined ? joinPath(options.directory) : joinPath(packageRoot(), 'models', id);
}

function checkFileName(dir: string, name: unknown): string {
  if (typeof name !== 'string' || name === '' || name.includes('/') || name.includes('\\') || name === '.' || name === '..') {
    throw new AdvxError('INVALID_MODEL', `model folder ${dir}: invalid file name ${JSON.stringify(name)} (only plain file names are allowed).`);
  }
  return name;
}

/**
 * Reads the model card of a zoo model (no weights are read or verified).
 *
 * @param id - a {@link ZooModelId}.
 * @param options - `directory` to read from another folder.
 * @throws AdvxError `UNKNOWN_NAME` for an unknown id; `INVALID_MODEL` when the card is missing or malformed.
 *
 * @example
 * ```ts
 * const card = await readModelCard('mnist-mlp');
 * card.metrics.cleanAccuracy; // e.g. 0.98
 * ```
 * @public
 */
export async function readModelCard(id: ZooModelId, options: LoadModelOptions = {}): Promise<ModelCard> {
  checkId(id);
  const dir = modelDir(id, options);
  const path = joinPath(dir, 'card.json');
  let card: ModelCard;
  try {
    card = JSON.parse(await readText(path)) as ModelCard;
  } catch (e) {
    throw new AdvxError('INVALID_MODEL', `cannot read the model card ${path}: ${(e as Error).message}. Re-install @advx/models-zoo.`, { id, path });
  }
  if (card === null || typeof card !== 'object' || card.id !== id || !Array.isArray(card.files) || card.files.length === 0) {
    throw new AdvxError('INVALID_MODEL', `the model card ${path} is malformed (expected id '${id}' and a non-empty files list). Re-install @advx/models-zoo.`, { id, path });
  }
  return card;
}

/**
 * One entry of {@link listModels}.
 *
 * @public
 */
export interface ZooModelListing {
  /** Model id. */
  readonly id: ZooModelId;
  /** Its model card. */
  readonly card: ModelCard;
}

/**
 * Lists the shipped models with their cards.
 *
 * @example
 * ```ts
 * for (const { id, card } of await listModels()) {
 *   console.log(id, card.architecture.summary, card.metrics.cleanAccuracy);
 * }
 * ```
 * @public
 */
export async function listModels(): Promise<ZooModelListing[]> {
  return Promise.all(ZOO_MODEL_IDS.map(async (id) => ({ id, card: await readModelCard(id) })));
}

/**
 * Reads every file listed in the card and checks its sha256; returns the verified bytes by name.
 *
 * @throws AdvxError `CHECKSUM_MISMATCH` naming the file, the expected and the actual hash.
 */
async function readVerified(id: ZooModelId, dir: string, card: ModelCard): Promise<Map<string, Uint8Array>> {
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
    const actual = sha256Hex(bytes);
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
 * Loads a shipped model: reads its card, verifies the sha256 of model.json and every weight file
 * against the card, then builds the tfjs `LayersModel` (from memory) and its advx {@link Model}.
 *
 * @param id - a {@link ZooModelId}.
 * @param options - `directory`: load from another folder holding the same files (for testing and
 *   custom locations); the files are still verified against the card found there.
 * @returns the model; dispose its weights with `zoo.layers.dispose()`.
 * @throws AdvxError `CHECKSUM_MISMATCH` when a file does not match its card (the message names the
 *   file, the expected and the actual hash); `UNKNOWN_NAME` for an unknown id; `INVALID_MODEL`
 *   for a missing or malformed file.
 *
 * @example
 * ```ts
 * const zoo = await loadModel('mnist-mlp');
 * const { x, y } = await loadDataset('mnist', { count: 100 });
 * const logits = zoo.model.logits(x); // [100, 10]
 * tf.dispose([x, y, logits]);
 * zoo.layers.dispose();
 * ```
 * @public
 */
export async function loadModel(id: ZooModelId, options: LoadModelOptions = {}): Promise<ZooModel> {
  checkId(id);
  const dir = modelDir(id, options);
  const card = await readModelCard(id, options);
  const files = await readVerified(id, dir, card);

  const modelJsonBytes = files.get('model.json');
  if (modelJsonBytes === undefined) {
    throw new AdvxError('INVALID_MODEL', `model '${id}': its card (${dir}/card.json) lists no model.json.`, { id });
  }
  const modelJson = JSON.parse(new TextDecoder().decode(modelJsonBytes)) as ModelJson;
  if (modelJson.modelTopology === undefined || !Array.isArray(modelJson.weightsManifest)) {
    throw new AdvxError('INVALID_MODEL', `model '${id}': ${dir}/model.json is not a tfjs layers model (no modelTopology / weightsManifest).`, { id });
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      const name = checkFileName(dir, p);
      const bytes = files.get(name);
      if (bytes === undefined) {
        throw new AdvxError('INVALID_MODEL', `model '${id}': weight file ${name} (named in model.json) is not listed with a checksum in card.json, so it cannot be verified.`, { id, file: name });
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
  const layers = await tfl.loadLayersModel(
    tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs, weightData: weightData.buffer }),
  );
  let model: Model;
  try {
    model = fromLayersModel(layers, { bounds: [card.bounds[0], card.bounds[1]] });
  } catch (e) {
    layers.dispose();
    throw e;
  }
  return { id, layers, card, model };
}
