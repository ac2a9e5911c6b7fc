/**
 * The gradient-iteration engine shared by FGSM, BIM, PGD and MI-FGSM: from a start point (the clean
 * input or a random point of the epsilon ball), repeat `x ← Π(x + α·d(∇x L))` where Π projects onto
 * the epsilon ball and the bounds, `d` is the norm's steepest-ascent direction and `L` the per-sample
 * objective; optionally with a momentum accumulator (MI-FGSM) and random restarts (PGD).
 *
 * Not part of the public API: the attack files are its only callers.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, isAdversarialLogits, l1, linfSignStep, logitMargin, whereRows, type AttackContext, type IterationState, type Objective } from '@advx/core';

/** A step direction of unit norm for gradient `grad` at the current iterate `x` (same shape). */
export type StepDirection = (grad: tf.Tensor, x: tf.Tensor) => tf.Tensor;

/** Configuration of one run of {@link gradientSteps}. */
export interface GradientStepsConfig {
  /** Iterations per restart (≥ 1). */
  readonly steps: number;
  /** Absolute step size α in the attack's norm. */
  readonly stepSize: number;
  /** Start from a uniform random point of the epsilon ball (else from the clean input). */
  readonly randomStart: boolean;
  /** Number of runs (≥ 1); every run after the first starts from a fresh random point of the ball. */
  readonly restarts: number;
  /** Per-sample objective to ascend, for the rows of a context (the loop's rows shrink as samples finish). */
  readonly objective: (rows: AttackContext<unknown>) => Objective;
  /**
   * Unit-norm ascent direction. Default: the norm's `normalizeGradient` (`sign(g)` for linf, whose
   * step and projection then run as one {@link linfSignStep}).
   */
  readonly direction?: StepDirection;
  /**
   * Momentum decay μ (MI-FGSM): the direction is taken of `g ← μ·g + ∇/‖∇‖₁` instead of `∇`.
   * Undefined: no momentum.
   */
  readonly momentum?: number;
}

/**
 * The objective of the `loss` option of the gradient attacks: `ce` is the context's default
 * (cross-entropy of the label to ascend, or minus the cross-entropy of the target); `margin` is
 * Carlini & Wagner's logit margin: `max_{i≠y} z_i − z_y` (untargeted) or `z_t − max_{i≠t} z_i`
 * (targeted), ascended.
 */
export function lossObjective(ctx: AttackContext<unknown>, loss: 'ce' | 'margin'): Objective {
  if (loss === 'ce') return ctx.objective;
  const { classes, targeted } = ctx.goal;
  return (logits) => (targeted ? logitMargin(logits, classes) : (tf.neg(logitMargin(logits, classes)) as tf.Tensor1D));
}

/**
 * Sparse L1 steepest-ascent direction (Tramèr & Boneh 2019, "SLIDE"): `sign(g)` on the coordinates
 * whose `|g|` is among the top `(1 − sparsity)` fraction of the sample, zero elsewhere, scaled to
 * unit L1 norm. Coordinates that sit on a bound with the gradient pointing out of the box are left
 * out before ranking (a step along them would be clipped away; Croce & Hein 2021, "Mind the box").
 * Rows without a usable coordinate give a zero direction.
 */
export function sparseL1Direction(sparsity: number, bounds: readonly [number, number]): StepDirection {
  const [lo, hi] = bounds;
  return (grad, x) =>
    tf.tidy(() => {
      const n = grad.shape[0] as number;
      const g = tf.reshape(tf.cast(grad, 'float32'), [n, -1]) as tf.Tensor2D;
      const xf = tf.reshape(x, [n, -1]);
      const d = g.shape[1];
      const k = Math.min(d, Math.max(1, Math.ceil((1 - sparsity) * d - 1e-9)));
      const blocked = tf.logicalOr(tf.logicalAnd(tf.lessEqual(xf, lo), tf.less(g, 0)), tf.logicalAnd(tf.greaterEqual(xf, hi), tf.greater(g, 0)));
      const magnitude = tf.where(blocked, tf.zerosLike(g), tf.abs(g));
      const kth = tf.slice(tf.topk(magnitude, k, true).values, [0, k - 1], [n, 1]);
      const chosen = tf.cast(tf.logicalAnd(tf.greaterEqual(magnitude, kth), tf.greater(magnitude, 0)), 'float32');
      const count = tf.maximum(tf.sum(chosen, 1, true), 1);
      return tf.reshape(tf.div(tf.mul(tf.sign(g), chosen), count), grad.shape);
    });
}

/** Per-sample selection across restarts: the first successful run, else the one with the highest objective. */
export interface RestartBest {
  /** Best iterate so far `[n, ...]`. */
  readonly bestX: tf.Tensor;
  /** Its objective `[n]` (`−Infinity` before the first run ends). */
  readonly bestValue: tf.Tensor;
  /** 1 where it is adversarial, else 0 (float32 `[n]`). */
  readonly bestOk: tf.Tensor;
}

