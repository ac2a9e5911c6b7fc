/**
 * Shared pieces of the model adapters: validation of the common options (bounds, normalization,
 * input shape, number of classes, output kind), input normalization inside the model, and
 * {@link makeModel}, which builds the {@link Model} object every adapter returns.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '../errors.js';
import type { Bounds, Model } from '../model.js';
import { warn } from '../warnings.js';

/**
 * Input normalization applied inside the model: `(x - mean) / std` over the last (channel) axis.
 * Each of `mean` and `std` is one number for every channel, or an array with one entry per channel
 * (its length equals the last entry of the model's `inputShape`). `std` must be positive.
 *
 * The model then accepts raw inputs in `bounds` (e.g. pixels in `[0, 1]`), and attacks measure
 * perturbations in that raw space, not in the normalized one.
 *
 * @example
 * ```ts
 * // ImageNet statistics for inputs of shape [224, 224, 3] in [0, 1]
 * const normalize: NormalizeOptions = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
 * ```
 * @public
 */
export interface NormalizeOptions {
  /** Mean subtracted from each channel: one number, or one per channel. */
  readonly mean: number | readonly number[];
  /** Standard deviation each channel is divided by (positive): one number, or one per channel. */
  readonly std: number | readonly number[];
}

/**
 * What an adapted model natively outputs: class scores before softmax (`logits`) or softmax
 * probabilities (`probabilities`, converted to log-probabilities with a warning).
 *
 * @example
 * ```ts
 * const output: ModelOutput = 'logits';
 * ```
 * @public
 */
export type ModelOutput = 'logits' | 'probabilities';

/**
 * Probabilities are clipped to `[PROBABILITY_FLOOR, 1]` before `log`, so `log(0)` never occurs.
 *
 * @example
 * ```ts
 * Math.log(PROBABILITY_FLOOR); // -27.63...: the smallest log-probability an adapter returns
 * ```
 * @internal
 */
export const PROBABILITY_FLOOR = 1e-12;

/**
 * Formats a shape for messages; unknown dimensions (`null`) print as `?`.
 *
 * @example
 * ```ts
 * formatShape(['n', 28, 28, 1]); // '[n, 28, 28, 1]'
 * formatShape([null, 3]);        // '[?, 3]'
 * ```
 * @internal
 */
export function formatShape(shape: readonly (number | string | null | undefined)[]): string {
  return `[${shape.map((d) => (d === null || d === undefined ? '?' : String(d))).join(', ')}]`;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => describe(v)).join(', ')}]`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/**
 * Validates `bounds`: an array of two finite numbers `[low, high]` with `low < high`.
 *
 * @param bounds - the value passed by the caller.
 * @param where - the calling function, for the error message (e.g. `fromLayersModel`).
 * @returns a frozen copy of the bounds.
 * @throws AdvxError `INVALID_OPTION` otherwise.
 *
 * @example
 * ```ts
 * validateBounds([0, 1], 'fromFunction'); // [0, 1]
 * validateBounds([1, 0], 'fromFunction'); // throws INVALID_OPTION
 * ```
 * @internal
 */
export function validateBounds(bounds: unknown, where: string): Bounds {
  if (
    !Array.isArray(bounds) ||
    bounds.length !== 2 ||
    typeof bounds[0] !== 'number' ||
    typeof bounds[1] !== 'number' ||
    !Number.isFinite(bounds[0]) ||
    !Number.isFinite(bounds[1])
  ) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${where}: bounds must be two finite numbers [low, high], got ${describe(bounds)}. ` +
        'Pass the valid input range of the model, e.g. bounds: [0, 1] for pixels scaled to [0, 1] or [0, 255].',
      { option: 'bounds', got: bounds },
    );
  }
  const low: number = bounds[0];
  const high: number = bounds[1];
  if (!(low < high)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${where}: bounds must satisfy low < high, got [${low}, ${high}]. Pass [low, high] in increasing order, e.g. [0, 1].`,
      { option: 'bounds', got: [low, high] },
    );
  }
  return Object.freeze([low, high] as const);
}

/**
 * Validates the shape of one sample: a non-empty array of positive integers.
 *
 * @returns a frozen copy.
 * @throws AdvxError `INVALID_OPTION` otherwise.
 *
 * @example
 * ```ts
 * validateInputShape([28, 28, 1], 'fromFunction'); // [28, 28, 1]
 * ```
 * @internal
 */
export function validateInputShape(inputShape: unknown, where: string): readonly number[] {
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${where}: inputShape must be a non-empty array of positive integers (the shape of one sample, ` +
        `without the batch axis), got ${describe(inputShape)}. Example: inputShape: [28, 28, 1].`,
      { option: 'inputShape', got: inputShape },
    );
  }
  return Object.freeze([...(inputShape as number[])]);
}

