import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { l1, Rng } from '@advx/core';

import { projectL1Box } from './l1-box-projection.js';

/** Room the box [lo, hi] leaves around x in the direction of v. */
function room(x: number, v: number, lo: number, hi: number): number {
  return Math.max(0, v >= 0 ? hi - x : x - lo);
}

/**
 * Reference in float64, independent of the breakpoint sort: δᵢ(λ) = sign(vᵢ)·min(max(|vᵢ| − λ, 0), uᵢ),
 * λ found by 200 bisection steps on h(λ) = Σ|δᵢ(λ)| = eps (h is non-increasing), λ = 0 when h(0) ≤ eps.
 */
function reference(x: number[], v: number[], eps: number, lo: number, hi: number): number[] {
  const at = (lambda: number) => v.map((vi, i) => Math.sign(vi) * Math.min(Math.max(Math.abs(vi) - lambda, 0), room(x[i] as number, vi, lo, hi)));
  const h = (lambda: number) => at(lambda).reduce((s, di) => s + Math.abs(di), 0);
  if (h(0) <= eps) return at(0);
  let a = 0;
  let b = Math.max(...v.map(Math.abs));
  for (let i = 0; i < 200; i++) {
    const m = (a + b) / 2;
    if (h(m) > eps) a = m;
    else b = m;
  }
  return at((a + b) / 2);
}

const sq = (p: number[], q: number[]) => p.reduce((s, pi, i) => s + (pi - (q[i] as number)) ** 2, 0);
const norm1 = (p: number[]) => p.reduce((s, pi) => s + Math.abs(pi), 0);

async function project(x: number[][], v: number[][], eps: number, lo: number, hi: number): Promise<number[][]> {
  const xt = tf.tensor2d(x);
  const vt = tf.tensor2d(v);
  const p = projectL1Box(xt, vt, eps, lo, hi);
  const out = (await p.array()) as number[][];
  tf.dispose([xt, vt, p]);
  return out;
}

/** Random cases: x in the box (some coordinates on a bound), v of mixed scale (some zero entries). */
function cases(rng: Rng, n: number, d: number, lo: number, hi: number): { x: number[][]; v: number[][] } {
  const x = Array.from({ length: n }, () =>
    Array.from({ length: d }, () => {
      const u = rng.uniform();
      return u < 0.15 ? lo : u > 0.85 ? hi : lo + (hi - lo) * rng.uniform();
    }),
  );
  const v = Array.from({ length: n }, (_, i) => {
    const scale = [0.05, 0.3, 1, 3][i % 4] as number;
    return Array.from({ length: d }, () => (rng.uniform() < 0.1 ? 0 : scale * (hi - lo) * rng.normal()));
  });
  return { x, v };
}

