/**
 * The Linf projection and the signed-gradient step as single kernels where a backend has them.
 *
 * An Linf attack's step `P(x′ + α·sign(g))` is seven element-wise passes when composed from tfjs ops
 * (sign, scale, add, subtract the origin, clip to ±ε, add the origin back, clip to the bounds), each
 * allocating a batch-sized tensor. A backend package may register one kernel for each of the two
 * operations here under {@link LINF_PROJECT_KERNEL} and {@link LINF_STEP_KERNEL} (`@advx/backend-wasm`
 * does); {@link linfProject} and {@link linfSignStep} then run it, and otherwise (or while a gradient
 * tape records) compose the same arithmetic from tfjs ops. A registered kernel must give bit for bit the
 * composition's float32 result, in this order for every element of row `r`:
 *
 * 1. step only: `t = f32(sign(g) · α[r])` (`sign` as `tf.sign` on the cpu backend: −1, 0 or 1, and 0 for a NaN), `v = f32(x′ + t)`;
 *    projection only: `v = x′`;
 * 2. `d = f32(v − x)`, then `d = min(max(d, −ε), ε)` with `ε` as float32 (NaN propagates);
 * 3. `o = f32(x + d)`, then clipped to `[lo, hi]` as `tf.clipByValue` does (NaN stays NaN).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from './errors.js';
import type { Bounds } from './model.js';
import { linf } from './norms/linf.js';

/**
 * tfjs kernel name of the fused Linf projection: inputs `{ x, origin }` (float32, same shape
 * `[n, ...]`), attributes `{ epsilon, lo, hi }` (numbers, `epsilon ≥ 0` and possibly `Infinity`, `lo ≤ hi`); the output is
 * float32 of `x`'s shape (see the module's description for the exact arithmetic).
 * @public
 */
export const LINF_PROJECT_KERNEL = 'AdvxLinfProject';

/**
 * tfjs kernel name of the fused signed-gradient step: inputs `{ x, grad, origin, stepSize }` (`x`,
 * `grad` and `origin` float32 of one shape `[n, ...]`, `stepSize` float32 `[n]`: one step size per row),
 * attributes `{ epsilon, lo, hi }` as {@link LINF_PROJECT_KERNEL}; the output is float32 of `x`'s shape.
 * @public
 */
export const LINF_STEP_KERNEL = 'AdvxLinfStep';

/** Attributes of both fused kernels. @public */
export interface LinfKernelAttrs {
  /** Radius of the Linf ball around `origin` (≥ 0; `Infinity`: only the bounds apply). */
  readonly epsilon: number;
  /** Lower bound of the input domain. */
  readonly lo: number;
  /** Upper bound of the input domain. */
  readonly hi: number;
}

function sameShape(a: tf.Tensor, b: tf.Tensor, what: string): void {
  if (a.rank < 1 || a.shape.length !== b.shape.length || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new AdvxError('INVALID_SHAPE', `${what}: expected a batch [n, ...] of the shape of x′ [${a.shape.join(', ')}], got [${b.shape.join(', ')}].`);
  }
}

function checkAttrs(epsilon: number, bounds: Bounds): LinfKernelAttrs {
  if (!(epsilon >= 0)) {
    throw new AdvxError('INVALID_EPSILON', `The Linf radius must be a number ≥ 0 (Infinity allowed), got ${epsilon}.`, { eps: epsilon });
  }
  const [lo, hi] = bounds;
  if (!(lo <= hi)) throw new AdvxError('INVALID_OPTION', `bounds must satisfy lo ≤ hi, got [${lo}, ${hi}].`);
  return { epsilon, lo, hi };
}

/** Whether the active backend has kernel `name` and no gradient tape is recording (the fused kernels have no gradient). */
function fusedAvailable(name: string): boolean {
  return tf.engine().state.gradientDepth === 0 && tf.getKernel(name, tf.getBackend()) !== undefined;
}

function composedProject(v: tf.Tensor, origin: tf.Tensor, a: LinfKernelAttrs): tf.Tensor {
  return tf.clipByValue(tf.add(origin, linf.project(tf.sub(v, origin), a.epsilon)), a.lo, a.hi);
}

