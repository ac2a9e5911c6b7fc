/**
 * WebGPU (Dawn on lavapipe) against the tfjs cpu backend on the zoo's trained mnist-cnn: the input
 * gradient of the cross-entropy and one PGD step agree within float32 tolerance. Each backend gets its
 * own copy of the model (tfjs cannot move tensors back from WebGPU synchronously in Node).
 *
 * The images get seeded uniform noise in [0, 0.01): on MNIST's constant background a max-pooling window
 * holds equal values, and the backends break such ties differently (cpu routes the gradient to the first
 * maximum, webgpu to the last) — both valid subgradients, but not equal ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { crossEntropy, Rng, type Model } from '@advx/core';
import { pgd } from '@advx/attacks';
import { loadDataset, loadModel } from '@advx/models-zoo';
import './lavapipe.js';
import { useWebGPU } from '../src/index.js';

const N = 8;
let xData: Float32Array;
let yData: Int32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const { x, y } = await loadDataset('mnist', { count: N, source: 'shipped' });
  const rng = new Rng(0);
  xData = Float32Array.from(await x.data(), (v) => Math.min(1, v + 0.01 * rng.uniform()));
  yData = Int32Array.from(await y.data());
  tf.dispose([x, y]);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs `f` on `backend` with a freshly loaded mnist-cnn and the N images; returns what it read back. */
async function on<T>(backend: 'cpu' | 'webgpu', f: (model: Model, x: tf.Tensor4D, y: tf.Tensor1D) => Promise<T>): Promise<T> {
  if (backend === 'webgpu') await useWebGPU();
  else await tf.setBackend('cpu');
  const zoo = await loadModel('mnist-cnn');
  const x = tf.tensor4d(xData, [N, 28, 28, 1]);
  const y = tf.tensor1d(yData, 'int32');
  const before = tf.memory().numTensors;
  try {
    const out = await f(zoo.model, x, y);
    expect(tf.memory().numTensors).toBe(before);
    return out;
  } finally {
    tf.dispose([x, y]);
    zoo.layers.dispose();
  }
}

const maxAbs = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
const maxOf = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('webgpu equals cpu on mnist-cnn', () => {
  it('input gradient of the summed cross-entropy (8 MNIST images)', async () => {
    const grad = (model: Model, x: tf.Tensor4D, y: tf.Tensor1D) => {
      const g = tf.grad((xi: tf.Tensor) => tf.sum(crossEntropy(model.logits(xi), y)))(x);
      return g.data().finally(() => g.dispose()) as Promise<Float32Array>;
    };
    const cpu = await on('cpu', grad);
    const gpu = await on('webgpu', grad);
    expect(tf.getBackend()).toBe('webgpu');
    expect(maxOf(cpu)).toBeGreaterThan(1e-3); // a real, non-vanishing gradient
    // float32 summation order differs (cpu measured 1.1e-4 of the largest entry); ties would give ~0.5.
    expect(maxAbs(cpu, gpu)).toBeLessThanOrEqual(1e-3 * maxOf(cpu));
  });

  it('one PGD step (Linf ε = 0.3, step 0.1, no random start): same adversarial images and success', async () => {
    const step = async (model: Model, x: tf.Tensor4D, y: tf.Tensor1D) => {
      const r = await pgd({ steps: 1, stepSize: 0.1, randomStart: false }).run(model, x, { labels: y }, { epsilons: [0.3] });
      const adv = (await r.clipped[0]!.data()) as Float32Array;
      const success = r.success[0]!;
      r.dispose();
      return { adv, success };
    };
    const cpu = await on('cpu', step);
    const gpu = await on('webgpu', step);
    // x + 0.1·sign(∇) clipped to [0, 1]: equal except where a gradient entry is ~0 and its sign flips.
    let differ = 0;
    for (let i = 0; i < cpu.adv.length; i++) if (Math.abs((cpu.adv[i] as number) - (gpu.adv[i] as number)) > 1e-5) differ++;
    expect(differ / cpu.adv.length).toBeLessThan(1e-3);
    expect(gpu.success).toEqual(cpu.success);
  });
});
