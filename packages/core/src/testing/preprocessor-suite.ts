import * as tf from '@tensorflow/tfjs-core';

import { defend, type Preprocessor } from '../defense.js';
import type { Model } from '../model.js';
import { Rng } from '../rng.js';
import { ensure, Suite, type ConformanceReport } from './report.js';
import { maxAbsDiff } from './util.js';

/**
 * Names of the checks of {@link checkPreprocessor}.
 *
 * @public
 */
export type PreprocessorCheck = 'shape-and-bounds' | 'deterministic' | 'no-leak' | 'gradient-declared' | 'gradient-flows' | 'gradient-matches-declaration';

/**
 * The data a preprocessor is checked on.
 *
 * @public
 */
export interface PreprocessorFixture {
  /** A white-box model the preprocessor is put in front of. */
  readonly model: Model;
  /** A batch inside the model's bounds, preferably away from the bounds (finite differences step around it). */
  readonly x: tf.Tensor;
  /** Seed of the random direction of the finite-difference check (default 0). */
  readonly seed?: number;
  /** Relative tolerance of the gradient checks (default 0.05). */
  readonly tolerance?: number;
  /** Checks to skip, each with the reason. */
  readonly skip?: Partial<Record<PreprocessorCheck, string>>;
}

/** Gradient of the summed logit of class 0 w.r.t. the input, through `model`. */
function logitGradient(model: Model, x: tf.Tensor): tf.Tensor {
  return tf.grad((input: tf.Tensor) => tf.sum(tf.slice(model.logits(input), [0, 0], [-1, 1])))(x);
}

/**
 * The preprocessor conformance suite: shape and bounds preserved, deterministic unless declared
 * randomized, no tensor leak, and a gradient that is declared and honest — `exact` gradients match
 * finite differences, `bpda-identity` gradients equal the model's gradient at the transformed input,
 * and no declared gradient is all zeros (the signature of gradient masking).
 *
 * @example
 * ```ts
 * assertConformance(await checkPreprocessor(bitDepth({ bits: 4 }), { model, x }));
 * ```
 * @public
 */
export async function checkPreprocessor(p: Preprocessor, fixture: PreprocessorFixture): Promise<ConformanceReport> {
  const { model, x } = fixture;
  const suite = new Suite(p?.name ?? 'preprocessor', fixture.skip as Record<string, string> | undefined);
  const [lo, hi] = model.bounds;
  const tol = fixture.tolerance ?? 0.05;

  await suite.check('gradient-declared', () => {
    ensure(['exact', 'bpda-identity', 'custom'].includes(p.gradient), `gradient '${String(p.gradient)}' is not exact, bpda-identity or custom`);
    ensure(p.gradient !== 'custom' || typeof p.backward === 'function', "gradient 'custom' needs a backward() function");
    ensure(typeof p.randomized === 'boolean', 'randomized must be declared true or false');
  });

  await suite.check('shape-and-bounds', async () => {
    const y = tf.tidy(() => p.apply(x, model.bounds));
    try {
      ensure(y.shape.join() === x.shape.join(), `apply() changed the shape from [${x.shape}] to [${y.shape}]`);
      const mm = tf.tidy(() => tf.stack([tf.min(y), tf.max(y)]));
      const [mn, mx] = await mm.data();
      mm.dispose();
      const slack = 1e-6 * Math.max(1, hi - lo);
      ensure((mn as number) >= lo - slack && (mx as number) <= hi + slack, `apply() output spans [${mn}, ${mx}], outside bounds [${lo}, ${hi}]`);
    } finally {
      y.dispose();
    }
  });

  await suite.check('deterministic', async () => {
    if (p.randomized) return 'declared randomized: not required';
    const a = tf.tidy(() => p.apply(x, model.bounds));
    const b = tf.tidy(() => p.apply(x, model.bounds));
    const diff = await maxAbsDiff(a, b);
    tf.dispose([a, b]);
    ensure(diff === 0, `two calls of apply() on the same input differ by ${diff}`);
  });

  await suite.check('no-leak', () => {
    const before = tf.memory().numTensors;
    const y = p.apply(x, model.bounds);
    y.dispose();
    const g = logitGradient(defend(model, p), x);
    g.dispose();
    const after = tf.memory().numTensors;
    ensure(after === before, `apply() + a gradient through defend() changed tf.memory().numTensors from ${before} to ${after}`);
  });

  // defend() is called inside each check: it throws for an undeclared gradient mode, which must fail
  // these checks (and 'gradient-declared') rather than abort the whole suite.
  await suite.check('gradient-flows', async () => {
    const g = logitGradient(defend(model, p), x);
    const stats = tf.tidy(() => tf.stack([tf.sum(tf.cast(tf.logicalNot(tf.isFinite(g)), 'float32')), tf.max(tf.abs(g))]));
    const [nonFinite, maxAbs] = await stats.data();
    tf.dispose([g, stats]);
    ensure(g.shape.join() === x.shape.join(), `the gradient has shape [${g.shape}] instead of [${x.shape}]`);
    ensure(nonFinite === 0, `the gradient through the preprocessor has ${nonFinite} NaN/infinite entries`);
    ensure(
      (maxAbs as number) > 0,
      `the gradient through the preprocessor is zero everywhere (declared '${p.gradient}'): attacks would see a masked gradient; declare 'bpda-identity' for non-differentiable transforms`,
    );
  });

  await suite.check('gradient-matches-declaration', async () => {
    if (p.gradient === 'custom') return 'custom gradient: only its flow is checked';
    const defended = defend(model, p);
    if (p.gradient === 'bpda-identity') {
      const viaDefense = logitGradient(defended, x);
      const transformed = tf.tidy(() => p.apply(x, model.bounds));
      const atTransformed = logitGradient(model, transformed);
      const diff = await maxAbsDiff(viaDefense, atTransformed);
      const zeros = tf.zerosLike(atTransformed);
      const scale = await maxAbsDiff(atTransformed, zeros);
      tf.dispose([viaDefense, transformed, atTransformed, zeros]);
      ensure(p.randomized || diff <= tol * Math.max(scale, 1e-6), `BPDA gradient differs from the model's gradient at p(x) by ${diff} (scale ${scale})`);
      return;
    }
    // exact: directional derivative against central finite differences along a random direction.
    const rng = new Rng(fixture.seed ?? 0);
    const size = x.size;
    const v = tf.tensor(
      Float32Array.from({ length: size }, () => (rng.uniform() < 0.5 ? -1 : 1)),
      x.shape,
    );
    const h = 1e-3 * (hi - lo);
    const f = (input: tf.Tensor) => tf.tidy(() => tf.sum(tf.slice(defended.logits(input), [0, 0], [-1, 1])));
    const g = logitGradient(defended, x);
    const pair = tf.tidy(() => {
      const plus = f(tf.add(x, tf.mul(v, h)));
      const minus = f(tf.sub(x, tf.mul(v, h)));
      return tf.stack([tf.div(tf.sub(plus, minus), 2 * h), tf.sum(tf.mul(g, v))]);
    });
    const [fd, analytic] = (await pair.data()) as Float32Array;
    tf.dispose([v, g, pair]);
    const err = Math.abs((fd as number) - (analytic as number));
    ensure(
      err <= tol * Math.max(Math.abs(fd as number), Math.abs(analytic as number), 1e-3),
      `declared exact, but the gradient's directional derivative ${analytic} differs from finite differences ${fd}`,
    );
  });

  return suite.report();
}
