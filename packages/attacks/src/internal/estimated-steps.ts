/**
 * Projected gradient ascent on a gradient estimated from queries: the engine of the finite-difference
 * (ZOO-style coordinate batches), NES and SPSA attacks. Every step queries the current point (its
 * loss, and whether it already satisfies the goal), estimates the loss gradient from probes around it,
 * and moves `x ← Π(x + α·d(ĝ))` with `d` = sign (Linf) or ĝ/‖ĝ‖₂ (L2) and Π the projection onto the
 * epsilon ball and the bounds — PGD with an estimated instead of a true gradient.
 *
 * Not part of the public API: the attack files are its only callers.
 *
 * @internal
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, type AttackContext, type AttackFactory, type AttackMeta, type AttackOptions, type Rng } from '@advx/core';

import { crossEntropyLoss, marginLoss, reachedGoal, requireScores, rowOf, searchEachSample, type SampleSearch } from './black-box.js';

/** The three estimators. */
export type EstimatorKind = 'finite-differences' | 'nes' | 'spsa';

/** Configuration of a gradient estimator. */
export interface EstimatorConfig {
  /** Which estimator. */
  readonly kind: EstimatorKind;
  /**
   * Finite differences: coordinates per estimate (a random batch, ZOO-style); NES and SPSA: antithetic
   * pairs of probes per estimate.
   */
  readonly samples: number;
  /** Probe radius: h of the finite differences, σ of NES, δ of SPSA. */
  readonly delta: number;
}

/** Probe points around `x` and how to turn their losses into a gradient estimate. */
export interface Probes {
  /** The points to query, 2·samples of them, in pairs `x + δ·u`, `x − δ·u` (clipped to the bounds). */
  readonly points: Float32Array[];
  /** The gradient estimate from the losses of `points`, in order. */
  combine(losses: readonly number[]): Float64Array;
}

/**
 * The probes of one gradient estimate at `x`, with the sign-free formulas of the papers:
 * - finite differences (Chen et al. 2017): `ĝ_i = (L(x + h·e_i) − L(x − h·e_i)) / (x⁺_i − x⁻_i)` on
 *   `samples` coordinates drawn without replacement, 0 elsewhere (the denominator is `2h` unless a
 *   bound clipped the probe);
 * - NES (Ilyas et al. 2018): `ĝ = Σ_k (L(x + σu_k) − L(x − σu_k))·u_k / (2σ·samples)`, `u_k ~ N(0, I)`;
 * - SPSA (Uesato et al. 2018): the same with Rademacher `±1` directions `v_k` and radius δ.
 */
export function gradientProbes(config: EstimatorConfig, x: Float32Array, bounds: readonly [number, number], rng: Rng): Probes {
  const [lo, hi] = bounds;
  const d = x.length;
  const { delta } = config;
  const points: Float32Array[] = [];
  const shifted = (u: Float32Array | number, sign: number, index = -1) => {
    const out = Float32Array.from(x);
    if (index >= 0) out[index] = Math.min(hi, Math.max(lo, (out[index] as number) + sign * delta));
    else for (let i = 0; i < d; i++) out[i] = Math.min(hi, Math.max(lo, (out[i] as number) + sign * delta * ((u as Float32Array)[i] as number)));
    return out;
  };
  if (config.kind === 'finite-differences') {
    const k = Math.min(config.samples, d);
    const coords = rng.permutation(d).slice(0, k);
    for (const i of coords) points.push(shifted(1, 1, i), shifted(1, -1, i));
    return {
      points,
      combine: (losses) => {
        const g = new Float64Array(d);
        coords.forEach((i, j) => {
          const step = ((points[2 * j] as Float32Array)[i] as number) - ((points[2 * j + 1] as Float32Array)[i] as number);
          if (step > 0) g[i] = ((losses[2 * j] as number) - (losses[2 * j + 1] as number)) / step;
        });
        return g;
      },
    };
  }
  const directions: Float32Array[] = [];
  for (let k = 0; k < config.samples; k++) {
    const u = Float32Array.from({ length: d }, () => (config.kind === 'nes' ? rng.normal() : rng.uniform() < 0.5 ? -1 : 1));
    directions.push(u);
    points.push(shifted(u, 1), shifted(u, -1));
  }
  return {
    points,
    combine: (losses) => {
      const g = new Float64Array(d);
      directions.forEach((u, k) => {
        const c = ((losses[2 * k] as number) - (losses[2 * k + 1] as number)) / (2 * delta * config.samples);
        for (let i = 0; i < d; i++) g[i] = (g[i] as number) + c * (u[i] as number);
      });
      return g;
    },
  };
}

