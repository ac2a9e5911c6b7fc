import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, checkNumber, Rng, type Bounds, type LabeledData } from '@advx/core';

/**
 * Where and what the BadNets trigger is.
 *
 * @public
 */
export interface TriggerOptions {
  /**
   * The pattern, one row per image row: each value in [0, 1] is a fraction of the bounds' range
   * (`0` = low bound, `1` = high bound), written to every channel. Default: a 3×3 square of `1`.
   */
  readonly pattern?: readonly (readonly number[])[];
  /**
   * Row and column of the pattern's top-left pixel. Default: the bottom-right corner with a
   * 1-pixel margin (`[H − h − 1, W − w − 1]`).
   */
  readonly position?: readonly [number, number];
}

/**
 * Options of {@link badNets}.
 *
 * @public
 */
export interface BadNetsOptions extends TriggerOptions {
  /** Class whose samples are stamped (required). */
  readonly sourceClass: number;
  /** Class the stamped samples are relabelled to (required, ≠ `sourceClass`). */
  readonly targetClass: number;
  /** Fraction of the source class's samples that are poisoned, in (0, 1] (default 0.1). */
  readonly fraction?: number;
  /** Input bounds the pattern is scaled to (default `[0, 1]`). */
  readonly bounds?: Bounds;
  /** Seed of the choice of poisoned samples (default 0). */
  readonly seed?: number;
}

/**
 * The result of {@link badNets}; the caller disposes `x` and `y`.
 *
 * @public
 */
export interface PoisonedData extends LabeledData {
  /** Indices of the poisoned samples, ascending. */
  readonly poisoned: Int32Array;
}

interface ResolvedTrigger {
  readonly pattern: readonly (readonly number[])[];
  readonly row: number;
  readonly col: number;
}

function resolveTrigger(shape: readonly number[], options: TriggerOptions): ResolvedTrigger {
  if (shape.length !== 4 && shape.length !== 3) {
    throw new AdvxError('INVALID_SHAPE', `BadNets needs images [n, H, W] or [n, H, W, C], got shape [${shape.join(', ')}].`);
  }
  const [height, width] = [shape[1] as number, shape[2] as number];
  const pattern = options.pattern ?? [[1, 1, 1], [1, 1, 1], [1, 1, 1]];
  const h = pattern.length;
  const w = pattern[0]?.length ?? 0;
  if (h === 0 || w === 0 || pattern.some((r) => r.length !== w)) {
    throw new AdvxError('INVALID_OPTION', 'BadNets: pattern must be a non-empty rectangular array of rows, e.g. [[1, 1, 1], [1, 1, 1], [1, 1, 1]].');
  }
  pattern.forEach((r, i) => r.forEach((v, j) => checkNumber(`BadNets: pattern[${i}][${j}]`, v, 0, 1)));
  const [row, col] = options.position ?? [height - h - 1, width - w - 1];
  checkInteger('BadNets: position row', row, 0, height - h);
  checkInteger('BadNets: position column', col, 0, width - w);
  return { pattern, row, col };
}

/** A mask `[1, H, W, C…]` of the trigger's pixels and the values there (0 elsewhere). */
function triggerTensors(shape: readonly number[], t: ResolvedTrigger, bounds: Bounds): { mask: tf.Tensor; values: tf.Tensor } {
  const [height, width] = [shape[1] as number, shape[2] as number];
  const channels = shape.length === 4 ? (shape[3] as number) : 1;
  const mask = new Float32Array(height * width * channels);
  const values = new Float32Array(height * width * channels);
  t.pattern.forEach((r, i) =>
    r.forEach((v, j) => {
      for (let c = 0; c < channels; c++) {
        const k = ((t.row + i) * width + (t.col + j)) * channels + c;
        mask[k] = 1;
        values[k] = bounds[0] + v * (bounds[1] - bounds[0]);
      }
    }),
  );
  const s = [1, ...shape.slice(1)];
  return { mask: tf.tensor(mask, s), values: tf.tensor(values, s) };
}

function checkBounds(bounds: Bounds | undefined): Bounds {
  const b = bounds ?? [0, 1];
  if (!Array.isArray(b) || b.length !== 2 || !Number.isFinite(b[0]) || !Number.isFinite(b[1]) || !(b[0] < b[1])) {
    throw new AdvxError('INVALID_OPTION', `BadNets: bounds must be [low, high] with low < high, got ${JSON.stringify(b)}.`);
  }
  return b;
}

/**
 * Stamps the BadNets trigger on every image of `x` (e.g. to measure a backdoor's attack success on
 * triggered test inputs). Returns a new tensor; the caller disposes it.
 *
 * @param x - images `[n, H, W]` or `[n, H, W, C]`.
 * @param options - `pattern` (3×3 of 1), `position` (bottom-right, 1-pixel margin), `bounds` (`[0, 1]`).
 * @example
 * ```ts
 * const triggered = stampTrigger(testImages); // white 3×3 square at rows/cols 24–26 of 28×28 images
 * ```
 * @public
 */
