import type * as tf from '@tensorflow/tfjs-core';

/**
 * How {@link openDataset} fits data to a model and which samples it takes.
 *
 * @public
 */
export interface OpenDatasetOptions {
  /** What the model takes per sample, `[height, width, channels]` (channels 1 or 3). */
  readonly inputShape: readonly [number, number, number];
  /** The model's input bounds: pixel values 0..255 are mapped linearly onto `[lo, hi]`. */
  readonly bounds: readonly [number, number];
  /** Number of classes of the model: every label must be below it. */
  readonly numClasses: number;
  /**
   * The model's class names in output order. When every class folder (or every label name of a list)
   * is one of them, labels are taken by name; otherwise by position.
   */
  readonly modelClassNames?: readonly string[];
  /** Take only this many samples (default: all). */
  readonly n?: number;
  /**
   * Which `n` samples: `'first'` (default, the first `n` in the source's order) or `'stratified'`
   * (round-robin over the classes in class-index order, each class's samples in order).
   */
  readonly sample?: 'first' | 'stratified';
  /**
   * Skip and count unreadable image files instead of failing (default `false`). With it every image
   * that may be picked is also decoded once when the data opens (one file at a time, in pick order,
   * until `n` are good), and files whose header is fine but whose pixel data is damaged are skipped
   * too, before the sample and its indices are fixed; without it such a file fails the chunk that
   * decodes it, naming the file.
   */
  readonly skipBad?: boolean;
  /** Resize samples of another height × width to the model's (bilinear, `alignCorners: false`); default `false`: a mismatch is an error. */
  readonly resize?: boolean;
  /**
   * Convert grey samples for a colour model (the channel is repeated) and colour samples for a grey
   * model (ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B); default `false`: a mismatch is an error.
   */
  readonly convertChannels?: boolean;
}

/**
 * A file left out by `skipBad`, with the reason.
 *
 * @public
 */
export interface SkippedFile {
  /** The file, relative to the data folder (or as listed). */
  readonly file: string;
  /** Why it could not be read. */
  readonly reason: string;
}

/**
 * A chunk of samples read from a {@link DataSource}; the caller disposes both tensors.
 *
 * @public
 */
export interface DataChunk {
  /** Inputs `[end − start, h, w, c]`, float32, inside the bounds. */
  readonly x: tf.Tensor4D;
  /** Class labels, int32 `[end − start]`. */
  readonly labels: tf.Tensor1D;
}

/**
 * A labelled dataset opened by {@link openDataset}: its samples are decoded only when a chunk is read,
 * so memory stays bounded by the chunk size. Accepted as `data` by `evaluate()`.
 *
 * @public
 */
export interface DataSource {
  /** Name for results and reports (folder or file name, or the zoo dataset's name). */
  readonly name: string;
  /** Number of samples. */
  readonly count: number;
  /** All labels in sample order (class indices of the model). */
  readonly labels: Int32Array;
  /** Class names by class index (folder names, list label names, or the zoo's), when known. */
  readonly classNames: readonly string[] | undefined;
  /** Files left out by `skipBad`. */
  readonly skipped: readonly SkippedFile[];
  /** Identifies the data (files, sizes, header and tail bytes, conversion), for resumable runs. */
  readonly fingerprint: string;
  /** What was read and how, as JSON (format, source, sampling, class mapping, conversion, skipped count). */
  readonly description: Readonly<Record<string, unknown>>;
  /** Reads samples `[start, end)` (0 ≤ start < end ≤ count). */
  read(start: number, end: number): Promise<DataChunk>;
  /** Releases what the source holds (the tensors of an in-memory zoo dataset; nothing for files). */
  dispose(): void;
}