/**
 * Validates the number of classes: an integer of at least 2.
 *
 * @throws AdvxError `INVALID_OPTION` otherwise.
 *
 * @example
 * ```ts
 * validateNumClasses(10, 'fromFunction'); // 10
 * ```
 * @internal
 */
export function validateNumClasses(numClasses: unknown, where: string): number {
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 2) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${where}: numClasses must be an integer >= 2 (the length of the model's output rows), got ${describe(numClasses)}.`,
      { option: 'numClasses', got: numClasses },
    );
  }
  return numClasses;
}

/**
 * Validates an `output` option against the allowed values.
 *
 * @throws AdvxError `INVALID_OPTION` when `output` is missing (and required) or not allowed.
 *
 * @example
 * ```ts
 * validateOutput('logits', 'fromFunction'); // 'logits'
 * ```
 * @internal
 */
export function validateOutput(output: unknown, where: string): ModelOutput {
  if (output !== 'logits' && output !== 'probabilities') {
    throw new AdvxError(
      'INVALID_OPTION',
      `${where}: output must be 'logits' or 'probabilities', got ${describe(output)}. Say what the model ` +
        "returns: 'logits' (scores before softmax, preferred) or 'probabilities' (softmax output).",
      { option: 'output', got: output },
    );
  }
  return output;
}

/**
 * A validated normalization (see {@link validateNormalize}): scalars or frozen per-channel arrays.
 *
 * @example
 * ```ts
 * const n: ResolvedNormalization = { mean: [0.5, 0.5, 0.5], std: 0.25 };
 * ```
 * @internal
 */
export interface ResolvedNormalization {
  /** Mean per channel, or one for all. */
  readonly mean: number | readonly number[];
  /** Positive standard deviation per channel, or one for all. */
  readonly std: number | readonly number[];
}

function validateStat(value: unknown, name: 'mean' | 'std', channels: number, where: string): number | readonly number[] {
  const ok = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && (name === 'mean' || v > 0);
  const rule = name === 'std' ? 'positive finite' : 'finite';
  if (typeof value === 'number') {
    if (!ok(value)) {
      throw new AdvxError('INVALID_OPTION', `${where}: normalize.${name} must be a ${rule} number, got ${value}.`, { option: `normalize.${name}`, got: value });
    }
    return value;
  }
  if (Array.isArray(value)) {
    if (value.length !== channels) {
      throw new AdvxError(
        'INVALID_OPTION',
        `${where}: normalize.${name} has ${value.length} entries but the last (channel) axis of inputShape has ` +
          `${channels}. Pass one ${name} per channel, or a single number for all channels.`,
        { option: `normalize.${name}`, got: value, channels },
      );
    }
    const bad = value.findIndex((v) => !ok(v));
    if (bad !== -1) {
      throw new AdvxError('INVALID_OPTION', `${where}: normalize.${name}[${bad}] must be a ${rule} number, got ${describe(value[bad])}.`, {
        option: `normalize.${name}`,
        got: value,
      });
    }
    return Object.freeze([...(value as number[])]);
  }
  throw new AdvxError('INVALID_OPTION', `${where}: normalize.${name} must be a number or an array with one number per channel, got ${describe(value)}.`, {
    option: `normalize.${name}`,
    got: value,
  });
}

/**
 * Validates a `normalize` option against the input shape: `mean` finite, `std` positive and finite,
 * each a number or an array whose length is the last entry of `inputShape`.
 *
 * @returns the validated (frozen) normalization, or `undefined` when `normalize` is `undefined`.
 * @throws AdvxError `INVALID_OPTION` otherwise.
 *
 * @example
 * ```ts
 * validateNormalize({ mean: [0.5, 0.5, 0.5], std: 0.25 }, [32, 32, 3], 'fromLayersModel');
 * ```
 * @internal
 */
export function validateNormalize(normalize: unknown, inputShape: readonly number[], where: string): ResolvedNormalization | undefined {
  if (normalize === undefined) return undefined;
  if (normalize === null || typeof normalize !== 'object' || Array.isArray(normalize)) {
    throw new AdvxError('INVALID_OPTION', `${where}: normalize must be an object { mean, std }, got ${describe(normalize)}.`, {
      option: 'normalize',
      got: normalize,
    });
  }
  const channels = inputShape[inputShape.length - 1] ?? 1;
  const { mean, std } = normalize as { mean?: unknown; std?: unknown };
  return Object.freeze({
    mean: validateStat(mean, 'mean', channels, where),
    std: validateStat(std, 'std', channels, where),
  });
}

