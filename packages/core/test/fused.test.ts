/**
 * `linfProject` and `linfSignStep`: closed-form values, bad input, and the dispatch to a registered
 * kernel (outside gradient tapes only). The bit-for-bit agreement of the wasm kernels with this
 * composition is tested in `@advx/backend-wasm`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { isAdvxError, LINF_PROJECT_KERNEL, LINF_STEP_KERNEL, linfProject, linfSignStep } from '../src/index.js';

/** Reads `t` back (asynchronously: a GPU backend in Node has no synchronous read) and compares it with `want`. */
const close = async (t: tf.Tensor, want: number[][]) => {
  const got = (await t.array()) as number[][];
  got.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(want[i]![j]!, 6)));
};

function noLeak(f: () => tf.Tensor): void {
  const before = tf.memory().numTensors;
  f().dispose();
  expect(tf.memory().numTensors).toBe(before);
}

describe('linfProject', () => {
  it('clips to the ball around the origin, then to the bounds', async () => {
    const origin = tf.tensor2d([
      [0.5, 0.5, 0.95],
      [0.1, 0.0, 0.3],
    ]);
    const v = tf.tensor2d([
      [0.9, 0.2, 1.2],
      [-0.5, 0.05, 0.31],
    ]);
    const p = linfProject(v, origin, 0.1, [0, 1]);
    await close(p, [
      [0.6, 0.4, 1],
      [0, 0.05, 0.31],
    ]);
    const unbounded = linfProject(v, origin, Infinity, [0, 1]);
    await close(unbounded, [
      [0.9, 0.2, 1],
      [0, 0.05, 0.31],
    ]);
    tf.dispose([origin, v, p, unbounded]);
  });

  it('refuses mismatched shapes and bad radii before any work, and leaks nothing', () => {
    const a = tf.zeros([2, 3]);
    const b = tf.zeros([2, 4]);
    const before = tf.memory().numTensors;
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isAdvxError(e) ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => linfProject(a, b, 0.1, [0, 1]))).toBe('INVALID_SHAPE');
    expect(code(() => linfProject(a, a, Number.NaN, [0, 1]))).toBe('INVALID_EPSILON');
    expect(code(() => linfProject(a, a, -1, [0, 1]))).toBe('INVALID_EPSILON');
    expect(code(() => linfProject(a, a, 0.1, [1, 0]))).toBe('INVALID_OPTION');
    expect(code(() => linfSignStep(a, a, a, tf.zeros([3]) as tf.Tensor1D, 0.1, [0, 1]))).toBe('INVALID_SHAPE');
    expect(code(() => linfSignStep(a, b, a, 0.1, 0.1, [0, 1]))).toBe('INVALID_SHAPE');
    expect(code(() => linfSignStep(a, a, a, Number.NaN, 0.1, [0, 1]))).toBe('INVALID_OPTION');
    expect(tf.memory().numTensors).toBe(before + 1); // the tf.zeros([3]) of the step-size case
    noLeak(() => linfProject(a, a, 0.1, [0, 1]));
    tf.dispose([a, b]);
  });
});

describe('linfSignStep', () => {
  it('takes α·sign(g) per row (zero gradient: no move), then projects', async () => {
    const x = tf.tensor2d([
      [0.5, 0.5, 0.5],
      [0.2, 0.98, 0.0],
    ]);
    const g = tf.tensor2d([
      [2, -3, 0],
      [1, 1, -1],
    ]);
    const scalar = linfSignStep(x, g, x, 0.05, 0.1, [0, 1]);
    await close(scalar, [
      [0.55, 0.45, 0.5],
      [0.25, 1, 0],
    ]);
    const perRow = tf.tensor1d([0.05, 0.5]);
    const rows = linfSignStep(x, g, x, perRow, 0.1, [0, 1]);
    await close(rows, [
      [0.55, 0.45, 0.5],
      [0.3, 1, 0],
    ]);
    noLeak(() => linfSignStep(x, g, x, perRow, 0.1, [0, 1]));
    tf.dispose([x, g, scalar, perRow, rows]);
  });
});

describe('dispatch to a registered kernel', () => {
  const calls: string[] = [];
  afterEach(() => {
    for (const name of [LINF_PROJECT_KERNEL, LINF_STEP_KERNEL]) {
      if (tf.getKernel(name, tf.getBackend())) tf.unregisterKernel(name, tf.getBackend());
    }
    calls.length = 0;
  });

  /** A kernel for the active backend that records its call and returns `x` + 1000 (recognisable). */
  function register(name: string): void {
    tf.registerKernel({
      kernelName: name,
      backendName: tf.getBackend(),
      kernelFunc: ({ inputs, backend }) => {
        calls.push(name);
        const b = backend as tf.KernelBackend;
        const x = inputs.x as tf.TensorInfo;
        const values = Float32Array.from(b.readSync(x.dataId) as Float32Array, (v) => v + 1000);
        return { dataId: b.write(values, x.shape, 'float32'), shape: x.shape, dtype: 'float32' };
      },
    });
  }

  // On the cpu backend, whatever backend the suite runs on: the recording kernel reads its input synchronously.
  let suiteBackend = 'cpu';
  beforeAll(async () => {
    suiteBackend = tf.getBackend();
    await tf.setBackend('cpu');
  });
  afterAll(async () => {
    await tf.setBackend(suiteBackend);
  });

  it('runs the kernel outside gradient tapes and the composition inside them', async () => {
    register(LINF_PROJECT_KERNEL);
    register(LINF_STEP_KERNEL);
    const x = tf.tensor2d([[0.5, 0.5]]);
    const g = tf.tensor2d([[1, -1]]);
    const p = linfProject(x, x, 0.1, [0, 1]);
    const s = linfSignStep(x, g, x, 0.05, 0.1, [0, 1]);
    expect(calls).toEqual([LINF_PROJECT_KERNEL, LINF_STEP_KERNEL]);
    await close(p, [[1000.5, 1000.5]]);
    await close(s, [[1000.5, 1000.5]]);
    // Inside a tape the composition runs, and its gradient flows (d/dx of sum(P(x + α sign g)) = 1 inside the ball).
    const dx = tf.grad((v: tf.Tensor) => tf.sum(linfSignStep(v, g, x, 0.05, 0.1, [0, 1])))(x);
    expect(calls).toEqual([LINF_PROJECT_KERNEL, LINF_STEP_KERNEL]);
    await close(dx, [[1, 1]]);
    tf.dispose([x, g, p, s, dx]);
  });
});