/**
 * Folds the end point `x` of one restart (objective `value`, success `ok`) into `best`: a row takes
 * the new point when no earlier restart succeeded on it and the new one succeeds or has a higher
 * objective.
 */
export function keepBest(best: RestartBest, x: tf.Tensor, value: tf.Tensor, ok: tf.Tensor): RestartBest {
  return tf.tidy(() => {
    const okBool = tf.cast(ok, 'bool');
    const before = tf.greater(best.bestOk, 0.5);
    const take = tf.logicalAnd(tf.logicalNot(before), tf.logicalOr(okBool, tf.greater(value, best.bestValue)));
    return {
      bestX: whereRows(take, x, best.bestX),
      bestValue: tf.where(take, value, best.bestValue),
      bestOk: tf.cast(tf.logicalOr(before, okBool), 'float32'),
    };
  });
}

function required(state: IterationState, key: string): tf.Tensor {
  const t = state[key];
  if (!t) throw new AdvxError('INVALID_SHAPE', `internal: iteration state lost its '${key}' tensor.`);
  return t;
}

/**
 * Runs the engine on one batch and returns the adversarial batch (already projected). One
 * {@link AttackContext.iterate} loop of `steps × restarts` iterations, so progress, abort and
 * per-sample early stop cover every restart: with early stop a sample freezes at its first
 * adversarial iterate, which is then by construction its first successful restart. At each restart
 * boundary the finished run is folded into the per-sample best ({@link keepBest}) and the sample
 * restarts from a fresh random point; the momentum accumulator restarts at zero.
 *
 * Randomness comes only from `ctx.rng` (per-sample streams, drawn once per restart), so results do
 * not depend on the batch size.
 */
export async function gradientSteps(ctx: AttackContext<unknown>, config: GradientStepsConfig): Promise<tf.Tensor> {
  const { steps, stepSize, restarts, direction, momentum } = config;
  const randomPoint = (c: AttackContext<unknown>): tf.Tensor => tf.tidy(() => c.project(tf.add(c.x, c.norm.randomStart(c.x.shape, c.epsilon, c.rng))));
  const start = config.randomStart ? randomPoint(ctx) : ctx.x;
  const init: Record<string, tf.Tensor> = { x: start };
  if (momentum !== undefined) init.g = tf.zerosLike(ctx.x);
  if (restarts > 1) {
    init.bestX = ctx.x;
    init.bestValue = tf.fill([ctx.n], -Infinity);
    init.bestOk = tf.zeros([ctx.n]);
  }
  const evaluate = (c: AttackContext<unknown>, x: tf.Tensor) => {
    const logits = c.whiteBox().logits(x);
    return { value: config.objective(c)(logits), ok: isAdversarialLogits(logits, c.goal) };
  };

  const end = await ctx.iterate(init as IterationState, steps * restarts, (s, i, rows) => {
    const out: Record<string, tf.Tensor> = {};
    let x = s.x;
    let g = momentum !== undefined ? required(s, 'g') : undefined;
    let boundaryOk: tf.Tensor1D | undefined;
    if (restarts > 1) {
      let best: RestartBest = { bestX: required(s, 'bestX'), bestValue: required(s, 'bestValue'), bestOk: required(s, 'bestOk') };
      if (i > 0 && i % steps === 0) {
        const { value, ok } = evaluate(rows, s.x);
        best = keepBest(best, s.x, value, ok);
        boundaryOk = ok;
        x = randomPoint(rows);
        if (g) g = tf.zerosLike(g);
      }
      Object.assign(out, best);
    }
    const { logits, grad } = rows.gradient(x, config.objective(rows));
    let ascent = grad;
    if (g && momentum !== undefined) {
      g = tf.add(tf.mul(g, momentum), l1.normalizeGradient(grad));
      ascent = g;
      out.g = g;
    }
    const next =
      direction === undefined && rows.norm.name === 'linf' && Number.isFinite(rows.epsilon)
        ? linfSignStep(x, ascent, rows.x, stepSize, rows.epsilon, rows.bounds)
        : rows.project(tf.add(x, tf.mul((direction ?? ((d) => rows.norm.normalizeGradient(d)))(ascent, x), stepSize)));
    return { ...out, x: next, adversarial: boundaryOk ?? isAdversarialLogits(logits, rows.goal) };
  });

  const result =
    restarts === 1
      ? end.x
      : tf.tidy(() => {
          const { value, ok } = evaluate(ctx, end.x);
          const best = keepBest({ bestX: required(end, 'bestX'), bestValue: required(end, 'bestValue'), bestOk: required(end, 'bestOk') }, end.x, value, ok);
          return best.bestX;
        });
  tf.dispose(Object.values(end).filter((t) => t !== result && t !== ctx.x));
  return result;
}
