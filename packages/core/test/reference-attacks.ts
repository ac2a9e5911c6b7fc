/**
 * Reference attacks written only for core's tests: the smallest attacks on the core base whose
 * answers can be computed by hand.
 */
import * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, whereRows, type AttackOptionsBase } from '../src/index.js';

export interface GradientSignOptions extends AttackOptionsBase {
  readonly steps: number;
  readonly randomStart: boolean;
}

/** One (or more) gradient-sign steps of size epsilon/steps from x (or a random start): FGSM/BIM. */
export const gradientSign = defineAttack({
  meta: {
    name: 'test-gradient-sign',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'white-box',
    goals: ['untargeted', 'targeted'],
    randomized: true,
  },
  options: { steps: option.integer(1, 'steps'), randomStart: option.boolean(false, 'randomStart') },
  perturb: async (ctx) => {
    const { steps } = ctx.options;
    const start = ctx.options.randomStart ? tf.tidy(() => ctx.project(tf.add(ctx.x, ctx.norm.randomStart(ctx.x.shape, ctx.epsilon, ctx.rng)))) : ctx.x;
    const alpha = steps === 1 ? ctx.epsilon : (2.5 * ctx.epsilon) / steps;
    const end = await ctx.iterate({ x: start }, steps, (s, _i, rows) => {
      const { grad } = rows.gradient(s.x);
      return { x: rows.project(tf.add(s.x, tf.mul(rows.norm.normalizeGradient(grad), alpha))) };
    });
    return end.x;
  },
});

export interface MinimalLinearOptions extends AttackOptionsBase {
  readonly overshoot: number;
}

/**
 * Minimal L2 perturbation for a linear model: for each sample, the closest point across the
 * boundary between the true class and the runner-up (DeepFool's one-step answer for linear models).
 */
export const minimalLinear = defineAttack({
  meta: {
    name: 'test-minimal-linear',
    kind: 'minimization',
    norms: ['l2'],
    threat: 'white-box',
    goals: ['untargeted'],
    randomized: false,
  },
  options: { overshoot: option.number(0.02, 'overshoot') },
  perturb: (ctx) =>
    tf.tidy(() => {
      const model = ctx.whiteBox();
      const c = model.numClasses;
      const labels = ctx.goal.classes;
      const logits = model.logits(ctx.x);
      const mask = tf.oneHot(labels, c);
      const runnerUp = tf.argMax(tf.sub(logits, tf.mul(mask, 1e9)), 1);
      const objective = (z: tf.Tensor2D) => tf.sub(tf.sum(tf.mul(z, tf.oneHot(runnerUp, c)), 1), tf.sum(tf.mul(z, mask), 1)) as tf.Tensor1D;
      const { value, grad } = ctx.gradient(ctx.x, objective);
      const flat = tf.reshape(grad, [ctx.n, -1]);
      const sq = tf.sum(tf.square(flat), 1);
      const scale = tf.div(tf.mul(tf.neg(value), 1 + ctx.options.overshoot), sq);
      return tf.add(ctx.x, tf.reshape(tf.mul(flat, tf.expandDims(scale, 1)), ctx.x.shape));
    }),
});

export interface RandomSearchOptions extends AttackOptionsBase {
  readonly steps: number;
}

/** A score-based random search (query-only): keeps the random corner of the Linf ball with the lowest true-class score. */
export const randomSearch = defineAttack({
  meta: {
    name: 'test-random-search',
    kind: 'fixed-epsilon',
    norms: ['linf'],
    threat: 'score',
    goals: ['untargeted'],
    randomized: true,
  },
  options: { steps: option.integer(4, 'steps') },
  perturb: async (ctx) => {
    let best = tf.clone(ctx.x);
    let bestScore = tf.fill([ctx.n], Infinity) as tf.Tensor1D;
    for (let i = 0; i < ctx.options.steps; i++) {
      const candidate = tf.tidy(() => ctx.project(tf.add(ctx.x, tf.mul(tf.sign(ctx.rng.uniform(ctx.x.shape, -1, 1)), ctx.epsilon))));
      let scores: tf.Tensor2D;
      try {
        await ctx.checkpoint(i, ctx.options.steps);
        scores = await ctx.query(candidate);
      } catch (err) {
        // Aborted or out of queries: the attack releases what it holds (no engine scope spans its awaits).
        tf.dispose([best, bestScore, candidate]);
        throw err;
      }
      const next = tf.tidy(() => {
        const s = tf.sum(tf.mul(scores, tf.oneHot(ctx.goal.classes, scores.shape[1])), 1) as tf.Tensor1D;
        const better = tf.less(s, bestScore);
        return { x: whereRows(better, candidate, best), s: tf.where(better, s, bestScore) as tf.Tensor1D };
      });
      tf.dispose([best, bestScore, candidate, scores]);
      best = next.x;
      bestScore = next.s;
    }
    bestScore.dispose();
    return best;
  },
});
