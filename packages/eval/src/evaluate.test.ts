import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { bim, deepfool, fgsm, pgd, universal } from '@advx/attacks';
import { deriveSeed, isAdvxError, predictClasses, Rng, type AdvxErrorCode, type Attack } from '@advx/core';
import { linearModel, mlpModel, selfLabeledData } from '@advx/core/testing';

import { evaluate } from './evaluate.js';
import { memoryStateStore } from './memory-state-store.js';
import { mergeResults } from './merge-results.js';
import type { EvaluateOptions, EvaluationResult } from './types.js';

/** z0 − z1 = 2(x1 − x2): class 0 ⇔ x1 > x2; ‖w0 − w1‖₂ = 2√2. */
const linear = linearModel({
  weights: [
    [1, -1],
    [-1, 1],
  ],
});
const N = 40;
const rng = new Rng(11);
const rowsX = Array.from({ length: N }, () => [0.35 + 0.3 * rng.uniform(), 0.35 + 0.3 * rng.uniform()] as [number, number]);
const flipped = new Set([3, 17, 30]);
const rowsY = rowsX.map(([a, b], i) => ((a > b ? 0 : 1) + (flipped.has(i) ? 1 : 0)) % 2);
const x = tf.tensor2d(rowsX);
const labels = tf.tensor1d(rowsY, 'int32');
const data = { x, labels, name: 'two-pixel' };

const mlp = mlpModel({ seed: 4, inputs: 16, hidden: 12, classes: 4 });
const mlpData = selfLabeledData(mlp, 5, 20);

afterAll(() => tf.dispose([x, labels, mlpData.x, mlpData.labels]));

/** The result without wall times, which differ between runs. */
function timeless(r: EvaluationResult): unknown {
  return { ...r, attacks: r.attacks.map((a) => ({ ...a, timeMs: 0 })) };
}

async function expectCode(code: AdvxErrorCode, fn: () => Promise<unknown>): Promise<string> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(isAdvxError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
  return (caught as Error).message;
}

describe('evaluate on a linear model (closed form)', () => {
  it('clean accuracy, FGSM robust accuracy |x1 − x2| > 2ε, DeepFool minimal L2 perturbation 1.02·|x1 − x2|/√2 and its curve', async () => {
    const epsilons = [0.02, 0.05, 0.1];
    const before = tf.memory().numTensors;
    const r = await evaluate({ model: linear, data, attacks: [fgsm()], epsilons, batchSize: 16, diagnostics: false });
    expect(tf.memory().numTensors).toBe(before);
    const correct = rowsX.map(([a, b], i) => (a > b ? 0 : 1) === rowsY[i]);
    expect(r.n).toBe(N);
    expect(r.cleanAccuracy).toBeCloseTo((N - flipped.size) / N, 10);
    epsilons.forEach((eps, e) => {
      const expected = rowsX.filter(([a, b], i) => correct[i] && Math.abs(a - b) > 2 * eps).length / N;
      expect(r.attacks[0]!.perEpsilon[e]!.robustAccuracy).toBeCloseTo(expected, 10);
      expect(r.attacks[0]!.perEpsilon[e]!.attacked).toBe(N - flipped.size);
      // Every successful FGSM perturbation has Linf norm exactly ε (no clipping inside [0.2, 0.8]).
      expect(r.attacks[0]!.perEpsilon[e]!.medianPerturbation).toBeCloseTo(eps, 5);
      expect(r.ensemble[e]!.robustAccuracy).toBeCloseTo(expected, 10);
    });

    const l2 = await evaluate({ model: linear, data, attacks: [deepfool()], epsilons: [0.05, 0.1], norm: 'l2', diagnostics: false });
    const df = l2.attacks[0]!;
    const minimal = rowsX.map(([a, b]) => (1.02 * Math.abs(a - b)) / Math.SQRT2);
    l2.samples.forEach((s, i) => {
      if (correct[i]) expect(s.attacks[0]!.distance!).toBeCloseTo(minimal[i]!, 3);
      else expect(s.attacks[0]!.distance).toBeNull();
    });
    const ratios = rowsX.map(([a, b], i) => (correct[i] ? (minimal[i] as number) / Math.hypot(a, b) : NaN)).filter((v) => !Number.isNaN(v));
    expect(df.empiricalRobustness!).toBeCloseTo(ratios.reduce((s, v) => s + v, 0) / ratios.length, 3);
    // The curve from one run: at every ε, the samples whose minimal perturbation exceeds ε.
    for (const eps of [0, 0.01, 0.03, 0.07, 0.2]) {
      const point = [...df.curve!].reverse().find((p) => p.epsilon <= eps)!;
      const expected = minimal.filter((m, i) => correct[i] && m > eps + 1e-6).length / N;
      expect(point.robustAccuracy).toBeCloseTo(expected, 10);
    }
    expect(df.curve![0]).toMatchObject({ epsilon: 0, robustAccuracy: r.cleanAccuracy });
  });
});

