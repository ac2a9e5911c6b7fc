import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { fromFunction, Rng } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { argmax, errorCode, fourClassLinear, maxDiff, median, reluNet, runnerUp as runnerUpOf, uniformRows } from '../test/fixtures.js';

import { fab, fabProjection, fabT } from './fab.js';

// The linear fixture: six points whose minimal perturbations stay inside the bounds (checked below:
// `interior`), so that the closed forms apply (`toClass`, `exactDistance`: see ../test/fixtures.ts).
const {
  weights: W,
  xs: xsLinear,
  model: linear,
  x: xLinear,
  labels: labelsLinear,
  logits: logitsOf,
  toClass,
  exactDistance,
  inside: interior,
} = fourClassLinear;

const { model: net, x: xNet, labels: labelsNet } = reluNet;

afterAll(() => tf.dispose([xNet, labelsNet]));

/**
 * Reference box-constrained projection in float64: the smallest δ (l2, linf: by bisection on the
 * multiplier λ of δ_j = −sign(w_j)·min(λ·s_j, room_j); l1: the greedy knapsack) with ⟨w, t + δ⟩ = b,
 * 0 ≤ t + δ ≤ 1; `null` where the hyperplane is out of the box's reach.
 */
function referenceProjection(t: number[], w: number[], b: number, norm: 'l2' | 'linf' | 'l1'): number[] | null {
  const gap = w.reduce((s, v, j) => s + v * (t[j] as number), 0) - b;
  const o = gap >= 0 ? 1 : -1;
  const c = Math.abs(gap);
  const room = w.map((v, j) => (v * o > 0 ? (t[j] as number) : 1 - (t[j] as number)));
  const dir = w.map((v) => -Math.sign(v * o));
  const full = w.reduce((s, v, j) => s + Math.abs(v) * (room[j] as number), 0);
  if (full < c) return null;
  if (norm === 'l1') {
    const order = w.map((_, j) => j).sort((p, q) => Math.abs(w[q] as number) - Math.abs(w[p] as number));
    const amount = new Array<number>(w.length).fill(0);
    let left = c;
    for (const j of order) {
      const a = Math.abs(w[j] as number);
      if (a === 0 || left <= 0) break;
      amount[j] = Math.min(room[j] as number, left / a);
      left -= (amount[j] as number) * a;
    }
    return amount.map((v, j) => v * (dir[j] as number));
  }
  const s = w.map((v) => (norm === 'l2' ? Math.abs(v) : 1));
  const gain = (lam: number) => w.reduce((acc, v, j) => acc + Math.abs(v) * Math.min(lam * (s[j] as number), room[j] as number), 0);
  let lo = 0;
  let hi = 1;
  while (gain(hi) < c) hi *= 2;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (gain(mid) < c) lo = mid;
    else hi = mid;
  }
  return w.map((_, j) => (dir[j] as number) * Math.min(hi * (s[j] as number), room[j] as number));
}

