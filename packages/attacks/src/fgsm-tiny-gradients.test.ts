/**
 * FGSM on wasm when every input gradient is tiny (issue #22): a linear model whose weights are
 * about 1e-9, so ∇ₓ of its loss has entries of 1e-10 … 1e-9, far below the 1.2e-7 under which
 * tfjs-backend-wasm 4.22's stock `Sign` returns 0. The Linf step must still move every pixel by
 * exactly ε, on wasm (with @advx/backend-wasm's kernels) as on cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { registerWasmKernels, unregisterWasmKernels, useWasm } from '@advx/backend-wasm';
import { linearModel } from '@advx/core/testing';

import { fgsm } from './fgsm.js';

const D = 24;
const EPS = 0.1;
/** Class 1's weights: ±(1 … 5)·1e-9, more negative than positive; class 0's are 0. */
const W1 = Array.from({ length: D }, (_, j) => (j % 3 === 0 ? 1 : -1) * (1 + (j % 5)) * 1e-9);
const X = [Array.from({ length: D }, (_, j) => 0.3 + 0.02 * j), Array.from({ length: D }, (_, j) => 0.8 - 0.015 * j)];

let initial = 'cpu';
beforeAll(async () => {
  initial = tf.getBackend();
  await useWasm();
});
afterAll(async () => {
  registerWasmKernels();
  await tf.setBackend(initial);
});

/** FGSM-Linf's clipped adversarials of X (label 0) on `backend`. */
async function attack(backend: string): Promise<Float32Array> {
  expect(await tf.setBackend(backend)).toBe(true);
  const model = linearModel({ weights: [new Array<number>(D).fill(0), W1] });
  const before = tf.memory().numTensors;
  const x = tf.tensor2d(X);
  const labels = tf.tensor1d([0, 0], 'int32');
  const result = await fgsm().run(model, x, { labels }, { epsilons: [EPS] });
  const adv = new Float32Array(await result.clipped[0]!.data());
  result.dispose();
  tf.dispose([x, labels]);
  expect(tf.memory().numTensors).toBe(before);
  return adv;
}

/** Closed form: class 0 has logit 0 > x·w₁ (so the label is right), ∇ₓ CE = p₁·w₁, sign = sign(w₁). */
const expected = Float32Array.from(X.flatMap((row) => row.map((v, j) => Math.fround(Math.fround(v) + Math.sign(W1[j]!) * Math.fround(EPS)))));

describe('fgsm: gradients of 1e-10 … 1e-9 (issue #22)', () => {
  it('the fixture is what it claims: clean logits favour class 0, gradients are all below 1e-8', () => {
    for (const row of X) expect(row.reduce((s, v, j) => s + v * W1[j]!, 0)).toBeLessThan(0);
    expect(Math.max(...W1.map(Math.abs))).toBeLessThan(1e-8);
  });

  it('moves every pixel by exactly ε on wasm, as on cpu', async () => {
    const cpu = await attack('cpu');
    const wasm = await attack('wasm');
    expect(Array.from(cpu)).toEqual(Array.from(expected));
    expect(Array.from(wasm)).toEqual(Array.from(expected));
  });

  it("with tfjs-backend-wasm's stock kernels the same attack leaves the pixels unmoved (the bug this guards)", async () => {
    unregisterWasmKernels();
    try {
      const stock = await attack('wasm');
      const moved = Array.from(stock).filter((v, i) => v !== Math.fround(X[Math.floor(i / D)]![i % D]!)).length;
      expect(moved).toBe(0);
    } finally {
      registerWasmKernels();
    }
  });
});