/**
 * Applies `(x - mean) / std` over the last (channel) axis of `x`. Pure tfjs ops, so gradients flow
 * through it (the input gradient is scaled by `1 / std`). The caller owns the result; call it
 * inside `tf.tidy`.
 *
 * @param x - a float tensor whose last axis is the channel axis.
 * @param normalization - a validated normalization (see {@link validateNormalize}).
 *
 * @example
 * ```ts
 * const z = tf.tidy(() => applyNormalization(x, { mean: [0.5, 0.4], std: [0.2, 0.1] }));
 * ```
 * @internal
 */
export function applyNormalization(x: tf.Tensor, normalization: ResolvedNormalization): tf.Tensor {
  return tf.tidy(() => {
    const { mean, std } = normalization;
    const meanT = typeof mean === 'number' ? tf.scalar(mean) : tf.tensor1d([...mean]);
    const stdT = typeof std === 'number' ? tf.scalar(std) : tf.tensor1d([...std]);
    return tf.div(tf.sub(x, meanT), stdT);
  });
}

/**
 * Converts probabilities to log-probabilities: `log(clip(p, 1e-12, 1))`.
 *
 * @example
 * ```ts
 * const logp = tf.tidy(() => probabilitiesToLogProbabilities(p));
 * ```
 * @internal
 */
export function probabilitiesToLogProbabilities<T extends tf.Tensor>(p: T): T {
  return tf.tidy(() => tf.log(tf.clipByValue(p, PROBABILITY_FLOOR, 1)));
}

/**
 * What {@link makeModel} needs. `bounds`, `inputShape`, `numClasses` and `normalize` are validated
 * by `makeModel` itself.
 *
 * @example
 * ```ts
 * const spec: MakeModelSpec = {
 *   name: 'fromFunction', inputShape: [4], numClasses: 3, bounds: [0, 1], output: 'logits',
 *   forward: (x) => tf.matMul(x as tf.Tensor2D, w),
 * };
 * ```
 * @internal
 */
export interface MakeModelSpec {
  /** The adapter, for error and warning messages (e.g. `fromLayersModel`). */
  readonly name: string;
  /** Shape of one sample, without the batch axis. */
  readonly inputShape: readonly number[];
  /** Number of classes. */
  readonly numClasses: number;
  /** Valid input range. */
  readonly bounds: Bounds;
  /** Optional input normalization, applied before `forward`. */
  readonly normalize?: NormalizeOptions | undefined;
  /** What `forward` returns; `probabilities` are converted to log-probabilities, with a warning. */
  readonly output: ModelOutput;
  /** Extra text for the probability warning (e.g. why the adapter could not strip a softmax). */
  readonly probabilityHint?: string;
  /**
   * The wrapped computation: a float32 batch `[n, ...inputShape]`, already normalized, to
   * `[n, numClasses]`. Called inside `tf.tidy`; must be differentiable tfjs ops.
   */
  readonly forward: (x: tf.Tensor) => tf.Tensor;
}

function inputShapeError(name: string, inputShape: readonly number[], got: readonly number[]): AdvxError {
  const expected = formatShape(['n', ...inputShape]);
  const sampleSize = inputShape.reduce((a, b) => a * b, 1);
  let fix: string;
  if (got.length === inputShape.length && got.every((d, i) => d === inputShape[i])) {
    fix = 'This looks like a single sample: add the batch axis with tf.expandDims(x, 0).';
  } else {
    const total = got.reduce((a, b) => a * b, 1);
    fix =
      total % sampleSize === 0 && got.length > 0
        ? `Reshape it with tf.reshape(x, ${formatShape([total / sampleSize, ...inputShape])}) if the data is laid out per sample, ` +
          'or pass the inputShape the model really takes.'
        : 'Pass a batch whose samples have the model input shape, or create the adapter with the right inputShape.';
  }
  return new AdvxError('INVALID_SHAPE', `${name}: logits expects x of shape ${expected} (rank ${inputShape.length + 1}), got ${formatShape(got)}. ${fix}`, {
    expected: ['n', ...inputShape],
    got: [...got],
  });
}

/**
 * Throws `INVALID_SHAPE` unless `x` is a tensor of shape `[n, ...inputShape]`. Creates no tensor.
 *
 * @example
 * ```ts
 * assertBatchShape(x, [28, 28, 1], 'toQueryModel'); // throws for x of shape [28, 28, 1]
 * ```
 * @internal
 */
