/**
 * The `'fixed'` element-wise kernels of @advx/backend-wasm against the cpu backend, bitwise, on the
 * inputs attacks meet (gradients of 1e-45 … 1e-6, ±0) and on NaN, ±∞ and large values of both signs,
 * at a size small enough for scalar code paths and at 128×28×28 (the SIMD paths of the stock kernels).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasm, wasmKernelOverrides } from './index.js';

const TINY = [
  1e-45, 3e-45, 1e-42, 1e-40, 1.1754942e-38, 1.1754944e-38, 1e-30, 1e-20, 1e-12, 1e-10, 1e-9, 1e-8, 6e-8, 1e-7, 1.19e-7, 1.2e-7, 1.3e-7, 5e-7, 1e-6,
];
const OTHER = [0, -0, 0.1, 0.5, 0.49999997, 1, 1.5, 2.5, 3, 5.9, 6, 6.1, 7, 20, 80, 87, 87.4, 88, 89, 103, 104, 1e6, 1e20, 3.4e38, Infinity];
const FINITE = [...TINY, ...TINY.map((v) => -v), ...OTHER, ...OTHER.map((v) => -v)];
const SPECIAL = new Float32Array([...FINITE, NaN]);
const NAN_FREE = new Float32Array(FINITE);
/** `values` repeated to 128×28×28 elements. */
const big = (values: Float32Array): Float32Array => Float32Array.from({ length: 128 * 28 * 28 }, (_, i) => values[i % values.length]!);
/** A second operand: the same values in another order, so that every pair meets. */
const shuffled = (values: Float32Array): Float32Array => values.map((_, i) => values[(i * 7 + 3) % values.length]!);

