import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, type Model } from '@advx/core';

/**
 * What {@link inspectModel} found on one sample. Plain JSON (stored in results.json).
 *
 * @public
 */
export interface ModelInspection {
  /** Shape of one input sample. */
  readonly inputShape: readonly number[];
  /** Input dtype as declared. */
  readonly inputDtype: string;
  /** What advx attacks: `logits` or `log-probabilities`. */
  readonly outputKind: 'logits' | 'log-probabilities';
  /** Number of classes. */
  readonly numClasses: number;
  /** Class predicted for the sample. */
  readonly predicted: number;
  /** Smallest and largest score of the forward pass. */
  readonly scoreRange: readonly [number, number];
  /** Whether an input gradient could be computed. */
  readonly gradient: 'ok' | 'zero' | 'unavailable';
  /** L2 norm of the input gradient of the top score (0 when unavailable). */
  readonly gradientNorm: number;
  /** Why the gradient is unavailable or zero, in one line; `null` when it is fine. */
  readonly gradientProblem: string | null;
}

/** The op named by tfjs' "gradient function not found for X" / "Cannot compute gradient ... X". */
function missingGradientOp(message: string): string | undefined {
  return /gradient function not found for (\w+)/i.exec(message)?.[1] ?? /Cannot compute gradient[^:]*?(?:of|for)?\s*'?(\w+)'?/i.exec(message)?.[1];
}

/**
 * tfjs 4.22's `engine.gradients` keeps the tensors saved for the backward pass until the backward
 * pass ends; when it throws (an op without a gradient) they stay alive on `state.activeTape`.
 * Dispose them, as the engine would have, when no outer gradient is being taken.
 */
function releaseFailedTape(): void {
  const state = (tf.engine() as unknown as { state: { gradientDepth: number; activeTape: { saved?: tf.Tensor[] }[] | null } }).state;
  if (state.gradientDepth !== 0 || state.activeTape === null) return;
  for (const node of state.activeTape) for (const t of node.saved ?? []) t.dispose();
  state.activeTape = null;
}

/**
 * Inspects a model before any attack, on one sample:
 * 1. a forward pass (a failure is an `INVALID_MODEL` error with tfjs' message);
 * 2. the scores must be finite, and when the model says it outputs logits they must not look like
 *    probabilities (every score in [0, 1] and the row summing to 1 within 1e-4: a softmax that was
 *    not stripped makes attacks look weak);
 * 3. the number of classes against `classNames`;
 * 4. one input gradient of the top score: `unavailable` (with the op that has no gradient in tfjs
 *    and a hint to use a score-based attack such as `square`) or `zero` (masked gradients) are
 *    reported, not thrown, so the caller decides whether white-box attacks may run.
 *
 * Leaks no tensor.
 *
 * @param model - the advx model.
 * @param sample - one input `[1, ...inputShape]` within the model's bounds; default: the middle of
 * the bounds plus a fixed ±10 % pattern.
 * @param options - `classNames` to check against `numClasses`, `inputDtype` to report.
 * @returns the inspection.
 * @throws AdvxError `INVALID_MODEL` when the forward pass fails, gives non-finite scores or
 * probabilities declared as logits; `INVALID_OPTION` when the class names do not match.
 *
 * @example
 * ```ts
 * const report = await inspectModel(model);
 * if (report.gradient !== 'ok') console.error(report.gradientProblem);
 * ```
 * @public
 */
export async function inspectModel(
  model: Model,
  sample?: tf.Tensor,
  options: { readonly classNames?: readonly string[] | undefined; readonly inputDtype?: string } = {},
): Promise<ModelInspection> {
  const { classNames, inputDtype = 'float32' } = options;
  if (classNames !== undefined && classNames.length !== model.numClasses) {
    throw new AdvxError(
      'INVALID_OPTION',
      `the class names list ${classNames.length} classes but the model has ${model.numClasses} outputs; give one name per output, in output order.`,
    );
  }
  const [lo, hi] = model.bounds;
  const x = tf.tidy(() => {
    if (sample !== undefined) return tf.cast(sample, 'float32');
    const size = model.inputShape.reduce((a, b) => a * b, 1);
    const pattern = tf.sin(tf.range(0, size));
    return tf.reshape(tf.add((lo + hi) / 2, tf.mul(pattern, 0.1 * (hi - lo))), [1, ...model.inputShape]);
  });
  try {
    let scores: Float32Array;
    try {
      const out = model.logits(x);
      scores = (await out.data()) as Float32Array;
      out.dispose();
    } catch (e) {
      if (e instanceof AdvxError) throw e;
      throw new AdvxError('INVALID_MODEL', `a forward pass on one sample failed: ${(e as Error).message}`);
    }
    const row = Array.from(scores.slice(0, model.numClasses));
    if (!row.every(Number.isFinite)) {
      throw new AdvxError(
        'INVALID_MODEL',
        `the forward pass on one sample gave non-finite scores (${row.slice(0, 4).join(', ')}...): check --bounds, --mean and --std against what the model was trained on.`,
      );
    }
    const sum = row.reduce((a, b) => a + b, 0);
    if (model.outputKind === 'logits' && row.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-4) {
      throw new AdvxError(
        'INVALID_MODEL',
        'the model output looks like probabilities (scores in [0, 1] summing to 1), not logits: pass --output-node with the node before the softmax, or --output probabilities.',
      );
    }
    const predicted = row.indexOf(Math.max(...row));
    let gradient: ModelInspection['gradient'] = 'ok';
    let gradientNorm = 0;
    let gradientProblem: string | null = null;
    try {
      // In a tidy: a gradient that fails half-way leaves no tensor behind.
      const norm = tf.tidy(() => tf.norm(tf.grad((input: tf.Tensor) => tf.sum(tf.slice(model.logits(input), [0, predicted], [1, 1])))(x)));
      gradientNorm = (await norm.data())[0] ?? 0;
      norm.dispose();
      if (!(gradientNorm > 0)) {
        gradient = 'zero';
        gradientProblem =
          'the input gradient is zero on the inspected sample (masked or saturated): gradient attacks may fail; also run a score-based attack such as --attacks square';
      }
    } catch (e) {
      releaseFailedTape();
      gradient = 'unavailable';
      const message = (e as Error).message;
      const op = missingGradientOp(message);
      gradientProblem =
        op !== undefined
          ? `the graph op ${op} has no gradient in tfjs: use a score-based attack such as --attacks square`
          : `no input gradient (${message.split('\n')[0] ?? ''}): use a score-based attack such as --attacks square`;
    }
    const range: [number, number] = [Math.min(...row), Math.max(...row)];
    return {
      inputShape: [...model.inputShape],
      inputDtype,
      outputKind: model.outputKind ?? 'logits',
      numClasses: model.numClasses,
      predicted,
      scoreRange: range,
      gradient,
      gradientNorm,
      gradientProblem,
    };
  } finally {
    x.dispose();
  }
}