/**
 * The projection of `xAdv` onto the Linf ball of radius `epsilon` around `origin`, then onto the
 * bounds: `clip(origin + clip(xAdv − origin, −ε, ε), lo, hi)`, as one kernel where the active backend
 * registered {@link LINF_PROJECT_KERNEL}.
 *
 * @param xAdv - The point to project, float32 `[n, ...]`.
 * @param origin - The clean inputs, the shape of `xAdv`.
 * @param epsilon - Radius (≥ 0; `Infinity` leaves only the bounds).
 * @param bounds - `[lo, hi]` of the input domain.
 * @returns A new float32 tensor of `xAdv`'s shape.
 * @throws AdvxError `INVALID_SHAPE`, `INVALID_EPSILON` or `INVALID_OPTION` for bad input.
 * @example
 * ```ts
 * const p = linfProject(tf.tensor2d([[0.9, 0.2]]), tf.tensor2d([[0.5, 0.5]]), 0.1, [0, 1]); // [[0.6, 0.4]]
 * ```
 * @public
 */
export function linfProject(xAdv: tf.Tensor, origin: tf.Tensor, epsilon: number, bounds: Bounds): tf.Tensor {
  sameShape(xAdv, origin, 'linfProject(origin)');
  const attrs = checkAttrs(epsilon, bounds);
  if (xAdv.dtype === 'float32' && origin.dtype === 'float32' && fusedAvailable(LINF_PROJECT_KERNEL)) {
    return tf.engine().runKernel(LINF_PROJECT_KERNEL, { x: xAdv, origin }, { ...attrs }) as tf.Tensor;
  }
  return tf.tidy(() => composedProject(xAdv, origin, attrs));
}

/**
 * The signed-gradient (FGSM/PGD) step of an Linf attack, `P(xAdv + α·sign(grad))` with `P` the
 * projection of {@link linfProject}, as one kernel where the active backend registered
 * {@link LINF_STEP_KERNEL}.
 *
 * @param xAdv - The current iterate, float32 `[n, ...]`.
 * @param grad - The gradient to step along (its sign), the shape of `xAdv`.
 * @param origin - The clean inputs, the shape of `xAdv`.
 * @param stepSize - α: one number for every row, or float32 `[n]` (one per row).
 * @param epsilon - Radius (≥ 0; `Infinity` leaves only the bounds).
 * @param bounds - `[lo, hi]` of the input domain.
 * @returns A new float32 tensor of `xAdv`'s shape.
 * @throws AdvxError `INVALID_SHAPE`, `INVALID_EPSILON` or `INVALID_OPTION` for bad input.
 * @example
 * ```ts
 * const x = tf.tensor2d([[0.5, 0.5]]);
 * const next = linfSignStep(x, tf.tensor2d([[2, -3]]), x, 0.05, 0.1, [0, 1]); // [[0.55, 0.45]]
 * ```
 * @public
 */
export function linfSignStep(xAdv: tf.Tensor, grad: tf.Tensor, origin: tf.Tensor, stepSize: number | tf.Tensor1D, epsilon: number, bounds: Bounds): tf.Tensor {
  sameShape(xAdv, grad, 'linfSignStep(grad)');
  sameShape(xAdv, origin, 'linfSignStep(origin)');
  const n = xAdv.shape[0] as number;
  if (typeof stepSize === 'number') {
    if (!Number.isFinite(stepSize)) throw new AdvxError('INVALID_OPTION', `linfSignStep: the step size must be a finite number, got ${stepSize}.`);
  } else if (stepSize.rank !== 1 || stepSize.shape[0] !== n) {
    throw new AdvxError('INVALID_SHAPE', `linfSignStep: a step size tensor must have shape [${n}] (one per row), got [${stepSize.shape.join(', ')}].`);
  }
  const attrs = checkAttrs(epsilon, bounds);
  const floats = xAdv.dtype === 'float32' && grad.dtype === 'float32' && origin.dtype === 'float32';
  if (floats && fusedAvailable(LINF_STEP_KERNEL)) {
    return tf.tidy(() => {
      const alpha = typeof stepSize === 'number' ? tf.fill([n], stepSize, 'float32') : tf.cast(stepSize, 'float32');
      return tf.engine().runKernel(LINF_STEP_KERNEL, { x: xAdv, grad, origin, stepSize: alpha }, { ...attrs }) as tf.Tensor;
    });
  }
  return tf.tidy(() => {
    const direction = linf.normalizeGradient(grad);
    const column = [n, ...new Array<number>(xAdv.rank - 1).fill(1)];
    const step = typeof stepSize === 'number' ? tf.mul(direction, stepSize) : tf.mul(direction, tf.reshape(tf.cast(stepSize, 'float32'), column));
    return composedProject(tf.add(xAdv, step), origin, attrs);
  });
}