describe('ensembles', () => {
  it('independent: the ensemble is the per-sample worst case of attacks run directly', async () => {
    const epsilons = [0.05, 0.1, 0.2];
    const r = await evaluate({ model: mlp, data: mlpData, attacks: [fgsm(), bim({ steps: 5, stepSize: 0.03 })], epsilons, diagnostics: false });
    const f = await fgsm().run(mlp, mlpData.x, { labels: mlpData.labels }, { epsilons });
    const b = await bim({ steps: 5, stepSize: 0.03 }).run(mlp, mlpData.x, { labels: mlpData.labels }, { epsilons });
    epsilons.forEach((_, e) => {
      const robust = f.success[e]!.filter((s, i) => !s && !b.success[e]![i]).length / 20;
      expect(r.ensemble[e]!.robustAccuracy).toBeCloseTo(robust, 10);
      expect(r.attacks[0]!.perEpsilon[e]!.robustAccuracy).toBeCloseTo(f.success[e]!.filter((s) => !s).length / 20, 10);
      expect(r.ensemble[e]!.robustAccuracy).toBeLessThanOrEqual(Math.min(...r.attacks.map((a) => a.perEpsilon[e]!.robustAccuracy)));
    });
    f.dispose();
    b.dispose();
  });

  it('sequential: each attack runs only on the samples still robust after the previous ones', async () => {
    const epsilons = [0.05, 0.15];
    const calls: { attack: string; n: number; epsilons: readonly number[] }[] = [];
    const spy = (inner: Attack): Attack => ({
      meta: inner.meta,
      options: inner.options,
      run: (m, xs, goal, o) => {
        calls.push({ attack: inner.meta.name, n: xs.shape[0], epsilons: o?.epsilons ?? [] });
        return inner.run(m, xs, goal, o);
      },
    });
    const seq = await evaluate({
      model: mlp,
      data: mlpData,
      attacks: [spy(fgsm()), spy(bim({ steps: 5, stepSize: 0.03 }))],
      epsilons,
      mode: 'sequential',
      diagnostics: false,
    });
    const ind = await evaluate({ model: mlp, data: mlpData, attacks: [fgsm(), bim({ steps: 5, stepSize: 0.03 })], epsilons, diagnostics: false });
    const f = await fgsm().run(mlp, mlpData.x, { labels: mlpData.labels }, { epsilons });
    epsilons.forEach((eps, e) => {
      const robustAfterFgsm = f.success[e]!.filter((s) => !s).length;
      expect(calls.find((c) => c.attack === 'fgsm' && c.epsilons[0] === eps)!.n).toBe(20);
      const second = calls.find((c) => c.attack === 'bim' && c.epsilons[0] === eps);
      if (robustAfterFgsm === 0) expect(second).toBeUndefined();
      else expect(second!.n).toBe(robustAfterFgsm);
      // AutoAttack reports robust accuracy after each attack: the first one's alone, then the cumulative one.
      expect(seq.attacks[0]!.perEpsilon[e]!.robustAccuracy).toBeCloseTo(robustAfterFgsm / 20, 10);
      // Deterministic attacks: "still robust after all" equals "fooled by none".
      expect(seq.ensemble[e]!.robustAccuracy).toBeCloseTo(ind.ensemble[e]!.robustAccuracy, 10);
      expect(seq.attacks[1]!.perEpsilon[e]!.robustAccuracy).toBeCloseTo(seq.ensemble[e]!.robustAccuracy, 10);
    });
    expect(calls.length).toBeGreaterThan(2);
    f.dispose();
  });
});

