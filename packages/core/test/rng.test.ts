import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { AdvxError, BatchRng, deriveSeed, Rng } from '../src/index.js';

function draws(rng: Rng, n: number, f: (r: Rng) => number = (r) => r.uniform()): number[] {
  return Array.from({ length: n }, () => f(rng));
}

function meanVar(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
  const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AdvxError);
  expect((caught as AdvxError).code).toBe(code);
}

const N = 100_000;

describe('Rng', () => {
  it('same seed gives the same sequence; different seeds differ', () => {
    const a = draws(new Rng(42), 1000, (r) => r.nextUint32());
    const b = draws(new Rng(42), 1000, (r) => r.nextUint32());
    const c = draws(new Rng(43), 1000, (r) => r.nextUint32());
    expect(a).toEqual(b);
    // Two independent uint32 streams agree at a position with probability 2^-32.
    expect(a.filter((v, i) => v === c[i]).length).toBe(0);
    a.forEach((v) => {
      expect(Number.isInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(2 ** 32);
    });
    // The seed is reduced to 32 bits after flooring: 42.7 ≡ 42 and 2^32 + 42 ≡ 42.
    expect(draws(new Rng(42.7), 10)).toEqual(draws(new Rng(42), 10));
    expect(draws(new Rng(2 ** 32 + 42), 10)).toEqual(draws(new Rng(42), 10));
  });

  it('uniform: in [0, 1), mean ≈ 1/2 and variance ≈ 1/12 over 1e5 draws', () => {
    const u = draws(new Rng(1), N);
    expect(u.reduce((m, v) => Math.min(m, v), Infinity)).toBeGreaterThanOrEqual(0);
    expect(u.reduce((m, v) => Math.max(m, v), -Infinity)).toBeLessThan(1);
    const { mean, variance } = meanVar(u);
    // sd of the mean = sqrt(1/12 / 1e5) ≈ 9.1e-4: tolerance 5e-3 is > 5 sd.
    expect(Math.abs(mean - 0.5)).toBeLessThan(5e-3);
    // sd of the sample variance ≈ sqrt((μ4 − σ⁴)/n) = sqrt((1/80 − 1/144)/1e5) ≈ 2.4e-4: tolerance 1.5e-3 > 6 sd.
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(1.5e-3);
  });

  it('normal: mean ≈ 0 and variance ≈ 1 over 1e5 draws', () => {
    const z = draws(new Rng(2), N, (r) => r.normal());
    const { mean, variance } = meanVar(z);
    // sd of the mean = 1/sqrt(1e5) ≈ 3.2e-3: tolerance 0.016 ≈ 5 sd.
    expect(Math.abs(mean)).toBeLessThan(0.016);
    // sd of the sample variance = sqrt(2/n) ≈ 4.5e-3: tolerance 0.025 ≈ 5.6 sd.
    expect(Math.abs(variance - 1)).toBeLessThan(0.025);
    // Tails: P(|z| > 1.96) = 0.05, binomial sd sqrt(0.05·0.95/1e5) ≈ 6.9e-4: tolerance 4e-3.
    const tail = z.filter((v) => Math.abs(v) > 1.959964).length / N;
    expect(Math.abs(tail - 0.05)).toBeLessThan(4e-3);
    expect(z.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('int(n): in range and uniform (χ² bound)', () => {
    const n = 7;
    const total = 70_000;
    const rng = new Rng(3);
    const counts = new Array<number>(n).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < total; i++) {
      const v = rng.int(n);
      if (!Number.isInteger(v) || v < 0 || v >= n) outOfRange++;
      else counts[v] = (counts[v] as number) + 1;
    }
    expect(outOfRange).toBe(0);
    const expected = total / n;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // χ² with 6 degrees of freedom: P(χ² > 22.46) = 0.001 under uniformity.
    expect(chi2).toBeLessThan(22.46);
    expect(draws(new Rng(9), 50, (r) => r.int(1))).toEqual(new Array<number>(50).fill(0));
    expectCode(() => new Rng(0).int(0), 'INVALID_OPTION');
    expectCode(() => new Rng(0).int(2.5), 'INVALID_OPTION');
  });

  it('permutation: a permutation of 0..n-1, deterministic for a seed', () => {
    for (const n of [0, 1, 2, 17, 100]) {
      const p = new Rng(5).permutation(n);
      expect(p).toBeInstanceOf(Int32Array);
      expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(Array.from(new Rng(5).permutation(n))).toEqual(Array.from(p));
    }
    const p = Array.from(new Rng(5).permutation(100));
    const q = Array.from(new Rng(6).permutation(100));
    expect(q).not.toEqual(p);
    // Fixed points of a uniform permutation: mean 1 (Poisson(1)); 100 elements with ≥ 10 has probability < 1e-7.
    expect(p.filter((v, i) => v === i).length).toBeLessThan(10);
    // Each position is uniform: over 3000 permutations of 3, all 6 orders appear ~500 times (χ², 5 dof, 0.001 → 20.52).
    const rng = new Rng(8);
    const counts = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      const key = Array.from(rng.permutation(3)).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    const chi2 = [...counts.values()].reduce((s, c) => s + (c - 500) ** 2 / 500, 0);
    expect(chi2).toBeLessThan(20.52);
  });

  it('fork is deterministic, depends on the key, and does not advance the parent', () => {
    const parent = new Rng(10);
    parent.uniform();
    const twin = new Rng(10);
    twin.uniform();
    const f1 = draws(parent.fork(3), 20);
    const f2 = draws(twin.fork(3), 20);
    expect(f1).toEqual(f2);
    const f3 = draws(parent.fork(4), 20);
    expect(f3.filter((v, i) => v === f1[i]).length).toBe(0);
    // parent forked twice, twin once: they still produce the same next draws.
    expect(draws(parent, 20)).toEqual(draws(twin, 20));
    // The fork differs from the parent's own continuation.
    const p = new Rng(10);
    const fork = draws(p.fork(3), 20);
    const own = draws(p, 20);
    expect(own).toEqual(draws(new Rng(10), 20));
    expect(fork.filter((v, i) => v === own[i]).length).toBe(0);
  });

  it('rejects a non-finite seed with INVALID_OPTION', () => {
    expectCode(() => new Rng(NaN), 'INVALID_OPTION');
    expectCode(() => new Rng(Infinity), 'INVALID_OPTION');
    expectCode(() => new Rng(-Infinity), 'INVALID_OPTION');
  });
});

describe('deriveSeed', () => {
  it('is deterministic, a uint32, and differs across keys, key order and base seeds', () => {
    expect(deriveSeed(1, 2, 3)).toBe(deriveSeed(1, 2, 3));
    const seeds = new Set<number>();
    for (let k = 0; k < 1000; k++) {
      const s = deriveSeed(7, k);
      expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
      seeds.add(s);
    }
    // 1000 distinct keys give 1000 distinct seeds (a bijective mix of a 32-bit state).
    expect(seeds.size).toBe(1000);
    expect(deriveSeed(7, 1, 2)).not.toBe(deriveSeed(7, 2, 1));
    expect(deriveSeed(7, 1)).not.toBe(deriveSeed(8, 1));
    expect(deriveSeed(7, 1)).not.toBe(deriveSeed(7, 1, 0));
    expect(deriveSeed(7)).not.toBe(7);
  });
});

describe('BatchRng', () => {
  it('row j draws from the stream of global index offset + j', async () => {
    const before = tf.memory().numTensors;
    const whole = new BatchRng(99, 0, 5).uniform([5, 4]);
    const part = new BatchRng(99, 2, 3).uniform([3, 4]);
    const rows = tf.slice(whole, [2, 0], [3, 4]);
    expect(Array.from(await part.data())).toEqual(Array.from(await rows.data()));
    // ... and each row equals the Rng(deriveSeed(seed, index)) stream.
    const expected = [2, 3, 4].flatMap((i) => draws(new Rng(deriveSeed(99, i)), 4).map((v) => Math.fround(v)));
    expect(Array.from(await part.data())).toEqual(expected);
    // Normals too, with mean/std applied.
    const nWhole = new BatchRng(99, 0, 5, 1).normal([5, 2, 3], 0.5, 2);
    const nPart = new BatchRng(99, 2, 3, 1).normal([3, 2, 3], 0.5, 2);
    const nRows = tf.slice(nWhole, [2, 0, 0], [3, 2, 3]);
    expect(Array.from(await nPart.data())).toEqual(Array.from(await nRows.data()));
    const nExpected = [2, 3, 4].flatMap((i) => draws(new Rng(deriveSeed(99, i, 1)), 6, (r) => Math.fround(0.5 + 2 * r.normal())));
    expect(Array.from(await nPart.data())).toEqual(nExpected);
    tf.dispose([whole, part, rows, nWhole, nPart, nRows]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('ints, uniforms, size and the [lo, hi) range', async () => {
    const before = tf.memory().numTensors;
    const b = new BatchRng(4, 10, 6);
    expect(b.size).toBe(6);
    expect(Array.from(new BatchRng(4, 10, 6).ints(5))).toEqual([10, 11, 12, 13, 14, 15].map((i) => new Rng(deriveSeed(4, i)).int(5)));
    expect(Array.from(b.uniforms())).toEqual([10, 11, 12, 13, 14, 15].map((i) => Math.fround(new Rng(deriveSeed(4, i)).uniform())));
    const t = new BatchRng(4, 0, 8).uniform([8, 50], -3, -1);
    const v = await t.data();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(-3);
    expect(Math.max(...v)).toBeLessThanOrEqual(-1);
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([8, 50]);
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws INVALID_SHAPE when shape[0] is not the number of rows', () => {
    const before = tf.memory().numTensors;
    const b = new BatchRng(0, 0, 3);
    expectCode(() => b.uniform([4, 2]), 'INVALID_SHAPE');
    expectCode(() => b.normal([2]), 'INVALID_SHAPE');
    expectCode(() => b.uniform([]), 'INVALID_SHAPE');
    expect(tf.memory().numTensors).toBe(before);
  });
});