export function assertBatchShape(x: unknown, inputShape: readonly number[], name: string): asserts x is tf.Tensor {
  const shape = (x as { shape?: unknown } | null | undefined)?.shape;
  if (!Array.isArray(shape) || typeof (x as { dtype?: unknown }).dtype !== 'string') {
    throw new AdvxError(
      'INVALID_SHAPE',
      `${name}: expected x to be a tf.Tensor of shape ${formatShape(['n', ...inputShape])}, got ${describe(x)}. ` +
        'Convert the data with tf.tensor(...) first.',
      { expected: ['n', ...inputShape] },
    );
  }
  const got = shape as number[];
  if (got.length !== inputShape.length + 1 || !inputShape.every((d, i) => got[i + 1] === d)) {
    throw inputShapeError(name, inputShape, got);
  }
}

/**
 * Builds the frozen {@link Model} every adapter returns. Its `logits(x)`:
 * 1. checks that `x` has shape `[n, ...inputShape]` (AdvxError `INVALID_SHAPE`, before any tensor
 *    is created);
 * 2. casts `x` to float32 if needed and applies the normalization;
 * 3. calls `forward` and checks the result is `[n, numClasses]` (AdvxError `INVALID_MODEL`);
 * 4. converts probabilities to log-probabilities when `output` is `probabilities`.
 * Everything runs in `tf.tidy`: only the returned tensor survives, even when an error is thrown.
 *
 * When `output` is `probabilities`, the model's `outputKind` is `log-probabilities` and a
 * `PROBABILITY_OUTPUT` warning is raised once, here.
 *
 * @throws AdvxError `INVALID_OPTION` for invalid bounds, shape, class count or normalization.
 *
 * @example
 * ```ts
 * const w = tf.tensor2d([[1, 0], [0, 1]]);
 * const model = makeModel({
 *   name: 'myAdapter', inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits',
 *   forward: (x) => tf.matMul(x as tf.Tensor2D, w),
 * });
 * ```
 * @internal
 */
export function makeModel(spec: MakeModelSpec): Model {
  const { name, forward } = spec;
  const inputShape = validateInputShape(spec.inputShape, name);
  const numClasses = validateNumClasses(spec.numClasses, name);
  const bounds = validateBounds(spec.bounds, name);
  const normalization = validateNormalize(spec.normalize, inputShape, name);
  const output = validateOutput(spec.output, name);
  if (typeof forward !== 'function') {
    throw new AdvxError('INVALID_MODEL', `${name}: forward must be a function from a batch tensor to [n, numClasses].`);
  }

  const logits = (x: tf.Tensor): tf.Tensor2D => {
    assertBatchShape(x, inputShape, name);
    const n = x.shape[0] ?? 0;
    return tf.tidy(() => {
      const input = x.dtype === 'float32' ? x : tf.cast(x, 'float32');
      const normalized = normalization === undefined ? input : applyNormalization(input, normalization);
      const out: unknown = forward(normalized);
      const outShape = (out as { shape?: unknown } | null | undefined)?.shape;
      if (!Array.isArray(outShape) || outShape.length !== 2 || outShape[0] !== n || outShape[1] !== numClasses) {
        throw new AdvxError(
          'INVALID_MODEL',
          `${name}: the wrapped model returned ${Array.isArray(outShape) ? `shape ${formatShape(outShape as number[])}` : describe(out)} ` +
            `for a batch of ${n}; expected [${n}, ${numClasses}]. Check numClasses and that the model returns one row of class scores per sample.`,
          { expected: [n, numClasses], got: Array.isArray(outShape) ? [...(outShape as number[])] : undefined },
        );
      }
      const scores = out as tf.Tensor2D;
      return output === 'probabilities' ? probabilitiesToLogProbabilities(scores) : scores;
    });
  };

  const model: Model = Object.freeze({
    kind: 'model' as const,
    inputShape,
    numClasses,
    bounds,
    outputKind: output === 'probabilities' ? ('log-probabilities' as const) : ('logits' as const),
    logits,
  });

  if (output === 'probabilities') {
    warn(
      'PROBABILITY_OUTPUT',
      `${name}: the model outputs probabilities, so advx uses log(clip(p, ${PROBABILITY_FLOOR}, 1)) as its logits ` +
        '(outputKind "log-probabilities"). When the softmax saturates its gradients vanish, which makes attacks ' +
        'look weaker than they are. Pass a model that outputs logits (scores before softmax) when you can.' +
        (spec.probabilityHint === undefined ? '' : ` ${spec.probabilityHint}`),
    );
  }
  return model;
}