describe('shards and resume', () => {
  const base = (): EvaluateOptions => ({
    model: mlp,
    data: mlpData,
    attacks: [fgsm(), pgd({ steps: 5 })],
    epsilons: [0.05, 0.15],
    batchSize: 4,
    seed: 3,
    examples: 2,
    diagnostics: { probeSamples: 8 },
  });

  it('mergeResults of 3 shards equals a single run (randomized PGD included)', async () => {
    const single = await evaluate(base());
    const shards: EvaluationResult[] = [];
    for (const index of [2, 0, 1]) shards.push(await evaluate({ ...base(), shard: { index, count: 3 } }));
    expect(shards.map((s) => s.range)).toEqual([
      [12, 20],
      [0, 4],
      [4, 12],
    ]);
    expect(shards.reduce((s, r) => s + r.n, 0)).toBe(20);
    expect(timeless(mergeResults(shards))).toEqual(timeless(single));
    // Model passes are counted and summed over chunks and shards: FGSM takes one gradient per sample and ε.
    expect(single.attacks[0]!.passes).toEqual({ forward: 2 * 20, backward: 2 * 20 });
    expect(single.attacks[1]!.passes!.backward).toBeGreaterThan(2 * 20);
    expect(mergeResults(shards).attacks.map((a) => a.passes)).toEqual(single.attacks.map((a) => a.passes));
    expect(() => mergeResults(shards.slice(0, 2))).toThrow(/shard 2\/3 missing/);
    expect(() => mergeResults([shards[0]!, shards[0]!])).toThrow(/given twice/);
    expect(() => mergeResults([single, { ...single, config: { ...single.config, seed: 4 } }])).toThrow(/different evaluation/);
  });

  it('maxPasses: a budget of 2T passes per sample and ε gives PGD its T-step figures, is recorded in the config and checked first', async () => {
    const epsilons = [0.05, 0.1];
    const run = (steps: number, maxPasses?: number) =>
      evaluate({
        model: mlp,
        data: mlpData,
        attacks: [pgd({ steps })],
        epsilons,
        batchSize: 8,
        diagnostics: false,
        ...(maxPasses !== undefined ? { maxPasses } : {}),
      });
    const [budget, five] = [await run(40, 10), await run(5)];
    expect(budget.config.maxPasses).toBe(10);
    expect(five.config.maxPasses).toBeUndefined();
    expect(budget.attacks[0]!.perEpsilon).toEqual(five.attacks[0]!.perEpsilon);
    expect(budget.attacks[0]!.passes).toEqual(five.attacks[0]!.passes);
    // At most 5 gradients per sample and ε.
    expect(budget.attacks[0]!.passes!.backward).toBeLessThanOrEqual(5 * 20 * epsilons.length);
    for (const bad of [0, 2.5, -1]) await expectCode('INVALID_OPTION', () => run(40, bad));
  });

  it('a dataset-level attack (universal-perturbation) is fitted on each chunk, runs without the per-sample budget, and gives its direct run per chunk', async () => {
    const epsilons = [0.1, 0.3];
    const attack = universal({ method: 'gradient', epochs: 2 });
    const r = await evaluate({ model: mlp, data: mlpData, attacks: [attack], epsilons, batchSize: 10, diagnostics: false, maxPasses: 10, seed: 3 });
    expect(r.config.maxPasses).toBe(10);
    const n = mlpData.x.shape[0];
    let fooled = epsilons.map(() => 0);
    for (let start = 0, chunk = 0; start < n; start += 10, chunk++) {
      const x = tf.slice(mlpData.x, start, Math.min(10, n - start));
      const labels = tf.slice(mlpData.labels, start, Math.min(10, n - start));
      const pred = await predictClasses(mlp, x);
      const labelValues = await labels.data();
      const correct = Int32Array.from(pred.keys()).filter((i) => pred[i] === labelValues[i]);
      if (correct.length > 0) {
        const xs = tf.gather(x, correct);
        const ys = tf.gather(labels, correct);
        const direct = await attack.run(mlp, xs, { labels: ys }, { epsilons, seed: deriveSeed(3, chunk, 0), batchSize: 10 });
        fooled = fooled.map((f, e) => f + direct.success[e]!.filter(Boolean).length);
        direct.dispose();
        tf.dispose([xs, ys]);
      }
      tf.dispose([x, labels]);
    }
    expect(fooled[1]).toBeGreaterThan(0);
    const clean = r.cleanAccuracy * n;
    expect(r.attacks[0]!.perEpsilon.map((p) => Math.round(p.robustAccuracy * n))).toEqual(fooled.map((f) => Math.round(clean) - f));
  });

  it('an aborted run resumed from its state gives the uninterrupted result, without redoing saved chunks', async () => {
    const uninterrupted = await evaluate(base());
    const state = memoryStateStore();
    const controller = new AbortController();
    await expectCode('ABORTED', () =>
      evaluate({ ...base(), state, signal: controller.signal, onProgress: (p) => (p.phase === 'attacks' && p.chunk === 2 ? controller.abort() : undefined) }),
    );
    expect(Object.keys(state.saved!.chunks).sort()).toEqual(['0', '1']);
    let resumedChunks = -1;
    const resumed = await evaluate({ ...base(), state, onProgress: (p) => (resumedChunks = p.resumedChunks) });
    expect(resumedChunks).toBe(2);
    expect(timeless(resumed)).toEqual(timeless(uninterrupted));
    const message = await expectCode('INVALID_OPTION', () => evaluate({ ...base(), seed: 9, state }));
    expect(message).toMatch(/another evaluation/);
  });
});