/** Configuration of {@link estimatedGradientSteps}. */
export interface EstimatedStepsConfig {
  /** The gradient estimator. */
  readonly estimator: EstimatorConfig;
  /** Steps, at most. */
  readonly steps: number;
  /** Step size α in the norm's units. */
  readonly stepSize: number;
  /** Queries per sample, at most. */
  readonly maxQueries: number;
  /** Loss ascended: `'margin'` (C&W margin on log-probabilities) or `'ce'` (cross-entropy). */
  readonly loss: 'margin' | 'ce';
  /** Stop a sample at its first point that satisfies the goal. */
  readonly earlyStop: boolean;
}

/** Projects `v` onto the epsilon ball around `x` (Linf or L2), then clips to the bounds, in place. */
function projectInPlace(v: Float32Array, x: Float32Array, eps: number, linf: boolean, bounds: readonly [number, number]): Float32Array {
  const [lo, hi] = bounds;
  if (!linf && Number.isFinite(eps)) {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += ((v[i] as number) - (x[i] as number)) ** 2;
    const norm = Math.sqrt(s);
    if (norm > eps) for (let i = 0; i < v.length; i++) v[i] = (x[i] as number) + ((v[i] as number) - (x[i] as number)) * (eps / norm);
  }
  for (let i = 0; i < v.length; i++) {
    const xi = x[i] as number;
    const box = linf ? Math.min(xi + eps, Math.max(xi - eps, v[i] as number)) : (v[i] as number);
    v[i] = Math.min(hi, Math.max(lo, box));
  }
  return v;
}

/**
 * Runs projected gradient ascent with estimated gradients on every row of the context that needs an
 * adversarial. The loss is ascended (`−margin`, or the cross-entropy of the label; for targeted
 * goals `−margin` towards the target, or minus its cross-entropy). Each step costs `1 + 2·samples`
 * queries; a sample stops when the next step would exceed `maxQueries`.
 */
export function estimatedGradientSteps(ctx: AttackContext<unknown>, config: EstimatedStepsConfig): Promise<tf.Tensor> {
  const linf = ctx.norm.name === 'linf';
  const eps = ctx.epsilon;
  const perStep = 1 + 2 * Math.min(config.estimator.samples, config.estimator.kind === 'finite-differences' ? ctx.x.size / ctx.n : Infinity);
  return searchEachSample(ctx, config.maxQueries, (i, b, used) => {
    const cls = b.classes[i] as number;
    const objective = (p: Float32Array) => {
      if (config.loss === 'margin') return -marginLoss(p, cls, b.targeted);
      return b.targeted ? -crossEntropyLoss(p, cls) : crossEntropyLoss(p, cls);
    };
    return search(rowOf(b.x, b.size, i), ctx.rng.streams[i] as Rng, (p) => reachedGoal(p, cls, b.targeted), objective, used);
  });

  function* search(
    x: Float32Array,
    rng: Rng,
    adversarial: (p: Float32Array) => boolean,
    objective: (p: Float32Array) => number,
    used: (q: number) => void,
  ): SampleSearch {
    let current: Float32Array = Float32Array.from(x);
    let spent = 0;
    for (let t = 0; t < config.steps && spent + perStep <= config.maxQueries; t++) {
      const probes = gradientProbes(config.estimator, current, ctx.bounds, rng);
      spent += 1 + probes.points.length;
      used(spent);
      const [here, ...around] = yield [current, ...probes.points];
      if (config.earlyStop && adversarial(here as Float32Array)) return current;
      const g = probes.combine(around.map(objective));
      let norm = 0;
      for (const v of g) norm += v * v;
      norm = Math.sqrt(norm);
      if (!(norm > 0)) continue;
      const next = new Float32Array(current.length);
      for (let j = 0; j < next.length; j++) {
        const dj = linf ? Math.sign(g[j] as number) : (g[j] as number) / norm;
        next[j] = (current[j] as number) + config.stepSize * dj;
      }
      current = projectInPlace(next, x, eps, linf, ctx.bounds);
    }
    return current;
  }
}