beforeAll(async () => {
  await useWasm();
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

async function outputsOn(backend: string, compute: () => tf.Tensor): Promise<{ values: number[]; dtype: string }> {
  expect(await tf.setBackend(backend)).toBe(true);
  const out = tf.tidy(compute);
  try {
    return { values: Array.from(await out.data()), dtype: out.dtype };
  } finally {
    out.dispose();
  }
}

/** Indices where the wasm and cpu results are not the same float (Object.is; every NaN is one value). */
async function mismatches(compute: () => tf.Tensor): Promise<string[]> {
  const cpu = await outputsOn('cpu', compute);
  await tf.setBackend('wasm');
  const before = [tf.memory().numTensors, tf.engine().backend.numDataIds()];
  const wasm = await outputsOn('wasm', compute);
  expect([tf.memory().numTensors, tf.engine().backend.numDataIds()]).toEqual(before);
  await tf.setBackend('cpu');
  expect(wasm.dtype).toBe(cpu.dtype);
  expect(wasm.values.length).toBe(cpu.values.length);
  const bad: string[] = [];
  cpu.values.forEach((c, i) => {
    const w = wasm.values[i]!;
    if (!(Object.is(c, w) || (Number.isNaN(c) && Number.isNaN(w)))) bad.push(`#${i}: cpu ${Object.is(c, -0) ? '-0' : c}, wasm ${w}`);
  });
  return bad.slice(0, 5);
}

const unary: [string, (x: tf.Tensor) => tf.Tensor][] = [
  ['Sign', (x) => tf.sign(x)],
  ['Log1p', (x) => tf.log1p(x)],
  ['Sigmoid', (x) => tf.sigmoid(x)],
  ['ClipByValue', (x) => tf.clipByValue(x, -1, 1)],
  ['Relu6', (x) => tf.relu6(x)],
  ['Selu', (x) => tf.selu(x)],
  ['Cast', (x) => tf.cast(x, 'bool')],
];

describe('fixed element-wise kernels: wasm equals cpu bitwise', () => {
  it('registers every one as a fixed kernel', () => {
    const fixed = wasmKernelOverrides.filter((k) => k.kind === 'fixed').map((k) => k.kernelName);
    for (const name of [...unary.map(([n]) => n), 'Maximum', 'Minimum']) expect(fixed).toContain(name);
  });

  describe.each(unary)('%s', (_name, op) => {
    it.each([
      ['special values', SPECIAL],
      ['special values, NaN-free', NAN_FREE],
      ['special values at 128×28×28', big(SPECIAL)],
      ['NaN-free at 128×28×28', big(NAN_FREE)],
    ])('%s', async (_label, values) => {
      expect(await mismatches(() => op(tf.tensor1d(values)))).toEqual([]);
    });
  });

  it('Sign is ±1 on every tiny magnitude (the stock kernel gives 0 below 1.2e-7)', async () => {
    const wasm = await outputsOn('wasm', () => tf.sign(tf.tensor1d([...TINY, ...TINY.map((v) => -v), 0, -0, NaN])));
    await tf.setBackend('cpu');
    expect(wasm.values).toEqual([...TINY.map(() => 1), ...TINY.map(() => -1), 0, 0, 0]);
  });

  it('Cast to bool: non-zero and NaN are true, as on cpu, for float32 and int32; int32 casts unchanged', async () => {
    expect(await mismatches(() => tf.cast(tf.tensor1d([0.5, -0.25, 256, 1e-7, 0, -0, NaN, 3]), 'bool'))).toEqual([]);
    expect(await mismatches(() => tf.cast(tf.tensor1d([0, 1, 256, -7, 2 ** 31 - 1], 'int32'), 'bool'))).toEqual([]);
    expect(await mismatches(() => tf.cast(tf.tensor1d(SPECIAL), 'int32'))).toEqual([]);
    const wasm = await outputsOn('wasm', () => tf.cast(tf.tensor1d([0.5, 256, 1e-7, 0, NaN]), 'bool'));
    await tf.setBackend('cpu');
    expect(wasm.values).toEqual([1, 1, 1, 0, 1]);
  });

  it('Sigmoid keeps subnormal results (x ≤ −87.4), so log(sigmoid(x)) stays finite', async () => {
    expect(await mismatches(() => tf.log(tf.sigmoid(tf.tensor1d([-87, -88, -100, -103]))))).toEqual([]);
    const wasm = await outputsOn('wasm', () => tf.log(tf.sigmoid(tf.tensor1d([-88, -100]))));
    await tf.setBackend('cpu');
    expect(wasm.values.every(Number.isFinite)).toBe(true);
  });

  it('the gradients through Sigmoid and Softplus (sigmoid-based) match cpu', async () => {
    const x = (): tf.Tensor => tf.tensor1d(NAN_FREE);
    expect(await mismatches(() => tf.grad((v: tf.Tensor) => tf.sum(tf.sigmoid(v)))(x()))).toEqual([]);
    expect(await mismatches(() => tf.grad((v: tf.Tensor) => tf.sum(tf.softplus(v)))(x()))).toEqual([]);
  });

  describe.each([
    ['Maximum', tf.maximum],
    ['Minimum', tf.minimum],
  ] as const)('%s', (_name, op) => {
    const a = SPECIAL;
    const b = shuffled(SPECIAL);
    it.each([
      ['same shape', () => op(tf.tensor1d(a), tf.tensor1d(b))],
      ['NaN second operand', () => op(tf.tensor1d([1.5, -2, 0, Infinity]), tf.tensor1d([NaN, NaN, NaN, NaN]))],
      ['scalar second operand', () => op(tf.tensor1d(a), tf.scalar(0))],
      ['scalar first operand', () => op(tf.scalar(NaN), tf.tensor1d(b))],
      ['row broadcast [n, 4] with [4]', () => op(tf.tensor2d(big(a), [25088, 4]), tf.tensor1d([0.5, NaN, -0, -1e-9]))],
      ['column broadcast [3, 1, 4] with [2, 1]', () => op(tf.tensor3d(a.slice(0, 12), [3, 1, 4]), tf.tensor2d([NaN, -1e-30], [2, 1]))],
      ['both broadcast [5, 1] with [1, 6]', () => op(tf.tensor2d(a.slice(20, 25), [5, 1]), tf.tensor2d(b.slice(30, 36), [1, 6]))],
      ['128×28×28', () => op(tf.tensor1d(big(a)), tf.tensor1d(big(b)))],
    ])('%s', async (_label, compute) => {
      expect(await mismatches(compute)).toEqual([]);
    });
  });
});
