/**
 * The fused Linf kernels (`AdvxLinfProject`, `AdvxLinfStep`) against `@advx/core`'s composition on
 * the cpu backend, bitwise: values straddling the ε-ball and the bounds, zero and NaN gradients, NaN
 * inputs, a step size per row and one for all, ε = 0 and ε = ∞. And: the kernels run (one kernel
 * per call), leak nothing, and a gradient tape gets the composition.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LINF_PROJECT_KERNEL, LINF_STEP_KERNEL, linfProject, linfSignStep } from '@advx/core';

import { useWasm } from './index.js';
import { LINF_PROJECT, LINF_STEP } from './kernels/linf-step.js';
import { seeded } from './test-utils.js';

beforeAll(async () => {
  await useWasm();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Seeded values in [lo, hi), with NaN at every `nanEvery`-th position (0: none) and zeros at every 7th. */
function values(n: number, seed: number, lo: number, hi: number, nanEvery = 0): Float32Array {
  const rand = seeded(seed);
  return Float32Array.from({ length: n }, (_, i) => (nanEvery > 0 && i % nanEvery === 3 ? Number.NaN : i % 7 === 0 ? 0 : lo + ((rand() + 1) / 2) * (hi - lo)));
}

interface Case {
  readonly shape: number[];
  readonly eps: number;
  readonly bounds: [number, number];
  readonly nan: boolean;
}

const CASES: Case[] = [
  { shape: [7, 5, 5, 3], eps: 0.1, bounds: [0, 1], nan: false },
  { shape: [7, 5, 5, 3], eps: 0.3, bounds: [0, 1], nan: true },
  { shape: [3, 11], eps: 0, bounds: [0, 1], nan: true },
  { shape: [3, 11], eps: Infinity, bounds: [-0.5, 0.7], nan: false },
  { shape: [1, 784], eps: 8 / 255, bounds: [0, 1], nan: false },
];

/** The inputs of a case: origin in the bounds, an iterate around it beyond the ball and the bounds, a gradient. */
function inputs(c: Case, seed: number): { x: Float32Array; origin: Float32Array; grad: Float32Array; alpha: Float32Array } {
  const size = c.shape.reduce((p, d) => p * d, 1);
  const [lo, hi] = c.bounds;
  const origin = values(size, seed, lo, hi, c.nan ? 17 : 0);
  const noise = values(size, seed + 1, -0.5, 0.5);
  // NaN in x′ where origin has none too (every 19th), besides origin's NaN (every 17th).
  const x = Float32Array.from(origin, (v, i) => (c.nan && i % 19 === 5 ? Number.NaN : v + noise[i]!));
  const grad = values(size, seed + 2, -1e-3, 1e-3, c.nan ? 13 : 0);
  const alpha = values(c.shape[0]!, seed + 3, 0.001, 0.2);
  return { x, origin, grad, alpha };
}

async function run(backend: string, compute: () => tf.Tensor): Promise<{ bits: Uint32Array; kernels: string[] }> {
  expect(await tf.setBackend(backend)).toBe(true);
  const before = tf.memory().numTensors;
  let out: tf.Tensor | undefined;
  const profile = await tf.profile(() => {
    out = compute();
    return out;
  });
  const bits = new Uint32Array(new Float32Array(await (out as tf.Tensor).data()).buffer);
  tf.dispose(out);
  expect(tf.memory().numTensors, 'no tensor leaks').toBe(before);
  return { bits, kernels: profile.kernelNames };
}

describe('the fused Linf kernels on wasm give the composition’s float32 bits (cpu)', () => {
  it('use the names @advx/core dispatches to', () => {
    expect([LINF_PROJECT, LINF_STEP]).toEqual([LINF_PROJECT_KERNEL, LINF_STEP_KERNEL]);
  });

  describe.each(CASES.map((c, k) => [`[${c.shape.join(', ')}], ε ${c.eps}, bounds ${c.bounds.join('…')}${c.nan ? ', NaN' : ''}`, c, k] as const))(
    '%s',
    (_name, c, k) => {
      const data = inputs(c, 100 + 10 * k);
      const t = (v: Float32Array, shape = c.shape) => tf.tensor(v, shape, 'float32');

      it('linfProject', async () => {
        const compute = () => tf.tidy(() => linfProject(t(data.x), t(data.origin), c.eps, c.bounds));
        const cpu = await run('cpu', compute);
        const wasm = await run('wasm', compute);
        expect(cpu.kernels).not.toContain(LINF_PROJECT);
        expect(wasm.kernels.filter((n) => n !== 'Reshape')).toEqual([LINF_PROJECT]);
        expect(Array.from(wasm.bits)).toEqual(Array.from(cpu.bits));
      });

      it.each([
        ['one step size for every row', 0.05],
        ['a step size per row', undefined],
      ] as const)('linfSignStep, %s', async (_label, scalar) => {
        const compute = () =>
          tf.tidy(() => linfSignStep(t(data.x), t(data.grad), t(data.origin), scalar ?? (t(data.alpha, [c.shape[0]!]) as tf.Tensor1D), c.eps, c.bounds));
        const cpu = await run('cpu', compute);
        const wasm = await run('wasm', compute);
        expect(cpu.kernels).not.toContain(LINF_STEP);
        expect(wasm.kernels.filter((n) => n !== 'Reshape' && n !== 'Fill' && n !== 'Cast')).toEqual([LINF_STEP]);
        expect(Array.from(wasm.bits)).toEqual(Array.from(cpu.bits));
      });
    },
  );

  it('inside a gradient tape the composition runs on wasm, and its gradient flows', async () => {
    expect(await tf.setBackend('wasm')).toBe(true);
    const x = tf.tensor2d([[0.5, 0.5, 0.98]]);
    const g = tf.tensor2d([[1, -1, 1]]);
    const dx = tf.grad((v: tf.Tensor) => tf.sum(linfSignStep(v, g, x, 0.05, 0.1, [0, 1])))(x);
    // Inside the ball and the bounds the step is the identity plus a constant: gradient 1; clipped at 1: 0.
    expect(Array.from(await dx.data())).toEqual([1, 1, 0]);
    tf.dispose([x, g, dx]);
  });
});
