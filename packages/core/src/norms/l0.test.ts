import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { BatchRng, Rng } from '../rng.js';
import { l0 } from './l0.js';

function expectNoLeak(fn: () => tf.Tensor): void {
  const before = tf.memory().numTensors;
  fn().dispose();
  expect(tf.memory().numTensors).toBe(before);
}

function expectClose(got: ArrayLike<number>, want: readonly number[], tol = 1e-6): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs((got[i] ?? Number.NaN) - w)).toBeLessThanOrEqual(tol));
}

function l2dist(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, x, i) => s + (x - (b[i] ?? 0)) ** 2, 0));
}

/** Plain-JS reference: keep the floor(eps) largest-|v| entries (continuous data: no ties). */
function keepTopK(v: readonly number[], eps: number): number[] {
  const k = Math.floor(eps);
  const order = v.map((x, i) => [Math.abs(x), i] as const).sort((a, b) => b[0] - a[0]);
  const keep = new Set(order.slice(0, k).map(([, i]) => i));
  return v.map((x, i) => (keep.has(i) ? x : 0));
}

describe('l0 norm and distance', () => {
  it('counts the non-zero entries per sample', async () => {
    const t = tf.tensor3d([3, 0, 0, -1e-6, 0, 0, 0, 0, 1, 2, 3, 4], [3, 2, 2]);
    const n = l0.norm(t);
    expect(n.shape).toEqual([3]);
    expect(Array.from(await n.data())).toEqual([2, 0, 4]);
    tf.dispose([t, n]);
  });

  it('distance counts the differing entries', async () => {
    const a = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 0],
    ]);
    const b = tf.tensor2d([
      [1, 5, 0],
      [0, 0, 0],
    ]);
    const d = l0.distance(a, b);
    expect(Array.from(await d.data())).toEqual([2, 0]);
    tf.dispose([a, b, d]);
  });
});

describe('l0 project', () => {
  it('keeps the floor(eps) largest-magnitude entries', async () => {
    const t = tf.tensor2d([[0.1, -3, 2, 0.5]]);
    const p1 = l0.project(t, 1);
    expectClose(await p1.data(), [0, -3, 0, 0]);
    const p2 = l0.project(t, 2.7);
    expectClose(await p2.data(), [0, -3, 2, 0]);
    const p0 = l0.project(t, 0.9);
    expectClose(await p0.data(), [0, 0, 0, 0]);
    const pAll = l0.project(t, 10);
    expect(Array.from(await pAll.data())).toEqual(Array.from(await t.data()));
    tf.dispose([t, p1, p2, p0, pAll]);
  });

  it('uses per-sample eps and leaves sparse-enough samples unchanged', async () => {
    const t = tf.tensor2d([
      [0.1, -3, 2, 0.5],
      [0.1, -3, 2, 0.5],
      [0, 0, 7, 0],
      [1, 2, 3, 4],
    ]);
    const eps = tf.tensor1d([1, 3, 1, 4]);
    const p = l0.project(t, eps);
    expect(await p.array()).toEqual([
      [0, -3, 0, 0],
      [0, -3, 2, 0.5],
      [0, 0, 7, 0],
      [1, 2, 3, 4],
    ]);
    tf.dispose([t, eps, p]);
  });

  it('breaks ties deterministically and keeps exactly floor(eps) entries', async () => {
    const t = tf.tensor2d([[1, -1, 1, -1, 1]]);
    const a = l0.project(t, 2);
    const b = l0.project(t, 2);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    const n = l0.norm(a);
    expect(Array.from(await n.data())).toEqual([2]);
    tf.dispose([t, a, b, n]);
  });

  it('matches a plain-JS reference on random image-shaped rows (per-sample eps), is idempotent and closest', async () => {
    const rng = new Rng(17);
    const n = 40;
    const shape = [n, 3, 3, 2];
    const d = 18;
    const rows = Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
    const epsArr = rows.map(() => d * 1.2 * rng.uniform());
    const t = tf.tensor4d(rows.flat(), shape as [number, number, number, number]);
    const eps = tf.tensor1d(epsArr);
    const p = l0.project(t, eps);
    expect(p.shape).toEqual(shape);
    const flat = Array.from(await p.data());
    const got = rows.map((_, i) => flat.slice(i * d, (i + 1) * d));
    rows.forEach((v, i) => expectClose(got[i] as number[], keepTopK(v, epsArr[i] as number), 1e-6));
    const p2 = l0.project(p, eps);
    expect(Array.from(await p2.data())).toEqual(flat);
    const nrm = await l0.norm(p).data();
    nrm.forEach((c, i) => expect(c).toBeLessThanOrEqual(Math.floor(epsArr[i] as number)));
    // closest point: no random k-sparse candidate is nearer in L2
    rows.forEach((v, i) => {
      const k = Math.min(d, Math.floor(epsArr[i] as number));
      const best = l2dist(v, got[i] as number[]);
      for (let c = 0; c < 50; c++) {
        const support = new Set(Array.from(rng.permutation(d)).slice(0, k));
        const cand = v.map((x, j) => (support.has(j) ? x + 0.1 * rng.normal() * (c % 2) : 0));
        expect(l2dist(v, cand)).toBeGreaterThanOrEqual(best - 1e-6);
      }
    });
    tf.dispose([t, eps, p, p2]);
  });
});

