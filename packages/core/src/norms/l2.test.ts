import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { BatchRng, Rng } from '../rng.js';
import { l2 } from './l2.js';

function expectNoLeak(fn: () => tf.Tensor): void {
  const before = tf.memory().numTensors;
  fn().dispose();
  expect(tf.memory().numTensors).toBe(before);
}

function randomMatrix(rng: Rng, n: number, d: number, scale: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => scale * rng.normal()));
}

function norm2(v: readonly number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

function l2dist(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, x, i) => s + (x - (b[i] ?? 0)) ** 2, 0));
}

function expectClose(got: ArrayLike<number>, want: readonly number[], tol = 1e-6): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs((got[i] ?? Number.NaN) - w)).toBeLessThanOrEqual(tol));
}

describe('l2 norm and distance', () => {
  it('is sqrt(sum d²) per sample over all non-batch axes', async () => {
    const t = tf.tensor3d([3, 4, 0, 0, 1, 2, 2, 0, 0, 0, 0, 0], [3, 2, 2]);
    const n = l2.norm(t);
    expect(n.shape).toEqual([3]);
    expectClose(await n.data(), [5, 3, 0]);
    tf.dispose([t, n]);
  });

  it('distance is the norm of the difference', async () => {
    const a = tf.tensor2d([[1, 1]]);
    const b = tf.tensor2d([[4, 5]]);
    const d = l2.distance(a, b);
    expectClose(await d.data(), [5]);
    tf.dispose([a, b, d]);
  });
});

describe('l2 project', () => {
  it('projects (3, 4) onto eps = 1 as (0.6, 0.8)', async () => {
    const t = tf.tensor2d([[3, 4]]);
    const p = l2.project(t, 1);
    expectClose(await p.data(), [0.6, 0.8]);
    tf.dispose([t, p]);
  });

  it('keeps zero rows and rows inside unchanged, with per-sample eps', async () => {
    const t = tf.tensor2d([
      [3, 4],
      [0, 0],
      [0.3, 0.4],
      [-6, 8],
    ]);
    const eps = tf.tensor1d([2, 1, 1, 0]);
    const p = l2.project(t, eps);
    const got = await p.data();
    expectClose(got, [1.2, 1.6, 0, 0, 0.3, 0.4, -0, 0]);
    expect(got.every((v) => Number.isFinite(v))).toBe(true);
    tf.dispose([t, eps, p]);
  });

  it('eps = 0 of a zero row gives zero (no NaN)', async () => {
    const t = tf.zeros([1, 3]);
    const p = l2.project(t, 0);
    expectClose(await p.data(), [0, 0, 0]);
    tf.dispose([t, p]);
  });

  it('is idempotent, has norm ≤ eps, and is the closest point', async () => {
    const rng = new Rng(5);
    const rows = randomMatrix(rng, 30, 6, 1);
    const epsArr = rows.map(() => 0.2 + 2 * rng.uniform());
    const t = tf.tensor2d(rows);
    const eps = tf.tensor1d(epsArr);
    const p1 = l2.project(t, eps);
    const p2 = l2.project(p1, eps);
    expectClose(await p2.data(), Array.from(await p1.data()), 1e-5);
    const proj = (await p1.array()) as number[][];
    proj.forEach((p, i) => {
      const e = epsArr[i] as number;
      const v = rows[i] as number[];
      expect(norm2(p)).toBeLessThanOrEqual(e + 1e-5);
      // closed form
      const nv = norm2(v);
      expectClose(
        p,
        v.map((x) => (nv > e ? (x * e) / nv : x)),
        1e-5,
      );
      // closest point: no random candidate inside the ball is nearer
      const best = l2dist(v, p);
      for (let c = 0; c < 100; c++) {
        const dir = v.map(() => rng.normal());
        const r = e * Math.pow(rng.uniform(), 1 / v.length);
        const nd = norm2(dir);
        const cand = dir.map((x) => (x * r) / nd);
        expect(l2dist(v, cand)).toBeGreaterThanOrEqual(best - 1e-5);
      }
    });
    tf.dispose([t, eps, p1, p2]);
  });
});