describe('projectL1Box: the exact projection onto {‖δ‖₁ ≤ ε} ∩ {lo ≤ x + δ ≤ hi}', () => {
  it('matches a float64 bisection reference to 1e-6 (relative to max(1, ‖v‖∞)) on random cases (d = 1 … 12, several radii, two boxes)', async () => {
    const rng = new Rng(11);
    for (const [lo, hi] of [
      [0, 1],
      [-1, 2],
    ] as const) {
      for (const d of [1, 2, 3, 5, 8, 12]) {
        for (const eps of [0, 0.1, 0.5, 1.7, 4]) {
          const { x, v } = cases(rng, 16, d, lo, hi);
          const got = await project(x, v, eps, lo, hi);
          got.forEach((row, i) => {
            // The reference sees the float32 inputs the tensors hold; the tolerance is float32's
            // resolution at the scale of v (rows reach |v| ≈ 30).
            const xi = (x[i] as number[]).map(Math.fround);
            const vi = (v[i] as number[]).map(Math.fround);
            const want = reference(xi, vi, eps, lo, hi);
            const tol = 1e-6 * Math.max(1, ...vi.map(Math.abs));
            row.forEach((g, j) => expect(Math.abs(g - (want[j] as number)), `d ${d}, eps ${eps}, row ${i}, entry ${j}`).toBeLessThanOrEqual(tol));
          });
        }
      }
    }
  });

  it('is the closest feasible point: ⟨v − p, q − p⟩ ≤ 0 for every feasible q (random points and vertices of the set)', async () => {
    const rng = new Rng(5);
    const d = 6;
    const eps = 0.8;
    const { x, v } = cases(rng, 24, d, 0, 1);
    const got = await project(x, v, eps, 0, 1);
    got.forEach((p, i) => {
      const xi = x[i] as number[];
      const vi = v[i] as number[];
      expect(norm1(p)).toBeLessThanOrEqual(eps + 1e-6);
      p.forEach((pj, j) => {
        expect((xi[j] as number) + pj).toBeGreaterThanOrEqual(-1e-7);
        expect((xi[j] as number) + pj).toBeLessThanOrEqual(1 + 1e-7);
      });
      const candidates: number[][] = [];
      // Vertices of the L1 ball clipped to the box along each axis, both signs.
      for (let j = 0; j < d; j++) {
        for (const s of [1, -1]) {
          const q = new Array<number>(d).fill(0);
          q[j] = s * Math.min(eps, room(xi[j] as number, s, 0, 1));
          candidates.push(q);
        }
      }
      // Random feasible points: box-feasible, then scaled into the ball.
      for (let c = 0; c < 200; c++) {
        const q = xi.map((xj) => rng.uniform() - xj);
        const s = norm1(q);
        candidates.push(s > eps ? q.map((qj) => (qj * eps) / s) : q);
      }
      const dist = sq(p, vi);
      for (const q of candidates) {
        const inner = vi.reduce((s, vj, j) => s + (vj - (p[j] as number)) * ((q[j] as number) - (p[j] as number)), 0);
        expect(inner, `row ${i}`).toBeLessThanOrEqual(1e-6);
        expect(sq(q, vi)).toBeGreaterThanOrEqual(dist - 1e-6);
      }
    });
  });

  it('leaves a perturbation that is already feasible unchanged, and clips to the box when the clipped point fits the ball', async () => {
    const x = [
      [0.2, 0.5, 0.9, 0],
      [0.2, 0.5, 0.9, 0],
    ];
    const v = [
      [0.1, -0.2, 0.05, 0.1], // feasible: ‖v‖₁ = 0.45 ≤ 0.5, inside the box
      [0.1, -0.2, 0.3, -0.4], // box-clipped: (0.1, −0.2, 0.1, 0), ‖·‖₁ = 0.4 ≤ 0.5
    ];
    const got = await project(x, v, 0.5, 0, 1);
    (got[0] as number[]).forEach((g, j) => expect(g).toBe(Math.fround((v[0] as number[])[j] as number)));
    [0.1, -0.2, 0.1, 0].forEach((w, j) => expect((got[1] as number[])[j]).toBeCloseTo(w, 6));
  });

  it('differs from "L1 projection, then clip": a hand-worked case where that wastes budget', async () => {
    // x = (0.9, 0.5), v = (1, 0.6), ε = 0.5, box [0, 1]: the room is u = (0.1, 0.5).
    // Exact: δ₁ = min(1 − λ, 0.1) = 0.1, δ₂ = min(0.6 − λ, 0.5); 0.1 + 0.6 − λ = 0.5 → λ = 0.2, δ = (0.1, 0.4).
    const x = [[0.9, 0.5]];
    const v = [[1, 0.6]];
    const [exact] = await project(x, v, 0.5, 0, 1);
    expect(exact?.[0]).toBeCloseTo(0.1, 6);
    expect(exact?.[1]).toBeCloseTo(0.4, 6);
    const xt = tf.tensor2d(x);
    const naive = tf.tidy(() => tf.sub(tf.clipByValue(tf.add(xt, l1.project(tf.tensor2d(v), 0.5)), 0, 1), xt));
    const n = (await naive.array()) as number[][];
    // Duchi: (1, 0.6) onto ε = 0.5 → θ = 0.55, (0.45, 0.05); clipped: (0.1, 0.05), only 0.15 of the budget.
    expect(n[0]?.[0]).toBeCloseTo(0.1, 6);
    expect(n[0]?.[1]).toBeCloseTo(0.05, 6);
    expect(sq(exact as number[], [1, 0.6])).toBeLessThan(sq(n[0] as number[], [1, 0.6]) - 0.1);
    tf.dispose([xt, naive]);
  });

  it('works on image-shaped batches row by row (a batch equals its rows alone) and leaks no tensor', async () => {
    const rng = new Rng(9);
    const vals = Array.from({ length: 3 * 28 * 28 }, () => 2 * rng.normal());
    const xs = Array.from({ length: 3 * 28 * 28 }, () => (rng.uniform() < 0.6 ? 0 : rng.uniform()));
    const x = tf.tensor4d(xs, [3, 28, 28, 1]);
    const v = tf.tensor4d(vals, [3, 28, 28, 1]);
    const before = tf.memory().numTensors;
    const p = projectL1Box(x, v, 12, 0, 1);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(p.shape).toEqual([3, 28, 28, 1]);
    const all = Array.from(await p.data());
    for (let r = 0; r < 3; r++) {
      const xr = tf.slice(x, r, 1);
      const vr = tf.slice(v, r, 1);
      const pr = projectL1Box(xr, vr, 12, 0, 1);
      const row = Array.from(await pr.data());
      const ref = reference(xs.slice(r * 784, (r + 1) * 784), vals.slice(r * 784, (r + 1) * 784), 12, 0, 1);
      row.forEach((g, j) => {
        expect(g).toBe(all[r * 784 + j]);
        expect(Math.abs(g - (ref[j] as number))).toBeLessThanOrEqual(1e-5);
      });
      expect(norm1(row)).toBeLessThanOrEqual(12 * (1 + 1e-5));
      expect(norm1(row)).toBeGreaterThan(12 * (1 - 1e-5));
      tf.dispose([xr, vr, pr]);
    }
    tf.dispose([x, v, p]);
  });
});