describe('fabProjection', () => {
  for (const norm of ['l2', 'linf', 'l1'] as const) {
    it(`${norm}: equals the float64 reference on random hyperplanes (box binding or not, some coordinates with w = 0)`, async () => {
      const rng = new Rng(3);
      const m = 12;
      const d = 20;
      const ts = uniformRows(5, m, d);
      const ws = Array.from({ length: m }, (_, i) => Array.from({ length: d }, (_, j) => (j % 7 === i % 7 ? 0 : rng.normal())));
      // Right-hand sides from barely off the point to far beyond what the box can reach.
      const bs = ts.map((row, i) => {
        const wt = (ws[i] as number[]).reduce((s, v, j) => s + v * (row[j] as number), 0);
        return wt + (i % 2 === 0 ? 1 : -1) * 0.4 * (i + 1) ** 1.5;
      });
      const t = tf.tensor2d(ts);
      const w = tf.tensor2d(ws);
      const b = tf.tensor1d(bs);
      const delta = fabProjection(t, w, b, [0, 1], norm);
      const got = (await delta.array()) as number[][];
      let reachable = 0;
      got.forEach((row, i) => {
        const ref = referenceProjection(ts[i] as number[], ws[i] as number[], bs[i] as number, norm);
        const moved = row.map((v, j) => v + (ts[i] as number[])[j]!);
        moved.forEach((v) => expect(v).toBeGreaterThanOrEqual(-1e-6));
        moved.forEach((v) => expect(v).toBeLessThanOrEqual(1 + 1e-6));
        if (ref === null) {
          // Out of reach: every coordinate with w ≠ 0 at the bound that lowers the gap most.
          row.forEach((v, j) => {
            const wj = (ws[i] as number[])[j] as number;
            const tj = (ts[i] as number[])[j] as number;
            const gapSign = Math.sign((ws[i] as number[]).reduce((s, q, l) => s + q * (ts[i] as number[])[l]!, 0) - (bs[i] as number));
            const target = wj === 0 ? tj : wj * gapSign > 0 ? 0 : 1;
            expect(v + tj).toBeCloseTo(target, 5);
          });
          return;
        }
        reachable++;
        row.forEach((v, j) => expect(v).toBeCloseTo(ref[j] as number, 4));
        const onPlane = moved.reduce((s, v, j) => s + v * (ws[i] as number[])[j]!, 0);
        expect(Math.abs(onPlane - (bs[i] as number))).toBeLessThan(1e-4 * (1 + Math.abs(bs[i] as number)));
      });
      // Both regimes occur: reachable hyperplanes and ones out of the box's reach.
      expect(reachable).toBeGreaterThan(3);
      expect(reachable).toBeLessThan(m);
      tf.dispose([t, w, b, delta]);
    });
  }
});