describe('l2 normalizeGradient', () => {
  it('gives unit L2 rows, zero rows for zero gradients, no NaN', async () => {
    const g = tf.tensor3d([3, 4, 0, 0, 0, 0, 0, 0, 1e-30, -1e-30, 2e-30, 0], [3, 2, 2]);
    const u = l2.normalizeGradient(g);
    expect(u.shape).toEqual([3, 2, 2]);
    const got = await u.data();
    expect(got.every((v) => Number.isFinite(v))).toBe(true);
    expectClose(Array.from(got).slice(0, 4), [0.6, 0.8, 0, 0]);
    expectClose(Array.from(got).slice(4, 8), [0, 0, 0, 0]);
    const s6 = 1 / Math.sqrt(6);
    expectClose(Array.from(got).slice(8), [s6, -s6, 2 * s6, 0]);
    const n = l2.norm(u);
    expectClose(await n.data(), [1, 0, 1], 1e-6);
    tf.dispose([g, u, n]);
  });

  it('gives unit norm on random gradients', async () => {
    const rng = new Rng(9);
    const g = tf.tensor2d(randomMatrix(rng, 20, 50, 3));
    const u = l2.normalizeGradient(g);
    const n = l2.norm(u);
    (await n.data()).forEach((v) => expect(v).toBeCloseTo(1, 5));
    tf.dispose([g, u, n]);
  });
});

describe('l2 randomStart', () => {
  it('is inside the ball, deterministic per seed and different across seeds', async () => {
    const shape = [8, 3, 4];
    const a = l2.randomStart(shape, 0.5, new BatchRng(1, 0, 8));
    const b = l2.randomStart(shape, 0.5, new BatchRng(1, 0, 8));
    const c = l2.randomStart(shape, 0.5, new BatchRng(2, 0, 8));
    expect(a.shape).toEqual(shape);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(Array.from(await a.data())).not.toEqual(Array.from(await c.data()));
    const n = l2.norm(a);
    (await n.data()).forEach((v) => expect(v).toBeLessThanOrEqual(0.5 + 1e-5));
    tf.dispose([a, b, c, n]);
  });

  it('has the radius law of the uniform ball: (r/eps)^d uniform, E[r] = eps·d/(d+1)', async () => {
    const eps = 2;
    const d = 3;
    const rows = 4000;
    const r = l2.randomStart([rows, d], eps, new BatchRng(21, 0, rows));
    const n = l2.norm(r);
    const radii = Array.from(await n.data(), (x) => x / eps);
    const meanR = radii.reduce((s, x) => s + x, 0) / rows;
    const meanRd = radii.reduce((s, x) => s + x ** d, 0) / rows;
    expect(Math.abs(meanR - d / (d + 1))).toBeLessThan(0.015);
    expect(Math.abs(meanRd - 0.5)).toBeLessThan(0.02);
    // isotropy: each coordinate has mean 0 and E[x²] = eps²/(d+2)
    const vals = (await r.array()) as number[][];
    for (let j = 0; j < d; j++) {
      const col = vals.map((row) => row[j] ?? 0);
      expect(Math.abs(col.reduce((s, x) => s + x, 0) / rows)).toBeLessThan(0.05);
      expect(Math.abs(col.reduce((s, x) => s + x * x, 0) / rows - (eps * eps) / (d + 2))).toBeLessThan(0.05);
    }
    tf.dispose([r, n]);
  });

  it('rejects an invalid eps', () => {
    expect(() => l2.randomStart([1, 2], Number.NaN, new BatchRng(1, 0, 1))).toThrow(expect.objectContaining({ code: 'INVALID_EPSILON' }) as Error);
  });
});

describe('l2 memory', () => {
  it('leaks no tensor in any function', () => {
    const x = tf.tensor3d([0.5, -2, 0.1, 3, 0, 0, 0, 0], [2, 2, 2]);
    const y = tf.tensor3d([0, 1, 0, 1, 0, 1, 0, 1], [2, 2, 2]);
    const e = tf.tensor1d([0.2, 1]);
    expectNoLeak(() => l2.norm(x));
    expectNoLeak(() => l2.distance(x, y));
    expectNoLeak(() => l2.project(x, 0.3));
    expectNoLeak(() => l2.project(x, e));
    expectNoLeak(() => l2.normalizeGradient(x));
    expectNoLeak(() => l2.randomStart([2, 2, 2], 0.3, new BatchRng(0, 0, 2)));
    tf.dispose([x, y, e]);
  });
});
