import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { BatchRng, Rng } from '../rng.js';
import { l1 } from './l1.js';

function expectNoLeak(fn: () => tf.Tensor): void {
  const before = tf.memory().numTensors;
  fn().dispose();
  expect(tf.memory().numTensors).toBe(before);
}

function expectClose(got: ArrayLike<number>, want: readonly number[], tol = 1e-6): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs((got[i] ?? Number.NaN) - w)).toBeLessThanOrEqual(tol));
}

function norm1(v: readonly number[]): number {
  return v.reduce((s, x) => s + Math.abs(x), 0);
}

function l2dist(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, x, i) => s + (x - (b[i] ?? 0)) ** 2, 0));
}

/** Plain-JS reference: Duchi et al. (2008), Euclidean projection onto the L1 ball of radius z. */
function duchi(v: readonly number[], z: number): number[] {
  if (norm1(v) <= z) return v.slice();
  const u = v.map(Math.abs).sort((a, b) => b - a);
  let css = 0;
  let rho = 0;
  let cssRho = 0;
  u.forEach((uj, j) => {
    css += uj;
    if (uj - (css - z) / (j + 1) > 0) {
      rho = j + 1;
      cssRho = css;
    }
  });
  if (rho === 0) return v.map(() => 0);
  const theta = (cssRho - z) / rho;
  return v.map((x) => Math.sign(x) * Math.max(Math.abs(x) - theta, 0));
}

/** Rows of `n × d` with mixed scales, some sparse, some tiny (inside the ball). */
function randomRows(rng: Rng, n: number, d: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const scale = i % 5 === 0 ? 0.01 : 0.5 + 3 * rng.uniform();
    return Array.from({ length: d }, () => (i % 3 === 1 && rng.uniform() < 0.5 ? 0 : scale * rng.normal()));
  });
}

describe('l1 norm and distance', () => {
  it('is sum |d| per sample over all non-batch axes', async () => {
    const t = tf.tensor3d([3, -4, 0, 1, 0, 0, 0, 0, -0.5, 0.25, 0.25, -1], [3, 2, 2]);
    const n = l1.norm(t);
    expect(n.shape).toEqual([3]);
    expectClose(await n.data(), [8, 0, 2]);
    tf.dispose([t, n]);
  });

  it('distance is the norm of the difference', async () => {
    const a = tf.tensor2d([[1, 1, 1]]);
    const b = tf.tensor2d([[4, -1, 1]]);
    const d = l1.distance(a, b);
    expectClose(await d.data(), [5]);
    tf.dispose([a, b, d]);
  });
});

describe('l1 project (exact, Duchi et al.)', () => {
  it('projects (3, 1, 0) onto eps = 2 as (2, 0, 0) and (1, 1) onto eps = 1 as (0.5, 0.5)', async () => {
    const a = tf.tensor2d([
      [3, 1, 0],
      [-3, 1, 0],
    ]);
    const pa = l1.project(a, 2);
    expectClose(await pa.data(), [2, 0, 0, -2, 0, 0], 1e-6);
    const b = tf.tensor2d([[1, 1]]);
    const pb = l1.project(b, 1);
    expectClose(await pb.data(), [0.5, 0.5], 1e-6);
    tf.dispose([a, pa, b, pb]);
  });

  it('is not a rescale', async () => {
    const t = tf.tensor2d([[3, 1]]);
    const p = l1.project(t, 2);
    // a rescale would give (1.5, 0.5); the exact projection is (2, 0)
    expectClose(await p.data(), [2, 0], 1e-6);
    tf.dispose([t, p]);
  });

  it('leaves samples inside the ball unchanged (bit for bit)', async () => {
    const t = tf.tensor2d([
      [0.1, -0.2, 0.3],
      [0.5, 0.5, 0],
    ]);
    const p = l1.project(t, 1);
    expect(Array.from(await p.data())).toEqual(Array.from(await t.data()));
    tf.dispose([t, p]);
  });

  it('handles eps = 0, zero rows and eps = Infinity without NaN', async () => {
    const t = tf.tensor2d([
      [1, -2, 3],
      [0, 0, 0],
    ]);
    const p0 = l1.project(t, 0);
    expectClose(await p0.data(), [0, 0, 0, 0, 0, 0]);
    const pInf = l1.project(t, Infinity);
    expectClose(await pInf.data(), [1, -2, 3, 0, 0, 0]);
    tf.dispose([t, p0, pInf]);
  });

  it('matches a plain-JS Duchi reference on random rows with per-sample eps (1e-5)', async () => {
    const rng = new Rng(123);
    const n = 60;
    const d = 37;
    const rows = randomRows(rng, n, d);
    const epsArr = rows.map((_, i) => (i % 7 === 0 ? 0.05 : 0.1 + 5 * rng.uniform()));
    const t = tf.tensor2d(rows);
    const eps = tf.tensor1d(epsArr);
    const p = l1.project(t, eps);
    const got = (await p.array()) as number[][];
    rows.forEach((v, i) => expectClose(got[i] as number[], duchi(v, epsArr[i] as number), 1e-5));
    tf.dispose([t, eps, p]);
  });

  it('works on image-shaped batches with a scalar eps', async () => {
    const rng = new Rng(4);
    const shape = [5, 4, 4, 3];
    const vals = Array.from({ length: 5 * 48 }, () => rng.normal());
    const t = tf.tensor4d(vals, shape as [number, number, number, number]);
    const p = l1.project(t, 3);
    expect(p.shape).toEqual(shape);
    const flat = Array.from(await p.data());
    for (let i = 0; i < 5; i++) expectClose(flat.slice(i * 48, (i + 1) * 48), duchi(vals.slice(i * 48, (i + 1) * 48), 3), 1e-5);
    tf.dispose([t, p]);
  });

  it('is idempotent, has norm ≤ eps, and is the closest point of the ball', async () => {
    const rng = new Rng(77);
    const rows = randomRows(rng, 25, 6);
    const epsArr = rows.map(() => 0.3 + 2 * rng.uniform());
    const t = tf.tensor2d(rows);
    const eps = tf.tensor1d(epsArr);
    const p1 = l1.project(t, eps);
    const p2 = l1.project(p1, eps);
    expectClose(await p2.data(), Array.from(await p1.data()), 1e-5);
    const nrm = await l1.norm(p1).data();
    nrm.forEach((v, i) => expect(v).toBeLessThanOrEqual((epsArr[i] as number) + 1e-5));
    // candidates: uniform in the ball, and points on its boundary
    const cands = l1.randomStart([rows.length * 50, 6], 1, new BatchRng(5, 0, rows.length * 50));
    const candRows = (await cands.array()) as number[][];
    const proj = (await p1.array()) as number[][];
    rows.forEach((v, i) => {
      const e = epsArr[i] as number;
      const best = l2dist(v, proj[i] as number[]);
      for (let c = 0; c < 50; c++) {
        const base = candRows[i * 50 + c] as number[];
        const inner = base.map((x) => x * e);
        const nb = norm1(base);
        const boundary = base.map((x) => (nb > 0 ? (x * e) / nb : 0));
        expect(l2dist(v, inner)).toBeGreaterThanOrEqual(best - 1e-5);
        expect(l2dist(v, boundary)).toBeGreaterThanOrEqual(best - 1e-5);
      }
    });
    tf.dispose([t, eps, p1, p2, cands]);
  });
});