describe('fab', () => {
  it('the closed forms of the linear fixture apply: the minimal l2 and linf perturbations, overshot by η, stay inside the bounds', () => {
    xsLinear.forEach((row) => {
      const y = argmax(logitsOf(row));
      W.forEach((_, k) => {
        if (k === y) return;
        expect(interior(row, k, 'l2', 1.05)).toBe(true);
        expect(interior(row, k, 'linf', 1.05)).toBe(true);
      });
    });
  });

  for (const norm of ['l2', 'linf', 'l1'] as const) {
    it(`${norm}: passes the conformance suite on a linear model`, async () => {
      const epsilons = { l2: [0.05, 0.15, 1], linf: [0.02, 0.06, 0.3], l1: [0.1, 0.3, 2] }[norm];
      assertConformance(await checkAttack(fab({ norm, steps: 10 }), { model: linear, x: xLinear, labels: labelsLinear, epsilons, minSuccess: 1 }));
    });

    it(`${norm}: on a linear model one step lands at η = 1.05 times the exact minimal distance, two steps within 1 % (never below)`, async () => {
      const one = await fab({ norm, steps: 1 }).run(linear, xLinear, { labels: labelsLinear });
      const two = await fab({ norm, steps: 2 }).run(linear, xLinear, { labels: labelsLinear });
      xsLinear.forEach((row, i) => {
        const exact = exactDistance(row, norm);
        // The closest boundary is not always the runner-up's (l2: row 4), FAB finds it anyway.
        if (norm !== 'l1') expect(one.distances[i]).toBeCloseTo(1.05 * exact, 4);
        expect(two.distances[i]).toBeGreaterThanOrEqual(exact * (1 - 1e-5));
        expect(two.distances[i]).toBeLessThanOrEqual(exact * 1.01);
      });
      one.dispose();
      two.dispose();
    });
  }

  it('passes the conformance suite on a ReLU network (linf and l2, with restarts)', async () => {
    assertConformance(
      await checkAttack(fab({ steps: 20, restarts: 2 }), { model: net, x: xNet, labels: labelsNet, epsilons: [0.02, 0.1, 0.5], minSuccess: 1 }),
    );
    assertConformance(await checkAttack(fab({ norm: 'l2', steps: 20 }), { model: net, x: xNet, labels: labelsNet, epsilons: [0.05, 0.3, 2], minSuccess: 1 }));
  });

  it('a batch equals its rows run alone, for every norm, on a ReLU network', async () => {
    for (const norm of ['linf', 'l2', 'l1'] as const) {
      const attack = fab({ norm, steps: 10 });
      const all = await attack.run(net, xNet, { labels: labelsNet });
      for (let i = 0; i < 8; i++) {
        const xi = tf.slice(xNet, i, 1);
        const yi = tf.slice(labelsNet, i, 1);
        const one = await attack.run(net, xi, { labels: yi });
        const rowAll = tf.slice(all.raw, i, 1);
        expect(await maxDiff(one.raw, rowAll)).toBeLessThanOrEqual(1e-5);
        tf.dispose([xi, yi, rowAll]);
        one.dispose();
      }
      all.dispose();
    }
  });

  it('random restarts are seeded per sample: batch sizes 8, 3 and 1 give the same result, another seed another one', async () => {
    const attack = fab({ norm: 'l2', steps: 10, restarts: 3 });
    const all = await attack.run(net, xNet, { labels: labelsNet }, { seed: 5 });
    for (const batchSize of [3, 1]) {
      const split = await attack.run(net, xNet, { labels: labelsNet }, { seed: 5, batchSize });
      expect(await maxDiff(split.raw, all.raw)).toBeLessThanOrEqual(1e-5);
      split.dispose();
    }
    const other = await attack.run(net, xNet, { labels: labelsNet }, { seed: 6 });
    expect(await maxDiff(other.raw, all.raw)).toBeGreaterThan(1e-4);
    other.dispose();
    all.dispose();
  });

  it('restarts keep the best of the first run: more restarts are never worse', async () => {
    const single = await fab({ norm: 'l2', steps: 15 }).run(net, xNet, { labels: labelsNet });
    const three = await fab({ norm: 'l2', steps: 15, restarts: 3 }).run(net, xNet, { labels: labelsNet });
    Array.from(three.distances).forEach((d, i) => expect(d).toBeLessThanOrEqual((single.distances[i] as number) + 1e-6));
    single.dispose();
    three.dispose();
  });

  it('the TSDoc example: on x0 − x1 = 0.4 it lands just beyond the boundary x0 = x1, within 1 % of 0.4/√2', async () => {
    const w = tf.tensor2d([
      [1, -1],
      [-1, 1],
    ]);
    const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), { inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits' });
    const x = tf.tensor2d([[0.7, 0.3]]);
    const labels = tf.tensor1d([0], 'int32');
    const r = await fab({ norm: 'l2', steps: 10 }).run(model, x, { labels }, { epsilons: [0.1, 0.5] });
    expect(r.distances[0]).toBeGreaterThanOrEqual(0.4 / Math.SQRT2);
    expect(r.distances[0]).toBeLessThanOrEqual((0.4 / Math.SQRT2) * 1.01);
    expect(r.success).toEqual([[false], [true]]);
    tf.dispose([w, x, labels]);
    r.dispose();
  });
});

