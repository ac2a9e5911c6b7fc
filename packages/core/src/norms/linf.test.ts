import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { AdvxError, isAdvxError } from '../errors.js';
import { BatchRng, Rng } from '../rng.js';
import { getNorm, l0, l1, l2, linf, NORMS } from './index.js';

/** Runs `fn`, disposes its result and asserts that no tensor survived. */
function expectNoLeak(fn: () => tf.Tensor): void {
  const before = tf.memory().numTensors;
  fn().dispose();
  expect(tf.memory().numTensors).toBe(before);
}

function randomMatrix(rng: Rng, n: number, d: number, scale: number): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => scale * (2 * rng.uniform() - 1)));
}

function l2dist(a: readonly number[], b: readonly number[]): number {
  return Math.sqrt(a.reduce((s, x, i) => s + (x - (b[i] ?? 0)) ** 2, 0));
}

describe('linf norm and distance', () => {
  it('is the max absolute entry per sample', async () => {
    const t = tf.tensor2d([
      [1, -3, 2],
      [0, 0, 0],
      [-0.5, 0.25, 0.5],
    ]);
    expect(Array.from(await linf.norm(t).data())).toEqual([3, 0, 0.5]);
    t.dispose();
  });

  it('reduces over every non-batch axis', async () => {
    const t = tf.tensor4d([1, -2, 3, -4, 0.5, -7, 0, 0], [2, 2, 2, 1]);
    const n = linf.norm(t);
    expect(n.shape).toEqual([2]);
    expect(Array.from(await n.data())).toEqual([4, 7]);
    tf.dispose([t, n]);
  });

  it('distance is the norm of the difference', async () => {
    const a = tf.tensor2d([
      [1, 2],
      [0, 0],
    ]);
    const b = tf.tensor2d([
      [0.5, 4],
      [-1, 0.25],
    ]);
    const d = linf.distance(a, b);
    expect(Array.from(await d.data())).toEqual([2, 1]);
    tf.dispose([a, b, d]);
  });

  it('distance rejects mismatched shapes', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([2, 1]);
    expect(() => linf.distance(a, b)).toThrowError(AdvxError);
    tf.dispose([a, b]);
  });
});

describe('linf project', () => {
  it('clips to [-eps, eps] with a scalar eps', async () => {
    const t = tf.tensor2d([[0.5, -0.2, -0.9, 0.3]]);
    const p = linf.project(t, 0.3);
    const got = Array.from(await p.data());
    [0.3, -0.2, -0.3, 0.3].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    tf.dispose([t, p]);
  });

  it('clips with a per-sample eps and keeps the shape', async () => {
    const t = tf.tensor3d([1, -1, 2, -2, 0.1, -0.1, 5, 0], [2, 2, 2]);
    const eps = tf.tensor1d([0.5, 3]);
    const p = linf.project(t, eps);
    expect(p.shape).toEqual([2, 2, 2]);
    const got = Array.from(await p.data());
    [0.5, -0.5, 0.5, -0.5, 0.1, -0.1, 3, 0].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
    tf.dispose([t, eps, p]);
  });

  it('leaves samples inside the ball unchanged and is idempotent', async () => {
    const rng = new Rng(1);
    const rows = randomMatrix(rng, 20, 7, 2);
    const t = tf.tensor2d(rows);
    const p1 = linf.project(t, 0.7);
    const p2 = linf.project(p1, 0.7);
    expect(Array.from(await p2.data())).toEqual(Array.from(await p1.data()));
    const n = await linf.norm(p1).data();
    n.forEach((v) => expect(v).toBeLessThanOrEqual(0.7 + 1e-6));
    const inside = tf.tensor2d([[0.1, -0.6, 0.69]]);
    const pi = linf.project(inside, 0.7);
    expect(Array.from(await pi.data())).toEqual(Array.from(await inside.data()));
    tf.dispose([t, p1, p2, inside, pi]);
  });

  it('is the closest point of the ball (random candidates are never closer)', async () => {
    const rng = new Rng(2);
    const rows = randomMatrix(rng, 10, 5, 3);
    const eps = 1;
    const t = tf.tensor2d(rows);
    const p = linf.project(t, eps);
    const proj = (await p.array()) as number[][];
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i] as number[];
      const best = l2dist(v, proj[i] as number[]);
      for (let c = 0; c < 200; c++) {
        const cand = v.map(() => eps * (2 * rng.uniform() - 1));
        expect(l2dist(v, cand)).toBeGreaterThanOrEqual(best - 1e-5);
      }
    }
    tf.dispose([t, p]);
  });

  it('rejects a negative or NaN eps and a mis-shaped eps tensor', () => {
    const t = tf.zeros([2, 3]);
    expect(() => linf.project(t, -1)).toThrow(expect.objectContaining({ code: 'INVALID_EPSILON' }) as Error);
    expect(() => linf.project(t, Number.NaN)).toThrow(expect.objectContaining({ code: 'INVALID_EPSILON' }) as Error);
    const bad = tf.tensor1d([1, 2, 3]);
    expect(() => linf.project(t, bad)).toThrow(expect.objectContaining({ code: 'INVALID_SHAPE' }) as Error);
    tf.dispose([t, bad]);
  });
});