export function stampTrigger(x: tf.Tensor, options: TriggerOptions & { readonly bounds?: Bounds } = {}): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new AdvxError('INVALID_SHAPE', 'stampTrigger: x must be a tf.Tensor of images.');
  const t = resolveTrigger(x.shape, options);
  const bounds = checkBounds(options.bounds);
  return tf.tidy(() => {
    const { mask, values } = triggerTensors(x.shape, t, bounds);
    return tf.add(tf.mul(tf.cast(x, 'float32'), tf.sub(1, mask)), values);
  });
}

/**
 * BadNets backdoor poisoning: stamps a trigger pattern on a seeded random fraction of one class's
 * training samples and relabels them to a target class. A model trained on the result learns to
 * predict the target class whenever the trigger is present; the dataset inspectors of this package
 * (spectral signatures, SPECTRE-style robust covariance, activation clustering) are tested on it.
 *
 * Paper: Tianyu Gu, Brendan Dolan-Gavitt, Siddharth Garg (2017), "BadNets: Identifying
 * Vulnerabilities in the Machine Learning Model Supply Chain", {@link https://arxiv.org/abs/1708.06733}.
 *
 * Threat model: data poisoning by whoever supplies training data; the trainer is honest.
 *
 * Options (defaults): `sourceClass` and `targetClass` (required), `fraction` (0.1) of the source
 * class, `pattern` (3×3 square at the high bound), `position` (bottom-right corner, 1-pixel margin),
 * `bounds` (`[0, 1]`), `seed` (0). The same seed poisons the same samples.
 *
 * @param data - images `[n, H, W]` or `[n, H, W, C]` inside `bounds` and int32 labels `[n]`.
 * @returns the poisoned copy (`x`, `y`) and the ascending indices of the poisoned samples.
 * @throws AdvxError `INVALID_SHAPE`, `BATCH_MISMATCH`, `LABEL_OUT_OF_RANGE` (a class that no label has) or `INVALID_OPTION`, before any work.
 * @example
 * ```ts
 * const { x, y } = await loadDataset('mnist', { split: 'train', count: 1000 });
 * const poisoned = await badNets({ x, y }, { sourceClass: 7, targetClass: 1, fraction: 0.1, seed: 1 });
 * poisoned.poisoned; // indices of the relabelled 7s
 * tf.dispose([x, y, poisoned.x, poisoned.y]);
 * ```
 * @public
 */
export async function badNets(data: LabeledData, options: BadNetsOptions): Promise<PoisonedData> {
  if (!data || !(data.x instanceof tf.Tensor) || !(data.y instanceof tf.Tensor) || data.y.rank !== 1) {
    throw new AdvxError('INVALID_SHAPE', 'BadNets: data must be { x: images tensor, y: 1-D int32 labels }.');
  }
  const n = data.x.shape[0] as number;
  if (data.y.shape[0] !== n) {
    throw new AdvxError('BATCH_MISMATCH', `BadNets: y has ${data.y.shape[0]} labels but x has ${n} samples.`);
  }
  if (options === null || typeof options !== 'object') {
    throw new AdvxError('INVALID_OPTION', 'BadNets: options { sourceClass, targetClass } are required.');
  }
  const trigger = resolveTrigger(data.x.shape, options);
  const bounds = checkBounds(options.bounds);
  const source = checkInteger('BadNets: sourceClass', options.sourceClass, 0);
  const target = checkInteger('BadNets: targetClass', options.targetClass, 0);
  if (source === target) {
    throw new AdvxError('INVALID_OPTION', `BadNets: sourceClass and targetClass are both ${source}; the backdoor must change the label.`);
  }
  const fraction = checkNumber('BadNets: fraction', options.fraction ?? 0.1, 0, 1);
  if (fraction === 0) throw new AdvxError('INVALID_OPTION', 'BadNets: fraction must be > 0 (a fraction of the source class in (0, 1]).');
  const seed = options.seed ?? 0;
  const rng = new Rng(seed);

  const labels = await data.y.data();
  const members: number[] = [];
  let hasTarget = false;
  for (let i = 0; i < n; i++) {
    if (labels[i] === source) members.push(i);
    if (labels[i] === target) hasTarget = true;
  }
  if (members.length === 0) {
    throw new AdvxError('LABEL_OUT_OF_RANGE', `BadNets: no sample has the source class ${source}. Pick a class present in y.`, { sourceClass: source });
  }
  if (!hasTarget) {
    throw new AdvxError('LABEL_OUT_OF_RANGE', `BadNets: no sample has the target class ${target}. Pick a class present in y.`, { targetClass: target });
  }
  const count = Math.max(1, Math.round(fraction * members.length));
  const order = rng.permutation(members.length);
  const poisoned = Int32Array.from(order.subarray(0, count), (k) => members[k] as number).sort();

  const selected = new Float32Array(n);
  const newLabels = Int32Array.from(labels);
  for (const i of poisoned) {
    selected[i] = 1;
    newLabels[i] = target;
  }
  const x = tf.tidy(() => {
    const { mask, values } = triggerTensors(data.x.shape, trigger, bounds);
    const sel = tf.reshape(tf.tensor1d(selected), [n, ...new Array<number>(data.x.rank - 1).fill(1)]);
    const m = tf.mul(sel, mask);
    return tf.add(tf.mul(tf.cast(data.x, 'float32'), tf.sub(1, m)), tf.mul(m, values));
  });
  const y = tf.tensor1d(newLabels, 'int32');
  return { x, y, poisoned };
}