describe('bad input fails before any work, leaking nothing', () => {
  const ok = { model: mlp, data: mlpData, attacks: [fgsm()], epsilons: [0.1], diagnostics: false } as const;
  it.each([
    ['UNKNOWN_NAME', { attacks: [{ name: 'no-such-attack' }] }, /No attack named 'no-such-attack'/],
    ['INVALID_OPTION', { attacks: [{ name: 'pgd', options: { stepz: 3 } }] }, /unknown option 'stepz'/],
    ['INVALID_EPSILON', { epsilons: [0.1, -0.2] }, /epsilons\[1\] = -0.2/],
    ['UNSUPPORTED_NORM', { attacks: [{ name: 'bim' }], norm: 'l1' }, /bim is defined for linf, l2, not 'l1'/],
    ['INVALID_SHAPE', { data: { x: tf.zeros([3, 15]), labels: tf.tensor1d([0, 1, 2], 'int32') } }, /expects \[n, 16\]/],
    ['BATCH_MISMATCH', { data: { x: tf.zeros([3, 16]), labels: tf.tensor1d([0, 1], 'int32') } }, /labels has 2 entries but x has 3/],
    ['INVALID_OPTION', { shard: { index: 3, count: 3 } }, /shard.index/],
    ['INVALID_OPTION', { mode: 'parallel' }, /mode must be/],
  ] as const)('%s: %j', async (code, patch, pattern) => {
    const message = await expectCode(code, () => evaluate({ ...ok, ...(patch as Partial<EvaluateOptions>) }));
    expect(message).toMatch(pattern);
  });
});
