/**
 * The model zoo: trained tfjs layers models shipped in `models/<id>/` (model.json, weights,
 * card.json, card.md), verified against the sha256 in their card before use.
 *
 * @packageDocumentation
 */
import type * as tfl from '@tensorflow/tfjs-layers';

import type { DatasetName } from './datasets.js';
import { fromLayersModel, type Model } from './internal/core.js';
import { layersModelFromVerified, readCardJson, readVerified, zooFolder } from './internal/verified-files.js';

/**
 * Ids of the models that ship with this package.
 *
 * @public
 */
export type ZooModelId =
  | 'mnist-logreg'
  | 'mnist-mlp'
  | 'mnist-cnn'
  | 'mnist-cnn-at'
  | 'mnist-cnn-blrelu'
  | 'mnist-cnn-noise'
  | 'mnist-cnn-distilled'
  | 'fashion-cnn'
  | 'fashion-cnn-at';

/**
 * Every {@link ZooModelId}, in a stable order.
 *
 * @example
 * ```ts
 * for (const id of ZOO_MODEL_IDS) console.log(id);
 * ```
 * @public
 */
export const ZOO_MODEL_IDS: readonly ZooModelId[] = [
  'mnist-logreg',
  'mnist-mlp',
  'mnist-cnn',
  'mnist-cnn-at',
  'mnist-cnn-blrelu',
  'mnist-cnn-noise',
  'mnist-cnn-distilled',
  'fashion-cnn',
  'fashion-cnn-at',
];

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
  /** XNNPACK threads of the wasm backend, where the card records them (absent: 1). */
  readonly threads?: number;
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
  /**
   * Backend the entry was measured on (e.g. `'wasm, 2 threads'`), when it was re-measured after
   * training (`npm run measure-fgsm -w @advx/models-zoo`); absent: the training backend.
   */
  readonly backend?: string;
}

/**
 * PGD robustness (Madry et al., 2018: 40 steps of ε/30, random start) on the full test set, measured
 * at the end of training (`train.mjs`) or for a shipped model by `npm run measure-pgd -w @advx/models-zoo`.
 *
 * @public
 */
export interface PgdMetric {
  /** L∞ radius in [0, 1] pixel units (MNIST 0.3, Fashion-MNIST 0.1). */
  readonly epsilon: number;
  /** Gradient steps. */
  readonly steps: number;
  /** Step size in pixel units. */
  readonly stepSize: number;
  /** Whether the attack starts from a uniform random point in the ball. */
  readonly randomStart: boolean;
  /** Accuracy on the adversarial images. */
  readonly robustAccuracy: number;
  /** Number of samples. */
  readonly samples: number;
  /** Which images: `'full test set'` (10,000), or the first test images (`'first N test images'`). */
  readonly set: string;
  /** Seconds the measurement took. */
  readonly timeSeconds?: number;
  /** Backend and thread count it ran on, e.g. `'wasm, 2 threads'`. */
  readonly backend?: string;
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
    /** What a larger training budget would buy, where the card says. */
    readonly largerBudget?: string;
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
    /** PGD-40 result on the full test set (every classifier). */
    readonly pgd?: PgdMetric;
  };
  /**
   * The package to import before {@link loadModel} when the model uses custom layers that it
   * registers with tfjs-layers (`mnist-cnn-blrelu`: `'@advx/defenses'`, for `BoundedLeakyReLU`).
   */
  readonly requires?: string;
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
  /**
   * URL of a folder serving a copy of this package's `models/` (and `data/`) folders, which
   * `models/<id>/` is read from: what a browser app bundled with esbuild, Vite or webpack passes
   * (e.g. `'/zoo/'` after copying `node_modules/@advx/models-zoo/models` to `public/zoo/models`).
   * Default: the package's own folder (in a browser, `new URL('..', import.meta.url)` of its
   * module, right when the package is served unbundled). Node also reads `http(s):` and `file:`
   * URLs. The files are verified against their card's sha256 wherever they come from.
   */
  baseUrl?: string | URL;
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
  const dir = zooFolder(id, ZOO_MODEL_IDS, 'model', options);
  return readCardJson<ModelCard>(id, dir);
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
 * @param options - `baseUrl` to read the cards from a served copy of the package (see {@link LoadModelOptions}).
 * @example
 * ```ts
 * for (const { id, card } of await listModels()) {
 *   console.log(id, card.architecture.summary, card.metrics.cleanAccuracy);
 * }
 * ```
 * @public
 */
export async function listModels(options: Pick<LoadModelOptions, 'baseUrl'> = {}): Promise<ZooModelListing[]> {
  return Promise.all(ZOO_MODEL_IDS.map(async (id) => ({ id, card: await readModelCard(id, options) })));
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
  const dir = zooFolder(id, ZOO_MODEL_IDS, 'model', options);
  const card = await readModelCard(id, options);
  const files = await readVerified(id, dir, card);

  const layers = await layersModelFromVerified(id, dir, files, 'model.json', card.requires);
  let model: Model;
  try {
    model = fromLayersModel(layers, { bounds: [card.bounds[0], card.bounds[1]] });
  } catch (e) {
    layers.dispose();
    throw e;
  }
  return { id, layers, card, model };
}
