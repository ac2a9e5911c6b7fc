import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { Rng } from '@advx/core';

import { expectCode } from '../test/fixtures.js';

import { latentAttack, type EncoderDecoder } from './latent-attack.js';

/** Rows of a seeded k × d matrix with orthonormal rows (Gram–Schmidt). */
function orthonormalRows(seed: number, k: number, d: number): number[][] {
  const rng = new Rng(seed);
  const rows: number[][] = [];
  while (rows.length < k) {
    let v = Array.from({ length: d }, () => rng.normal());
    for (const r of rows) {
      const dot = v.reduce((s, x, j) => s + x * (r[j] as number), 0);
      v = v.map((x, j) => x - dot * (r[j] as number));
    }
    const len = Math.hypot(...v);
    rows.push(v.map((x) => x / len));
  }
  return rows;
}

const d = 8;
const E = orthonormalRows(1, 3, d);
const Et = tf.keep(tf.transpose(tf.tensor2d(E)) as tf.Tensor2D);
/** A linear autoencoder: enc(x) = E x, dec(z) = Eᵀ z, on [−10, 10]^8 (the bounds never bind here). */
const linearAe: EncoderDecoder = {
  inputShape: [d],
  bounds: [-10, 10],
  encode: (x) => tf.matMul(x as tf.Tensor2D, Et),
  decode: (z) => tf.matMul(z, Et, false, true),
};

function batch(seed: number, n: number): { rows: number[][]; t: tf.Tensor2D } {
  const rng = new Rng(seed);
  const rows = Array.from({ length: n }, () => Array.from({ length: d }, () => 2 * rng.uniform() - 1));
  return { rows, t: tf.tensor2d(rows) };
}

describe('latentAttack', () => {
  it('linear autoencoder, L2: reaches the closed-form optimum max(0, ‖E(t − x)‖ − ε) with δ in E’s row space', async () => {
    const src = batch(2, 6);
    const tgt = batch(3, 6);
    const eps = 1.0;
    const r = await latentAttack(linearAe, src.t, tgt.t, { epsilon: eps, steps: 300, relStepSize: 0.01 });
    const u = src.rows.map((x, i) => E.map((e) => e.reduce((s, v, j) => s + v * ((tgt.rows[i]?.[j] as number) - (x[j] as number)), 0)));
    const uNorm = u.map((v) => Math.hypot(...v));
    expect(uNorm.some((v) => v > eps) && uNorm.some((v) => v < eps)).toBe(true);
    uNorm.forEach((v, i) => {
      expect(r.initialLatentDistance[i]).toBeCloseTo(v, 4);
      expect(Math.abs((r.latentDistance[i] as number) - Math.max(0, v - eps))).toBeLessThan(0.02);
      expect(r.perturbationL2[i]).toBeLessThanOrEqual(eps + 1e-4);
    });
    // δ has no component outside the row space: (I − EᵀE)δ = 0.
    const delta = tf.sub(r.adversarial, src.t);
    const off = tf.tidy(() => tf.max(tf.abs(tf.sub(delta, tf.matMul(tf.matMul(delta, Et), Et, false, true)))));
    expect((await off.data())[0]).toBeLessThan(1e-4);
    tf.dispose([delta, off, src.t, tgt.t]);
    r.dispose();
  });

  it('Linf budget holds; a nonlinear autoencoder’s reconstruction moves toward the target; leaks nothing', async () => {
    const rng = new Rng(5);
    const W1 = tf.keep(
      tf.tensor2d(
        Array.from({ length: d * 4 }, () => 0.5 * rng.normal()),
        [d, 4],
      ),
    );
    const W2 = tf.keep(
      tf.tensor2d(
        Array.from({ length: 4 * d }, () => rng.normal() * 0.5),
        [4, d],
      ),
    );
    const ae: EncoderDecoder = {
      inputShape: [d],
      bounds: [-1, 1],
      encode: (x) => tf.tanh(tf.matMul(x as tf.Tensor2D, W1)) as tf.Tensor2D,
      decode: (z) => tf.tanh(tf.matMul(z, W2)),
    };
    const src = batch(6, 5);
    const tgt = batch(7, 5);
    const before = tf.memory().numTensors;
    const r = await latentAttack(ae, src.t, tgt.t, { epsilon: 0.5, norm: 'linf', steps: 100 });
    const clean = tf.tidy(() => tf.mean(tf.square(tf.sub(ae.decode(ae.encode(src.t)), tgt.t)), 1));
    const cleanMse = await clean.data();
    clean.dispose();
    const inf = tf.tidy(() => tf.max(tf.abs(tf.sub(r.adversarial, src.t))));
    expect((await inf.data())[0]).toBeLessThanOrEqual(0.5 + 1e-5);
    inf.dispose();
    Array.from(r.latentDistance).forEach((v, i) => expect(v).toBeLessThan(0.8 * (r.initialLatentDistance[i] as number)));
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(mean(r.reconstructionToTarget)).toBeLessThan(mean(cleanMse));
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([W1, W2, src.t, tgt.t]);
  });

  it('rejects bad input before any work', async () => {
    const src = batch(2, 2);
    const one = batch(3, 1);
    const outside = tf.fill([2, d], 20);
    await expectCode('INVALID_MODEL', () => latentAttack({} as never, src.t, src.t, { epsilon: 1 }));
    await expectCode('INVALID_EPSILON', () => latentAttack(linearAe, src.t, src.t, { epsilon: 0 }));
    await expectCode('UNSUPPORTED_NORM', () => latentAttack(linearAe, src.t, src.t, { epsilon: 1, norm: 'l1' as never }));
    await expectCode('INVALID_OPTION', () => latentAttack(linearAe, src.t, src.t, { epsilon: 1, steps: 0 }));
    await expect(latentAttack(linearAe, src.t, src.t, { epsilon: 1, steps: 0 })).rejects.toThrow('latentAttack: steps must be an integer in [1, ∞), got 0.');
    await expect(latentAttack(linearAe, src.t, src.t, { epsilon: 1, relStepSize: 0 })).rejects.toThrow(
      'latentAttack: relStepSize must be a finite number in (0, ∞), got 0.',
    );
    await expectCode('INVALID_OPTION', () => latentAttack(linearAe, src.t, src.t, { epsilon: 1, iterations: 3 } as never));
    await expectCode('BATCH_MISMATCH', () => latentAttack(linearAe, src.t, one.t, { epsilon: 1 }));
    await expectCode('OUT_OF_BOUNDS', () => latentAttack(linearAe, src.t, outside, { epsilon: 1 }));
    const ac = new AbortController();
    await expectCode('ABORTED', () => latentAttack(linearAe, src.t, src.t, { epsilon: 1, signal: ac.signal, onProgress: (p) => p.step === 3 && ac.abort() }));
    tf.dispose([src.t, one.t, outside]);
  });
});
