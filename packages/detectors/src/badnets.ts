import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, option, resolveOptions, Rng, type Bounds, type LabeledData, type OptionsInput, type OptionsResolved } from '@advx/core';

const DEFAULT_PATTERN: readonly (readonly number[])[] = Object.freeze([Object.freeze([1, 1, 1]), Object.freeze([1, 1, 1]), Object.freeze([1, 1, 1])]);

const isFraction = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;

const TRIGGER_OPTIONS = {
  pattern: option.custom<readonly (readonly number[])[]>(
    DEFAULT_PATTERN,
    "the pattern, one row per image row: each value is a fraction of the bounds' range (0 = low bound, 1 = high bound), written to every channel (3×3 square of 1)",
    {
      type: 'a non-empty rectangular array of rows of numbers in [0, 1], e.g. [[1, 1, 1], [1, 1, 1], [1, 1, 1]]',
      accepts: (v) =>
        Array.isArray(v) &&
        v.length > 0 &&
        Array.isArray(v[0]) &&
        (v[0] as unknown[]).length > 0 &&
        v.every((r) => Array.isArray(r) && r.length === (v[0] as unknown[]).length && r.every(isFraction)),
      json: true,
    },
  ),
  position: option.optional<readonly [number, number]>(
    "row and column of the pattern's top-left pixel",
    'the bottom-right corner with a 1-pixel margin, [H − h − 1, W − w − 1]',
    {
      type: '[row, column]',
      accepts: (v) => Array.isArray(v) && v.length === 2,
      json: true,
    },
  ),
};

const BOUNDS_OPTION = option.custom<Bounds>(Object.freeze([0, 1]) as Bounds, 'input bounds the pattern is scaled to', {
  type: '[low, high] with low < high',
  accepts: (b) => Array.isArray(b) && b.length === 2 && Number.isFinite(b[0]) && Number.isFinite(b[1]) && (b[0] as number) < (b[1] as number),
  json: true,
});

const STAMP_OPTIONS = { ...TRIGGER_OPTIONS, bounds: BOUNDS_OPTION };

const BADNETS_OPTIONS = {
  sourceClass: option.integer(undefined, 'class whose samples are stamped', { min: 0 }),
  targetClass: option.integer(undefined, 'class the stamped samples are relabelled to (≠ sourceClass)', { min: 0 }),
  fraction: option.number(0.1, "fraction of the source class's samples that are poisoned", { min: 0, max: 1, above: true }),
  ...TRIGGER_OPTIONS,
  bounds: BOUNDS_OPTION,
  seed: option.number(0, 'seed of the choice of poisoned samples'),
};

/**
 * Where and what the BadNets trigger is: `pattern` (a 3×3 square of 1), `position` (the bottom-right
 * corner with a 1-pixel margin).
 *
 * @public
 */
export type TriggerOptions = OptionsInput<typeof TRIGGER_OPTIONS>;

/**
 * Options of {@link badNets}: `sourceClass` and `targetClass` (required), `fraction` (0.1), `pattern`,
 * `position`, `bounds` (`[0, 1]`), `seed` (0).
 *
 * @public
 */
export type BadNetsOptions = OptionsInput<typeof BADNETS_OPTIONS>;

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

function resolveTrigger(shape: readonly number[], options: OptionsResolved<typeof TRIGGER_OPTIONS>): ResolvedTrigger {
  if (shape.length !== 4 && shape.length !== 3) {
    throw new AdvxError('INVALID_SHAPE', `BadNets needs images [n, H, W] or [n, H, W, C], got shape [${shape.join(', ')}].`);
  }
  const [height, width] = [shape[1] as number, shape[2] as number];
  const { pattern } = options;
  const h = pattern.length;
  const w = (pattern[0] as readonly number[]).length;
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
export function stampTrigger(x: tf.Tensor, options: OptionsInput<typeof STAMP_OPTIONS> = {}): tf.Tensor {
  if (!(x instanceof tf.Tensor)) throw new AdvxError('INVALID_SHAPE', 'stampTrigger: x must be a tf.Tensor of images.');
  const o = resolveOptions('BadNets', STAMP_OPTIONS, options);
  const t = resolveTrigger(x.shape, o);
  const { bounds } = o;
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
  const o = resolveOptions('BadNets', BADNETS_OPTIONS, options, (r) => {
    if (r.sourceClass === r.targetClass) {
      throw new AdvxError('INVALID_OPTION', `BadNets: sourceClass and targetClass are both ${r.sourceClass}; the backdoor must change the label.`);
    }
  });
  const trigger = resolveTrigger(data.x.shape, o);
  const { bounds, sourceClass: source, targetClass: target, fraction, seed } = o;
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