/** The norms of the estimated-gradient attacks, the default (`'linf'`, sign steps) first. */
type EstimatorNorm = 'linf' | 'l2';

/** The defaults and docs that differ between the estimated-gradient attacks. */
export interface EstimatorDefaults {
  /** Default of `steps`. */
  readonly steps: number;
  /** Default of `samples`. */
  readonly samples: number;
  /** One-line doc of `samples`. */
  readonly samplesDoc: string;
  /** Default of `delta`. */
  readonly delta: number;
  /** One-line doc of `delta`. */
  readonly deltaDoc: string;
}

/**
 * The option schema shared by the estimated-gradient attacks ({@link finiteDifferences}, {@link nes},
 * {@link spsa}), with the defaults of one of them.
 */
export function estimatorOptions(d: EstimatorDefaults) {
  return {
    steps: option.integer(d.steps, 'gradient steps at most', { min: 1 }),
    relStepSize: option.number(0.1, 'step size relative to epsilon, α = relStepSize·ε', { min: 0, above: true }),
    stepSize: option.number(0, 'absolute step size α; overrides relStepSize when > 0 (0: unset)', { min: 0 }),
    maxQueries: option.integer(10_000, 'queries per sample and epsilon; each step costs 1 + 2·samples', { min: 1 }),
    samples: option.integer(d.samples, d.samplesDoc, { min: 1 }),
    delta: option.number(d.delta, d.deltaDoc, { min: 0, above: true }),
    loss: option.oneOf(['margin', 'ce'], 'margin', "loss ascended: Carlini & Wagner's margin, from log-probabilities, or cross-entropy"),
  } as const;
}

/** The option schema of an estimated-gradient attack. */
export type EstimatorSchema = ReturnType<typeof estimatorOptions>;

/**
 * Options shared by the estimated-gradient attacks ({@link finiteDifferences}, {@link nes},
 * {@link spsa}), each optional.
 *
 * @public
 */
export type EstimatedGradientOptions = AttackOptions<EstimatorSchema, EstimatorNorm>;

/** The definition of an estimated-gradient attack: its metadata and option schema, the math shared. */
export function defineEstimatorAttack(
  kind: EstimatorKind,
  meta: AttackMeta & { readonly norms: readonly EstimatorNorm[] },
  options: EstimatorSchema,
): AttackFactory<EstimatedGradientOptions> {
  const name = meta.name;
  return defineAttack({
    meta,
    options,
    checkModel: (model) => requireScores(name, model),
    perturb: (ctx) => {
      const o = ctx.options;
      if (ctx.epsilon === 0) return ctx.x;
      return estimatedGradientSteps(ctx, {
        estimator: { kind, samples: o.samples, delta: o.delta },
        steps: o.steps,
        stepSize: o.stepSize > 0 ? o.stepSize : o.relStepSize * ctx.epsilon,
        maxQueries: o.maxQueries,
        loss: o.loss,
        earlyStop: o.earlyStop,
      });
    },
  });
}