describe('fab-t', () => {
  it('passes the conformance suite on a linear model and a ReLU network', async () => {
    assertConformance(
      await checkAttack(fabT({ norm: 'l2', steps: 5 }), { model: linear, x: xLinear, labels: labelsLinear, epsilons: [0.05, 0.15, 1], minSuccess: 1 }),
    );
    assertConformance(
      await checkAttack(fabT({ steps: 10, numTargets: 2 }), { model: net, x: xNet, labels: labelsNet, epsilons: [0.02, 0.1, 0.5], minSuccess: 1 }),
    );
  });

  it('on a linear model, trying every target, two steps reach the exact minimal distance within 1 %', async () => {
    for (const norm of ['l2', 'linf'] as const) {
      const r = await fabT({ norm, steps: 2 }).run(linear, xLinear, { labels: labelsLinear });
      xsLinear.forEach((row, i) => {
        const exact = exactDistance(row, norm);
        expect(r.distances[i]).toBeGreaterThanOrEqual(exact * (1 - 1e-5));
        expect(r.distances[i]).toBeLessThanOrEqual(exact * 1.01);
      });
      r.dispose();
    }
  });

  it('finds no larger median distance than FAB on a ReLU network (linf and l2)', async () => {
    for (const norm of ['linf', 'l2'] as const) {
      const untargeted = await fab({ norm, steps: 30 }).run(net, xNet, { labels: labelsNet });
      const targeted = await fabT({ norm, steps: 30 }).run(net, xNet, { labels: labelsNet });
      expect(Array.from(targeted.distances).every(Number.isFinite)).toBe(true);
      // Measured on the cpu backend (30 steps): linf FAB 0.0519, FAB-T 0.0519; l2 FAB 0.1694, FAB-T 0.1694 (C&W-L2
      // 0.1676 in fmn.test.ts). With every target tried, FAB-T's closest boundary includes FAB's.
      expect(median(targeted.distances)).toBeLessThanOrEqual(median(untargeted.distances) * (1 + 1e-6));
      untargeted.dispose();
      targeted.dispose();
    }
  });

  it('the TSDoc example: linf distance within 1 % of the boundary x0 = x1 at 0.2', async () => {
    const w = tf.tensor2d([
      [1, -1],
      [-1, 1],
    ]);
    const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), { inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits' });
    const x = tf.tensor2d([[0.7, 0.3]]);
    const labels = tf.tensor1d([0], 'int32');
    const r = await fabT({ norm: 'linf', steps: 10 }).run(model, x, { labels }, { epsilons: [0.1, 0.3] });
    expect(r.distances[0]).toBeGreaterThanOrEqual(0.2 * (1 - 1e-6));
    expect(r.distances[0]).toBeLessThanOrEqual(0.2 * 1.01);
    expect(r.success).toEqual([[false], [true]]);
    tf.dispose([w, x, labels]);
    r.dispose();
  });

  it('with one target it attacks the runner-up class only', async () => {
    // On the linear fixture the closest boundary of row 4 (l2) belongs to class 3, not to the runner-up class 1.
    const r = await fabT({ norm: 'l2', steps: 5, numTargets: 1 }).run(linear, xLinear, { labels: labelsLinear });
    const row = xsLinear[4] as number[];
    const z = logitsOf(row);
    const y = argmax(z);
    const runnerUp = runnerUpOf(z, y);
    expect(runnerUp).toBe(1);
    expect(r.distances[4]).toBeCloseTo(toClass(row, runnerUp, 'l2'), 2);
    expect(r.distances[4]).toBeGreaterThan(exactDistance(row, 'l2') * 1.05);
    r.dispose();
  });
});

describe('options', () => {
  it('rejects invalid options with INVALID_OPTION and other norms with UNSUPPORTED_NORM', () => {
    for (const make of [fab, fabT]) {
      expect(errorCode(() => make({ steps: 0 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ steps: 2.5 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ restarts: 0 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ alphaMax: -0.1 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ alphaMax: 1.5 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ eta: 0.9 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ eta: NaN }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ beta: 0 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ beta: 1 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ eps: -1 }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ eps: NaN }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ eps: Infinity }))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ stepSize: 1 } as never))).toBe('INVALID_OPTION');
      expect(errorCode(() => make({ norm: 'l0' as 'l2' }))).toBe('UNSUPPORTED_NORM');
      expect(errorCode(() => make({ eps: 0.5, restarts: 3 }))).toBe('no error');
    }
    expect(errorCode(() => fabT({ numTargets: 0 }))).toBe('INVALID_OPTION');
    expect(fab().options).toMatchObject({ norm: 'linf', steps: 100, restarts: 1, alphaMax: 0.1, eta: 1.05, beta: 0.9, eps: 0 });
    expect(fabT().options).toMatchObject({ norm: 'linf', steps: 100, restarts: 1, numTargets: 9 });
    expect(fab.meta).toMatchObject({ kind: 'minimization', norms: ['linf', 'l2', 'l1'], threat: 'white-box', goals: ['untargeted'] });
    expect(fabT.meta).toMatchObject({ name: 'fab-t', kind: 'minimization', goals: ['untargeted'] });
  });
});