describe('linf normalizeGradient', () => {
  it('is sign(g), zero for zero entries and rows', async () => {
    const g = tf.tensor2d([
      [0.3, -2, 0],
      [0, 0, 0],
      [1e-6, -1e-6, 5],
    ]);
    const s = linf.normalizeGradient(g);
    // `+ 0` turns −0 (wasm's sign of −0) into 0.
    expect(((await s.array()) as number[][]).map((r) => r.map((v) => v + 0))).toEqual([
      [1, -1, 0],
      [0, 0, 0],
      [1, -1, 1],
    ]);
    const n = linf.norm(s);
    expect(Array.from(await n.data())).toEqual([1, 0, 1]);
    tf.dispose([g, s, n]);
  });
});

describe('linf randomStart', () => {
  it('is inside the ball, deterministic per seed and different across seeds', async () => {
    const shape = [6, 4, 4, 3];
    const a = linf.randomStart(shape, 0.1, new BatchRng(7, 0, 6));
    const b = linf.randomStart(shape, 0.1, new BatchRng(7, 0, 6));
    const c = linf.randomStart(shape, 0.1, new BatchRng(8, 0, 6));
    expect(a.shape).toEqual(shape);
    expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
    expect(Array.from(await a.data())).not.toEqual(Array.from(await c.data()));
    (await linf.norm(a).data()).forEach((v) => expect(v).toBeLessThanOrEqual(0.1));
    tf.dispose([a, b, c]);
  });

  it('does not depend on batching (row j uses the stream of sample offset + j)', async () => {
    const all = linf.randomStart([4, 5], 1, new BatchRng(3, 0, 4));
    const last2 = linf.randomStart([2, 5], 1, new BatchRng(3, 2, 2));
    expect(Array.from(await last2.data())).toEqual(Array.from(await all.data()).slice(10));
    tf.dispose([all, last2]);
  });

  it('is uniform: mean |entry| ≈ eps/2 and mean entry ≈ 0', async () => {
    const eps = 0.3;
    const r = linf.randomStart([100, 1000], eps, new BatchRng(11, 0, 100));
    const vals = await r.data();
    let sumAbs = 0;
    let sum = 0;
    vals.forEach((v) => {
      sumAbs += Math.abs(v);
      sum += v;
    });
    expect(sumAbs / vals.length / eps).toBeCloseTo(0.5, 2);
    expect(Math.abs(sum / vals.length / eps)).toBeLessThan(0.01);
    r.dispose();
  });

  it('rejects an invalid eps and a shape that does not match the rng rows', () => {
    expect(() => linf.randomStart([2, 3], -0.1, new BatchRng(1, 0, 2))).toThrow(expect.objectContaining({ code: 'INVALID_EPSILON' }) as Error);
    expect(() => linf.randomStart([2, 3], Infinity, new BatchRng(1, 0, 2))).toThrow(expect.objectContaining({ code: 'INVALID_EPSILON' }) as Error);
    expect(() => linf.randomStart([3, 3], 0.1, new BatchRng(1, 0, 2))).toThrow(expect.objectContaining({ code: 'INVALID_SHAPE' }) as Error);
  });
});

describe('linf memory', () => {
  it('leaks no tensor in any function', () => {
    const x = tf.tensor3d([0.5, -2, 0.1, 3, 0, 0, 0, 0], [2, 2, 2]);
    const y = tf.tensor3d([0, 1, 0, 1, 0, 1, 0, 1], [2, 2, 2]);
    const e = tf.tensor1d([0.2, 1]);
    expectNoLeak(() => linf.norm(x));
    expectNoLeak(() => linf.distance(x, y));
    expectNoLeak(() => linf.project(x, 0.3));
    expectNoLeak(() => linf.project(x, e));
    expectNoLeak(() => linf.normalizeGradient(x));
    expectNoLeak(() => linf.randomStart([2, 2, 2], 0.3, new BatchRng(0, 0, 2)));
    tf.dispose([x, y, e]);
  });
});

describe('getNorm and NORMS', () => {
  it('returns each geometry by name', () => {
    expect(getNorm('linf')).toBe(linf);
    expect(getNorm('l2')).toBe(l2);
    expect(getNorm('l1')).toBe(l1);
    expect(getNorm('l0')).toBe(l0);
    expect(Object.keys(NORMS).sort()).toEqual(['l0', 'l1', 'l2', 'linf']);
    for (const [name, g] of Object.entries(NORMS)) expect(g.name).toBe(name);
  });

  it('throws UNKNOWN_NORM listing the valid names', () => {
    let caught: unknown;
    try {
      getNorm('l3');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AdvxError);
    expect(isAdvxError(caught, 'UNKNOWN_NORM')).toBe(true);
    const msg = (caught as AdvxError).message;
    for (const n of ['linf', 'l2', 'l1', 'l0']) expect(msg).toContain(`'${n}'`);
    expect(() => getNorm('toString')).toThrow(expect.objectContaining({ code: 'UNKNOWN_NORM' }) as Error);
    expect(() => getNorm('')).toThrow(expect.objectContaining({ code: 'UNKNOWN_NORM' }) as Error);
  });
});
