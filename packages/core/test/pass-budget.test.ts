/**
 * Per-sample pass accounting and the per-sample pass budget (`RunOptions.maxPasses`, AttackBench's
 * forward-plus-backward count): passes are charged to the samples whose rows went through the model,
 * an iterative attack under a budget of 2T passes is the attack with T steps, a sample that goes over
 * its budget returns the best adversarial its budget paid for, and a loop of its own stops once every
 * running sample spent its budget.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { defineAttack, option, isAdvxError, toQueryModel, type AttackResult } from '../src/index.js';
import { mlpModel, selfLabeledData } from '../src/testing/index.js';
import { gradientSign, randomSearch } from './reference-attacks.js';

const model = mlpModel({ seed: 5, inputs: 12, hidden: 16, classes: 4 });
const N = 40;
const { x, labels } = selfLabeledData(model, 11, N);
afterAll(() => tf.dispose([x, labels]));

/** Sign steps of ε/8 from a seeded random start, through `ctx.iterate` (each step: one gradient, 2 passes). */
const signSteps = defineAttack({
  meta: { name: 'test-sign-steps', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted', 'targeted'], randomized: true },
  options: { steps: option.integer(30, 'steps') },
  perturb: async (ctx) => {
    const start = tf.tidy(() => ctx.project(tf.add(ctx.x, ctx.rng.uniform(ctx.x.shape, -ctx.epsilon, ctx.epsilon))));
    const end = await ctx.iterate({ x: start }, ctx.options.steps, (s, _i, rows) => {
      const { logits, grad } = rows.gradient(s.x);
      return {
        x: rows.project(tf.add(s.x, tf.mul(tf.sign(grad), ctx.epsilon / 8))),
        adversarial: tf.notEqual(tf.argMax(logits, 1), rows.goal.classes) as tf.Tensor1D,
      };
    });
    return end.x;
  },
});

/** Steps that the last run of `ownLoop` took. */
let loopSteps = 0;

/** The same steps in a loop of its own (no `ctx.iterate`), checking abort and budget at `checkpoint`. */
const ownLoop = defineAttack({
  meta: { name: 'test-own-loop', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted'], randomized: false },
  options: { steps: option.integer(50, 'steps') },
  perturb: async (ctx) => {
    let xAdv = tf.clone(ctx.x);
    loopSteps = 0;
    try {
      for (let k = 0; k < ctx.options.steps; k++) {
        await ctx.checkpoint(k, ctx.options.steps);
        const cur = xAdv;
        xAdv = tf.tidy(() => ctx.project(tf.add(cur, tf.mul(tf.sign(ctx.gradient(cur).grad), ctx.epsilon / 8))));
        cur.dispose();
        loopSteps += 1;
      }
    } catch (err) {
      xAdv.dispose();
      throw err;
    }
    return xAdv;
  },
});

async function values(r: AttackResult): Promise<Float32Array> {
  return (await r.clipped[0]!.data()) as Float32Array;
}

function fooled(r: AttackResult): number[] {
  return r.success[0]!.flatMap((s, i) => (s ? [i] : []));
}

describe('per-sample passes', () => {
  it('charges each sample the rows it sent through the model; their sum is the run total', async () => {
    const r = await signSteps({ steps: 12 }).run(model, x, { labels }, { epsilons: [0.02, 0.05], seed: 1 });
    const per = Array.from(r.samplePasses!);
    expect(per.reduce((a, b) => a + b, 0)).toBe(r.passes!.forward + r.passes!.backward);
    // A sample never fooled runs every step at both epsilons: 12 gradients × 2 passes × 2 epsilons.
    expect(Math.max(...per)).toBe(48);
    r.dispose();
    // Alone, each sample pays only for its own steps: never more than in the batch, and an even count (gradients only).
    // (The first 12 samples: per-sample streams make a sample's run independent of the others.)
    const [x12, labels12] = [tf.slice(x, 0, 12), tf.slice(labels, 0, 12)];
    const alone = await signSteps({ steps: 12 }).run(model, x12, { labels: labels12 }, { epsilons: [0.02, 0.05], seed: 1, batchSize: 1 });
    tf.dispose([x12, labels12]);
    const single = Array.from(alone.samplePasses!);
    alone.dispose();
    single.forEach((p, i) => {
      expect(p % 2).toBe(0);
      expect(p).toBeLessThanOrEqual(per[i]!);
    });
    expect(single.some((p, i) => p < per[i]!)).toBe(true);
  });

  it('a call of the white-box model on rows it cannot attribute throws INVALID_SHAPE before the model runs; whiteBox(rows) attributes them', async () => {
    const firstRow = (own: boolean) =>
      defineAttack({
        meta: { name: 'test-first-row', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted'], randomized: false },
        options: {},
        perturb: (ctx) => {
          tf.tidy(() => {
            (own ? ctx.whiteBox(Int32Array.of(0)) : ctx.whiteBox()).logits(tf.slice(ctx.x, 0, 1));
          });
          return ctx.x;
        },
      });
    const before = tf.memory().numTensors;
    const err = await firstRow(false)()
      .run(model, x, { labels }, { epsilons: [0.1], batchSize: 8 })
      .catch((e: unknown) => e);
    expect(isAdvxError(err, 'INVALID_SHAPE')).toBe(true);
    expect((err as Error).message).toMatch(/called on 1 rows in a context of 8.*whiteBox\(rows\)/);
    expect(tf.memory().numTensors).toBe(before);
    const r = await firstRow(true)().run(model, x, { labels }, { epsilons: [0.1], batchSize: 8 });
    // Row 0 of each batch of 8: samples 0, 8, 16, 24, 32.
    expect(Array.from(r.samplePasses!, (p, i) => (p ? i : -1)).filter((i) => i >= 0)).toEqual([0, 8, 16, 24, 32]);
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('maxPasses, the per-sample pass budget', () => {
  it('a budget of 2T passes gives an iterative attack bit for bit its T-step result, with and without early stop', async () => {
    for (const earlyStop of [true, false]) {
      const free = await signSteps({ steps: 5, earlyStop }).run(model, x, { labels }, { epsilons: [0.15], seed: 2 });
      const budget = await signSteps({ steps: 30, earlyStop }).run(model, x, { labels }, { epsilons: [0.15], seed: 2, maxPasses: 10 });
      expect(await values(budget)).toEqual(await values(free));
      expect(budget.success).toEqual(free.success);
      expect(Array.from(budget.samplePasses!)).toEqual(Array.from(free.samplePasses!));
      expect(Math.max(...budget.samplePasses!)).toBe(10);
      // Every sample still running after 5 steps used its whole budget.
      expect(budget.budget).toEqual({ maxPasses: 10, exhausted: [Array.from(budget.samplePasses!).filter((p) => p === 10).length] });
      tf.dispose([free, budget].flatMap((r) => [r.raw, ...r.clipped]));
    }
  });

  it('a sample over its budget returns the best adversarial its budget paid for: budget 2T+1 fools what T−1 steps fool', async () => {
    const run = (steps: number, maxPasses?: number) =>
      signSteps({ steps }).run(model, x, { labels }, { epsilons: [0.1], seed: 4, ...(maxPasses ? { maxPasses } : {}) });
    const before = tf.memory().numTensors;
    for (const T of [2, 4]) {
      const [lower, odd, upper] = [await run(T - 1), await run(30, 2 * T + 1), await run(T)];
      // Paid for: the gradients at x⁰ … x^(T−1) (2T passes); the one at x^T (2T + 2) is not.
      expect(fooled(odd)).toEqual(fooled(lower));
      expect(fooled(upper).length).toBeGreaterThan(fooled(lower).length);
      // The step that went over the budget was computed (2T + 2 passes) but its point is not used.
      expect(Math.max(...odd.samplePasses!)).toBe(2 * T + 2);
      const d = tf.tidy(() => tf.max(tf.abs(tf.sub(odd.clipped[0]!, x))));
      expect((await d.data())[0]).toBeLessThanOrEqual(0.1 + 1e-6);
      d.dispose();
      [lower, odd, upper].forEach((r) => r.dispose());
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an attack with a loop of its own stops at the first checkpoint where every running sample spent its budget', async () => {
    const before = tf.memory().numTensors;
    const budget = await ownLoop({ steps: 50 }).run(model, x, { labels }, { epsilons: [0.2], maxPasses: 6 });
    expect(loopSteps).toBe(3);
    expect(Array.from(budget.samplePasses!)).toEqual(new Array(N).fill(6));
    expect(budget.budget).toEqual({ maxPasses: 6, exhausted: [N] });
    // Stopped, it returns an adversarial among the points it queried (x⁰ = x, x¹, x²), never x³.
    const [one, two] = [
      await ownLoop({ steps: 1 }).run(model, x, { labels }, { epsilons: [0.2] }),
      await ownLoop({ steps: 2 }).run(model, x, { labels }, { epsilons: [0.2] }),
    ];
    expect(fooled(budget)).toEqual([...new Set([...fooled(one), ...fooled(two)])].sort((a, b) => a - b));
    [budget, one, two].forEach((r) => r.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a score-based attack on a white-box model: its queries are passes, and the budget stops it', async () => {
    const before = tf.memory().numTensors;
    const free = await randomSearch({ steps: 4 }).run(model, x, { labels }, { epsilons: [0.3] });
    expect(Array.from(free.samplePasses!)).toEqual(Array.from(free.queries!));
    const budget = await randomSearch({ steps: 40 }).run(model, x, { labels }, { epsilons: [0.3], maxPasses: 4 });
    expect(Array.from(budget.queries!)).toEqual(new Array(N).fill(4));
    // Four candidates paid for, the same four as the 4-step run: here, the same successes.
    expect(budget.success).toEqual(free.success);
    [free, budget].forEach((r) => r.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a budget that is not a positive integer, or on a query model, with INVALID_OPTION before any work', async () => {
    const before = tf.memory().numTensors;
    for (const maxPasses of [0, -2, 1.5, NaN]) {
      const err = await gradientSign()
        .run(model, x, { labels }, { epsilons: [0.1], maxPasses })
        .catch((e: unknown) => e);
      expect(isAdvxError(err, 'INVALID_OPTION')).toBe(true);
      expect((err as Error).message).toMatch(/maxPasses must be a positive integer/);
    }
    const q = toQueryModel(model, { output: 'scores' });
    const err = await gradientSign()
      .run(q, x, { labels }, { epsilons: [0.1], maxPasses: 10 })
      .catch((e: unknown) => e);
    expect(isAdvxError(err)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});
