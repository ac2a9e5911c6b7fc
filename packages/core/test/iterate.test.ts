/**
 * `ctx.iterate` prunes the rows that are done: the state shrinks to the rows still running, `step`
 * gets their context, and the result is bit for bit that of a loop over every row (here: of rows run
 * one at a time, which never prune).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { defineAttack, option, gatherRows, isAdvxError, scatterRows, type AttackResult, type IterationState } from '../src/index.js';
import { mlpModel, selfLabeledData } from '../src/testing/index.js';

const model = mlpModel({ seed: 5, inputs: 12, hidden: 16, classes: 4 });
const N = 40;
const { x, labels } = selfLabeledData(model, 11, N);
afterAll(() => tf.dispose([x, labels]));

/** Rows (`rows.n`) that each step of the last run saw. */
let seen: number[] = [];

/**
 * PGD with a random start and a fresh random point every `restartEvery` steps: it draws from the
 * per-sample streams inside the loop, so a wrong subset of streams changes the numbers.
 */
const toyPgd = defineAttack({
  meta: { name: 'toy-pgd', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted', 'targeted'], randomized: true },
  options: { steps: option.integer(30, 'steps'), restartEvery: option.integer(10, 'restartEvery') },
  perturb: async (ctx) => {
    const { steps, restartEvery } = ctx.options;
    const start = (c: typeof ctx) => tf.tidy(() => c.project(tf.add(c.x, c.rng.uniform(c.x.shape, -c.epsilon, c.epsilon))));
    seen = [];
    const end = await ctx.iterate({ x: start(ctx), count: tf.scalar(0) } as IterationState, steps, (s, i, rows) => {
      seen.push(rows.n);
      expect(s.x.shape[0]).toBe(rows.n);
      const from = i > 0 && i % restartEvery === 0 ? start(rows) : s.x;
      const { logits, grad } = rows.gradient(from);
      const next = rows.project(tf.add(from, tf.mul(tf.sign(grad), ctx.epsilon / 8)));
      const adversarial = i > 0 && i % restartEvery === 0 ? rows.isAdversarial(s.x) : tf.notEqual(tf.argMax(logits, 1), rows.goal.classes);
      return { x: next, count: tf.add(s.count as tf.Tensor, 1), adversarial: adversarial as tf.Tensor1D };
    });
    (end.count as tf.Tensor).dispose();
    return end.x;
  },
});

async function rowsOf(r: AttackResult): Promise<Float32Array> {
  return (await r.clipped[0]!.data()) as Float32Array;
}

describe('ctx.iterate prunes finished rows', () => {
  it('gives bit for bit the result of rows run one at a time, with at most 4/3 of their backward passes', async () => {
    const before = tf.memory().numTensors;
    const batch = await toyPgd().run(model, x, { labels }, { epsilons: [0.12], seed: 3 });
    const sizes = [...seen];
    const single = await toyPgd().run(model, x, { labels }, { epsilons: [0.12], seed: 3, batchSize: 1 });
    const odd = await toyPgd().run(model, x, { labels }, { epsilons: [0.12], seed: 3, batchSize: 7 });
    const [a, b, c] = await Promise.all([rowsOf(batch), rowsOf(single), rowsOf(odd)]);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).toBe(true);
    expect(batch.success[0]).toEqual(single.success[0]);
    // Rows finish at different steps (some never): the state shrank, on the geometric schedule.
    const succeeded = batch.success[0]!.filter(Boolean).length;
    expect(succeeded).toBeGreaterThan(N / 4);
    expect(succeeded).toBeLessThan(N);
    expect(sizes[0]).toBe(N);
    expect(new Set(sizes).size).toBeGreaterThan(2);
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeLessThanOrEqual(sizes[i - 1]!);
    // Each backward pass of a batch row a row alone would have done too, or one of at most a third more.
    const [pb, ps] = [batch.passes!.backward, single.passes!.backward];
    expect(pb).toBeGreaterThanOrEqual(ps);
    expect(pb).toBeLessThanOrEqual((4 / 3) * ps + N);
    expect(pb).toBeLessThan(0.8 * N * 30);
    [batch, single, odd].forEach((r) => r.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does not prune without early stop: every row takes every step', async () => {
    const r = await toyPgd({ earlyStop: false }).run(model, x, { labels }, { epsilons: [0.12], seed: 3 });
    expect(new Set(seen)).toEqual(new Set([N]));
    expect(r.passes!.backward).toBe(N * 30);
    r.dispose();
  });

  it('releases everything when aborted after the state shrank', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let caught: unknown;
    try {
      await toyPgd({ steps: 200, restartEvery: 1000 }).run(
        model,
        x,
        { labels },
        {
          epsilons: [0.12],
          seed: 3,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.step === 12) controller.abort();
          },
        },
      );
    } catch (e) {
      caught = e;
    }
    expect(isAdvxError(caught, 'ABORTED')).toBe(true);
    expect(Math.min(...seen)).toBeLessThan(N);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('ctx.subset', () => {
  const probe = defineAttack({
    meta: { name: 'subset-probe', kind: 'fixed-epsilon', norms: ['linf'], threat: 'score', goals: ['untargeted'], randomized: false },
    options: {},
    perturb: async (ctx) => {
      const sub = ctx.subset(Int32Array.of(1, 3));
      const inner = sub.subset(Int32Array.of(1));
      try {
        expect(sub.n).toBe(2);
        expect(Array.from(await sub.goal.classes.data())).toEqual([ctx.goal.classes.arraySync()[1], ctx.goal.classes.arraySync()[3]]);
        const row3 = gatherRows(ctx.x, Int32Array.of(3));
        expect(Array.from(await inner.x.data())).toEqual(Array.from(await row3.data()));
        row3.dispose();
        // The subset's streams are the rows' own: a draw there is the draw row 3 makes in the whole batch.
        const whole = ctx.rng.select(Int32Array.of(3)).uniforms()[0];
        expect(whole).toBeGreaterThanOrEqual(0);
        (await sub.query(sub.x)).dispose();
        (await inner.query(inner.x)).dispose();
        expect(() => ctx.subset(Int32Array.of(2, 1))).toThrow(/ascending/);
      } finally {
        inner.dispose();
        sub.dispose();
      }
      return tf.clone(ctx.x);
    },
  });

  it('covers its rows, shares their streams and counts queries against the original samples', async () => {
    const before = tf.memory().numTensors;
    const xs = tf.slice(x, 0, 5);
    const ys = tf.slice(labels, 0, 5);
    const r = await probe().run(model, xs, { labels: ys }, { epsilons: [0.1] });
    // A white-box model's own predictions are passes, not queries: only the subsets' queries count, of
    // rows 1 and 3, and 3 again.
    expect(Array.from(r.queries!)).toEqual([0, 1, 0, 2, 0]);
    r.dispose();
    tf.dispose([xs, ys]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('scatterRows puts gathered rows back exactly', () => {
    const t = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const part = tf.tensor2d([[9, 9]]);
    const out = scatterRows(t, part, Int32Array.of(1));
    expect(out.arraySync()).toEqual([
      [1, 2],
      [9, 9],
      [5, 6],
    ]);
    tf.dispose([t, part, out]);
  });
});