describe('l0 normalizeGradient', () => {
  it('is one-hot at the largest |g| times its sign, zero rows give zero', async () => {
    const g = tf.tensor3d([0.1, -3, 2, 0, 0, 0, 0, 0, 1e-6, 0, 0, 2e-6], [3, 2, 2]);
    const u = l0.normalizeGradient(g);
    expect(u.shape).toEqual([3, 2, 2]);
    // `+ 0` turns −0 (wasm's sign of −0) into 0.
    expect(Array.from(await u.data(), (v) => v + 0)).toEqual([0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const n = l0.norm(u);
    expect(Array.from(await n.data())).toEqual([1, 0, 1]);
    tf.dispose([g, u, n]);
  });
});

describe('l0 randomStart', () => {
  it('has exactly floor(eps) non-zero entries in [-1, 1) per row', async () => {
    const shape = [10, 4, 5];
    const r = l0.randomStart(shape, 7.9, new BatchRng(3, 0, 10));
    expect(r.shape).toEqual(shape);
    const n = l0.norm(r);
    expect(Array.from(await n.data())).toEqual(new Array<number>(10).fill(7));
    (await r.data()).forEach((v) => {
      expect(v).toBeGreaterThanOrEqual(-1);
      expect(v).toBeLessThan(1);
    });
    tf.dispose([r, n]);
  });

  it('is deterministic per seed and different across seeds; eps = 0 gives zeros', async () => {
    const a = l0.randomStart([6, 12], 3, new BatchRng(1, 0, 6));
    const b = l0.randomStart([6, 12], 3, new BatchRng(1, 0, 6));
    const c = l0.randomStart([6, 12], 3, new BatchRng(2, 0, 6));
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(Array.from(await a.data())).not.toEqual(Array.from(await c.data()));
    const z = l0.randomStart([2, 5], 0, new BatchRng(1, 0, 2));
    expect(Array.from(await z.data())).toEqual(new Array<number>(10).fill(0));
    const all = l0.randomStart([2, 5], 99, new BatchRng(1, 0, 2));
    const nAll = l0.norm(all);
    expect(Array.from(await nAll.data())).toEqual([5, 5]);
    tf.dispose([a, b, c, z, all, nAll]);
  });

  it('chooses coordinates uniformly and values uniformly in [-1, 1)', async () => {
    const rows = 3000;
    const d = 6;
    const k = 2;
    const r = l0.randomStart([rows, d], k, new BatchRng(8, 0, rows));
    const vals = (await r.array()) as number[][];
    const freq = new Array<number>(d).fill(0);
    let sumAbs = 0;
    vals.forEach((row) =>
      row.forEach((v, j) => {
        if (v !== 0) {
          freq[j] = (freq[j] ?? 0) + 1;
          sumAbs += Math.abs(v);
        }
      }),
    );
    // each coordinate is chosen with probability k/d
    freq.forEach((f) => expect(Math.abs(f / rows - k / d)).toBeLessThan(0.03));
    expect(Math.abs(sumAbs / (rows * k) - 0.5)).toBeLessThan(0.02);
    r.dispose();
  });
});

describe('l0 memory', () => {
  it('leaks no tensor in any function', () => {
    const x = tf.tensor3d([0.5, -2, 0.1, 3, 0, 0, 0, 0], [2, 2, 2]);
    const y = tf.tensor3d([0, 1, 0, 1, 0, 1, 0, 1], [2, 2, 2]);
    const e = tf.tensor1d([1, 3]);
    expectNoLeak(() => l0.norm(x));
    expectNoLeak(() => l0.distance(x, y));
    expectNoLeak(() => l0.project(x, 2));
    expectNoLeak(() => l0.project(x, 20));
    expectNoLeak(() => l0.project(x, e));
    expectNoLeak(() => l0.normalizeGradient(x));
    expectNoLeak(() => l0.randomStart([2, 2, 2], 3, new BatchRng(0, 0, 2)));
    tf.dispose([x, y, e]);
  });
});