describe('l1 normalizeGradient', () => {
  it('gives unit L1 rows, zero rows for zero gradients, no NaN', async () => {
    const g = tf.tensor2d([
      [3, -1, 0, 0],
      [0, 0, 0, 0],
      [1e-30, -1e-30, 2e-30, 0],
    ]);
    const u = l1.normalizeGradient(g);
    const got = await u.data();
    expect(got.every((v) => Number.isFinite(v))).toBe(true);
    expectClose(got, [0.75, -0.25, 0, 0, 0, 0, 0, 0, 0.25, -0.25, 0.5, 0], 1e-6);
    const n = l1.norm(u);
    expectClose(await n.data(), [1, 0, 1], 1e-6);
    tf.dispose([g, u, n]);
  });
});

describe('l1 randomStart', () => {
  it('is inside the ball, deterministic per seed and different across seeds', async () => {
    const shape = [8, 3, 4];
    const a = l1.randomStart(shape, 2, new BatchRng(1, 0, 8));
    const b = l1.randomStart(shape, 2, new BatchRng(1, 0, 8));
    const c = l1.randomStart(shape, 2, new BatchRng(2, 0, 8));
    expect(a.shape).toEqual(shape);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(Array.from(await a.data())).not.toEqual(Array.from(await c.data()));
    expect((await a.data()).every((v) => Number.isFinite(v))).toBe(true);
    const n = l1.norm(a);
    (await n.data()).forEach((v) => expect(v).toBeLessThanOrEqual(2 + 1e-5));
    tf.dispose([a, b, c, n]);
  });

  it('is uniform in the cross-polytope: (‖δ‖₁/eps)^d uniform, E|δᵢ| = eps/(d+1)', async () => {
    const eps = 1.5;
    const d = 4;
    const rows = 5000;
    const r = l1.randomStart([rows, d], eps, new BatchRng(31, 0, rows));
    const n = l1.norm(r);
    const radii = Array.from(await n.data(), (x) => x / eps);
    const meanRd = radii.reduce((s, x) => s + x ** d, 0) / rows;
    expect(Math.abs(meanRd - 0.5)).toBeLessThan(0.02);
    const vals = Array.from(await r.data());
    const meanAbs = vals.reduce((s, x) => s + Math.abs(x), 0) / vals.length;
    expect(Math.abs(meanAbs / eps - 1 / (d + 1))).toBeLessThan(0.01);
    const mean = vals.reduce((s, x) => s + x, 0) / vals.length;
    expect(Math.abs(mean)).toBeLessThan(0.02);
    tf.dispose([r, n]);
  });
});

describe('l1 memory', () => {
  it('leaks no tensor in any function', () => {
    const x = tf.tensor3d([0.5, -2, 0.1, 3, 0, 0, 0, 0], [2, 2, 2]);
    const y = tf.tensor3d([0, 1, 0, 1, 0, 1, 0, 1], [2, 2, 2]);
    const e = tf.tensor1d([0.2, 1]);
    expectNoLeak(() => l1.norm(x));
    expectNoLeak(() => l1.distance(x, y));
    expectNoLeak(() => l1.project(x, 0.3));
    expectNoLeak(() => l1.project(x, e));
    expectNoLeak(() => l1.normalizeGradient(x));
    expectNoLeak(() => l1.randomStart([2, 2, 2], 0.3, new BatchRng(0, 0, 2)));
    tf.dispose([x, y, e]);
  });
});
