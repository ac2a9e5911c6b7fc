/**
 * The autoencoder zoo: trained encoder–decoder pairs shipped in `models/<id>/` (one tfjs layers
 * model per part, card.json, card.md), verified against the sha256 in their card before use.
 *
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

import type { DatasetName } from './datasets.js';
import { AdvxError } from './internal/core.js';
import { layersModelFromVerified, readCardJson, readVerified, zooFolder } from './internal/verified-files.js';
import type { ModelCardFile, TrainingMachine } from './models.js';
import { joinPath } from '#platform';

/**
 * Ids of the autoencoders that ship with this package.
 *
 * @public
 */
export type ZooAutoencoderId = 'mnist-autoencoder';

/**
 * Every {@link ZooAutoencoderId}, in a stable order.
 *
 * @example
 * ```ts
 * for (const id of ZOO_AUTOENCODER_IDS) console.log(id);
 * ```
 * @public
 */
export const ZOO_AUTOENCODER_IDS: readonly ZooAutoencoderId[] = ['mnist-autoencoder'];

/**
 * The model card of a shipped autoencoder (`models/<id>/card.json`; `card.md` says the same in prose).
 *
 * @public
 */
export interface AutoencoderCard {
  /** Card format version. */
  readonly schemaVersion: 1;
  /** Autoencoder id. */
  readonly id: ZooAutoencoderId;
  /** Human title. */
  readonly title: string;
  /** What the model is and what it is for. */
  readonly description: string;
  /** Dataset it was trained on. */
  readonly dataset: DatasetName;
  /** Shape of one input sample (and of one reconstruction). */
  readonly inputShape: readonly number[];
  /** Length of the latent code. */
  readonly latentDim: number;
  /** Valid input range (reconstructions lie in it too). */
  readonly bounds: readonly [number, number];
  /** Expected input preprocessing. */
  readonly preprocessing: string;
  /** Architecture. */
  readonly architecture: {
    /** One-line summary, e.g. `784 → 256 → 32 → 256 → 784`. */
    readonly summary: string;
    /** Encoder layers, one line each. */
    readonly encoder: readonly string[];
    /** Decoder layers, one line each. */
    readonly decoder: readonly string[];
    /** Trainable parameters of encoder and decoder together. */
    readonly parameters: number;
  };
  /** The file of each part (a tfjs layers model.json; its weight file is named in its manifest). */
  readonly parts: {
    /** Encoder topology file. */
    readonly encoder: string;
    /** Decoder topology file. */
    readonly decoder: string;
  };
  /** Training and test data. */
  readonly data: {
    /** Training data. */
    readonly train: string;
    /** Test data the metrics were measured on. */
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
    /** Epochs over the training images used. */
    readonly epochs: number;
    /** Training images used. */
    readonly trainCount: number;
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
  /** Measured reconstruction errors (mean over samples and pixels of `(decode(encode(x)) − x)²`). */
  readonly metrics: {
    /** Reconstruction MSE on the full test set. */
    readonly reconstructionMse: number;
    /** Samples of the full test set. */
    readonly reconstructionMseTestCount: number;
    /** Reconstruction MSE on the evaluation set shipped in `data/` (the first test images). */
    readonly shippedReconstructionMse: number;
    /** Samples of the shipped evaluation set. */
    readonly shippedEvalCount: number;
  };
  /** Licenses. */
  readonly license: {
    /** License of the weights. */
    readonly weights: string;
    /** License of the data. */
    readonly data: string;
  };
  /** Every file of the model (both parts' model.json and weights) with its sha256. */
  readonly files: readonly ModelCardFile[];
}

/**
 * The encoder–decoder view of a zoo autoencoder: pure tfjs functions, differentiable. It matches
 * the `EncoderDecoder` interface of `@advx/attacks` (`latentAttack`) structurally.
 *
 * @public
 */
export interface ZooEncoderDecoder {
  /** Shape of one input, without the batch axis (`[28, 28, 1]`). */
  readonly inputShape: readonly number[];
  /** Valid input range (`[0, 1]`). */
  readonly bounds: readonly [number, number];
  /** Latent codes `[n, latentDim]` of a batch `[n, ...inputShape]`. */
  encode(x: tf.Tensor): tf.Tensor2D;
  /** Reconstructions `[n, ...inputShape]` of latent codes `[n, latentDim]`. */
  decode(z: tf.Tensor2D): tf.Tensor;
}

/**
 * A loaded zoo autoencoder. Release its weights with `dispose()`.
 *
 * @public
 */
export interface ZooAutoencoder {
  /** Autoencoder id. */
  readonly id: ZooAutoencoderId;
  /** Its model card. */
  readonly card: AutoencoderCard;
  /** The encoder, `[n, ...inputShape] → [n, latentDim]`. */
  readonly encoder: tfl.LayersModel;
  /** The decoder, `[n, latentDim] → [n, ...inputShape]`. */
  readonly decoder: tfl.LayersModel;
  /** Encoder and decoder as functions, for `latentAttack` of `@advx/attacks`. */
  readonly autoencoder: ZooEncoderDecoder;
  /** Disposes the weights of both parts (idempotent). */
  dispose(): void;
}

/**
 * Options of {@link loadAutoencoder} and {@link readAutoencoderCard}.
 *
 * @public
 */
export interface LoadAutoencoderOptions {
  /**
   * Folder holding the card.json and the files it lists, instead of the one shipped in this
   * package (`models/<id>/`). For testing and custom locations.
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
 * Reads the model card of a zoo autoencoder (no weights are read or verified).
 *
 * @param id - a {@link ZooAutoencoderId}.
 * @param options - `directory` to read from another folder.
 * @throws AdvxError `UNKNOWN_NAME` for an unknown id; `INVALID_MODEL` when the card is missing or malformed.
 *
 * @example
 * ```ts
 * const card = await readAutoencoderCard('mnist-autoencoder');
 * card.metrics.reconstructionMse; // e.g. 0.01
 * ```
 * @public
 */
export async function readAutoencoderCard(id: ZooAutoencoderId, options: LoadAutoencoderOptions = {}): Promise<AutoencoderCard> {
  const dir = zooFolder(id, ZOO_AUTOENCODER_IDS, 'autoencoder', options);
  const card = await readCardJson<AutoencoderCard>(id, dir);
  const parts = card.parts as AutoencoderCard['parts'] | undefined;
  if (
    parts === undefined ||
    typeof parts.encoder !== 'string' ||
    typeof parts.decoder !== 'string' ||
    !Array.isArray(card.inputShape) ||
    !Array.isArray(card.bounds)
  ) {
    throw new AdvxError(
      'INVALID_MODEL',
      `the model card ${joinPath(dir, 'card.json')} is malformed (expected parts.encoder, parts.decoder, inputShape and bounds). Re-install @advx/models-zoo.`,
      { id },
    );
  }
  return card;
}

/**
 * Loads a shipped autoencoder: reads its card, verifies the sha256 of every file (both parts'
 * model.json and weights) against the card, then builds the encoder and decoder `LayersModel`s
 * (from memory) and the encoder–decoder functions for `latentAttack` of `@advx/attacks`.
 *
 * `autoencoder.encode` and `autoencoder.decode` are pure, differentiable tfjs functions
 * (`LayersModel.apply`); the caller disposes what they return.
 *
 * @param id - a {@link ZooAutoencoderId}.
 * @param options - `directory`: load from another folder holding the same files (for testing and
 *   custom locations); the files are still verified against the card found there.
 * @returns the autoencoder; release its weights with `dispose()`.
 * @throws AdvxError `CHECKSUM_MISMATCH` when a file does not match its card (the message names the
 *   file, the expected and the actual hash); `UNKNOWN_NAME` for an unknown id; `INVALID_MODEL`
 *   for a missing or malformed file.
 *
 * @example
 * ```ts
 * import { latentAttack } from '@advx/attacks';
 *
 * const ae = await loadAutoencoder('mnist-autoencoder');
 * const { x } = await loadDataset('mnist', { count: 2 });
 * const [source, target] = tf.split(x, 2);
 * const r = await latentAttack(ae.autoencoder, source, target, { epsilon: 3, steps: 200 });
 * r.reconstructionToTarget; // MSE of decode(encode(source + δ)) to the target image
 * r.dispose();
 * tf.dispose([x, source, target]);
 * ae.dispose();
 * ```
 * @public
 */
export async function loadAutoencoder(id: ZooAutoencoderId, options: LoadAutoencoderOptions = {}): Promise<ZooAutoencoder> {
  const dir = zooFolder(id, ZOO_AUTOENCODER_IDS, 'autoencoder', options);
  const card = await readAutoencoderCard(id, options);
  const files = await readVerified(id, dir, card);
  const encoder = await layersModelFromVerified(id, dir, files, card.parts.encoder);
  let decoder: tfl.LayersModel;
  try {
    decoder = await layersModelFromVerified(id, dir, files, card.parts.decoder);
  } catch (e) {
    encoder.dispose();
    throw e;
  }
  const inputShape = Object.freeze([...card.inputShape]);
  const bounds = Object.freeze([card.bounds[0], card.bounds[1]]) as readonly [number, number];
  const encodedShape = encoder.outputs[0]?.shape;
  const decodedShape = decoder.outputs[0]?.shape;
  if (
    encodedShape?.length !== 2 ||
    encodedShape[1] !== card.latentDim ||
    decoder.inputs[0]?.shape[1] !== card.latentDim ||
    decodedShape?.length !== inputShape.length + 1 ||
    inputShape.some((d, i) => decodedShape[i + 1] !== d)
  ) {
    encoder.dispose();
    decoder.dispose();
    throw new AdvxError(
      'INVALID_MODEL',
      `autoencoder '${id}': the encoder (output ${JSON.stringify(encodedShape)}) and decoder (output ${JSON.stringify(decodedShape)}) do not match the card's latentDim ${card.latentDim} and inputShape [${inputShape.join(', ')}].`,
      { id },
    );
  }
  const autoencoder: ZooEncoderDecoder = {
    inputShape,
    bounds,
    encode: (x) => encoder.apply(x) as tf.Tensor2D,
    decode: (z) => decoder.apply(z) as tf.Tensor,
  };
  let disposed = false;
  return {
    id,
    card,
    encoder,
    decoder,
    autoencoder,
    dispose: () => {
      if (disposed) return;
      disposed = true;
      encoder.dispose();
      decoder.dispose();
    },
  };
}
