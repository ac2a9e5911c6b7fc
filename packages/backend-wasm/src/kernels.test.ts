import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchMatMulClaimed } from './kernels/batch-mat-mul.js';
import { conv2dClaim } from './kernels/claims.js';
import { maxPoolGradClaim } from './kernels/max-pool-grad.js';
import { registerWasmKernels, unregisterWasmKernels, useWasm, wasmKernelOverrides } from './index.js';
import { onBackend, randomData, relError, seeded } from './test-utils.js';

type Pad = 'same' | 'valid' | number | number[][];
type Shape4 = [number, number, number, number];

const TOL = 1e-5;

beforeAll(async () => {
  await useWasm();
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Numbers of live tensors and of wasm data buffers (kernel intermediates are not tensors). */
function wasmCounts(): [number, number] {
  return [tf.memory().numTensors, tf.engine().backend.numDataIds()];
}

/** `compute`'s first output on wasm equals cpu's to TOL, leaking no tensors or wasm buffers. */
async function expectWasmMatchesCpu(compute: () => tf.Tensor[]): Promise<void> {
  const [expected] = await onBackend('cpu', compute);
  await tf.setBackend('wasm');
  const before = wasmCounts();
  const [actual] = await onBackend('wasm', compute);
  expect(wasmCounts()).toEqual(before);
  await tf.setBackend('cpu');
  expect(relError(actual!, expected!)).toBeLessThan(TOL);
}

/** Gradients of Σ conv(x, w) · r with respect to x and w, on `backend`. */
function convGrads(
  backend: string,
  depthwise: boolean,
  xShape: Shape4,
  wShape: Shape4,
  strides: [number, number],
  pad: Pad,
  seed: number,
): Promise<Float32Array[]> {
  const rand = seeded(seed);
  const xData = randomData(
    xShape.reduce((a, b) => a * b),
    rand,
  );
  const wData = randomData(
    wShape.reduce((a, b) => a * b),
    rand,
  );
  return onBackend(backend, () => {
    const x = tf.tensor4d(xData, xShape);
    const w = tf.tensor4d(wData, wShape);
    const f = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D =>
      depthwise ? tf.depthwiseConv2d(a, b, strides, pad as 'same') : tf.conv2d(a, b, strides, pad as 'same');
    const y0 = f(x, w);
    const yShape = y0.shape;
    tf.dispose(y0);
    const r = tf.tensor(
      randomData(
        yShape.reduce((a, b) => a * b),
        seeded(seed + 1),
      ),
      yShape,
    );
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), r)));
    const [dx, dw] = g([x, w]);
    tf.dispose([x, w, r]);
    return [dx as tf.Tensor, dw as tf.Tensor];
  });
}

interface Case {
  name: string;
  x: Shape4;
  /** conv2d: [fh, fw, C_in, C_out]; depthwise: [fh, fw, C, multiplier]. */
  w: Shape4;
  strides: [number, number];
  pad: Pad;
}

const convCases: Case[] = [
  { name: 'stride 1 same 3x3', x: [3, 9, 9, 2], w: [3, 3, 2, 5], strides: [1, 1], pad: 'same' },
  { name: 'stride 1 valid 3x3', x: [1, 8, 8, 3], w: [3, 3, 3, 4], strides: [1, 1], pad: 'valid' },
  { name: 'stride 1 same 2x2 (asymmetric pad)', x: [2, 7, 6, 3], w: [2, 2, 3, 2], strides: [1, 1], pad: 'same' },
  { name: 'stride 1 valid non-square filter', x: [3, 9, 7, 4], w: [3, 5, 4, 3], strides: [1, 1], pad: 'valid' },
  { name: 'stride 2 same even', x: [3, 10, 8, 2], w: [3, 3, 2, 3], strides: [2, 2], pad: 'same' },
  { name: 'stride 2 same odd', x: [1, 9, 11, 3], w: [3, 3, 3, 4], strides: [2, 2], pad: 'same' },
  { name: 'stride 2 valid odd', x: [3, 11, 9, 2], w: [3, 3, 2, 5], strides: [2, 2], pad: 'valid' },
  { name: 'stride 2 valid 1x1 filter', x: [2, 7, 6, 3], w: [1, 1, 3, 2], strides: [2, 2], pad: 'valid' },
  { name: 'stride 2 same 4x4 filter', x: [1, 9, 8, 2], w: [4, 4, 2, 3], strides: [2, 2], pad: 'same' },
  { name: 'strides [1, 2] same', x: [3, 7, 9, 2], w: [3, 2, 2, 4], strides: [1, 2], pad: 'same' },
  { name: 'stride 3 valid', x: [2, 11, 10, 3], w: [3, 3, 3, 2], strides: [3, 3], pad: 'valid' },
  { name: 'stride 4 same 3x3 (gaps)', x: [1, 13, 11, 2], w: [3, 3, 2, 3], strides: [4, 4], pad: 'same' },
  { name: 'numeric pad 1 stride 2', x: [2, 8, 9, 3], w: [3, 3, 3, 2], strides: [2, 2], pad: 1 },
  {
    name: 'explicit asymmetric pad',
    x: [3, 6, 7, 2],
    w: [3, 3, 2, 3],
    strides: [1, 2],
    pad: [
      [0, 0],
      [2, 0],
      [1, 3],
      [0, 0],
    ],
  },
  { name: 'MNIST-like C_in 1', x: [3, 12, 12, 1], w: [3, 3, 1, 4], strides: [1, 1], pad: 'valid' },
];

const depthwiseCases: Case[] = [
  { name: 'stride 1 same', x: [3, 8, 8, 3], w: [3, 3, 3, 1], strides: [1, 1], pad: 'same' },
  { name: 'stride 1 valid multiplier 2', x: [1, 9, 7, 2], w: [3, 3, 2, 2], strides: [1, 1], pad: 'valid' },
  { name: 'stride 2 same odd', x: [3, 9, 11, 4], w: [3, 3, 4, 1], strides: [2, 2], pad: 'same' },
  { name: 'stride 2 valid multiplier 3', x: [2, 10, 9, 2], w: [3, 3, 2, 3], strides: [2, 2], pad: 'valid' },
  { name: 'stride 2 same 5x5 filter', x: [1, 11, 10, 3], w: [5, 5, 3, 1], strides: [2, 2], pad: 'same' },
  { name: 'stride 1 same non-square 2x3 multiplier 2', x: [3, 7, 8, 2], w: [2, 3, 2, 2], strides: [1, 1], pad: 'same' },
  { name: 'strides [2, 1] valid', x: [1, 9, 8, 3], w: [3, 3, 3, 1], strides: [2, 1], pad: 'valid' },
  { name: 'stride 3 same', x: [2, 10, 11, 2], w: [3, 3, 2, 1], strides: [3, 3], pad: 'same' },
];

describe('every claimed kernel is registered', () => {
  it('lists and registers the twenty-four kernels', () => {
    expect(wasmKernelOverrides.map((k) => k.kernelName)).toEqual([
      'Conv2DBackpropInput',
      'Conv2DBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'DepthwiseConv2dNativeBackpropFilter',
      'BatchMatMul',
      'MaxPoolGrad',
      'Sign',
      'Log1p',
      'Sigmoid',
      'ClipByValue',
      'Relu6',
      'Selu',
      'Maximum',
      'Minimum',
      'Cast',
      'Tile',
      'OneHot',
      'GatherV2',
      'AdvxLinfProject',
      'AdvxLinfStep',
      'Less',
      'LessEqual',
      'Greater',
      'GreaterEqual',
    ]);
    const mark = Symbol.for('@advx/backend-wasm/kernel');
    for (const k of wasmKernelOverrides) {
      const kernelFunc = tf.getKernel(k.kernelName, 'wasm').kernelFunc as unknown as Record<symbol, unknown>;
      expect(kernelFunc[mark], k.kernelName).toBe(true);
    }
  });
});

describe.each([
  ['conv2d', false, convCases],
  ['depthwiseConv2d', true, depthwiseCases],
] as const)('%s gradients on wasm match cpu', (_label, depthwise, cases) => {
  it.each(cases)('$name', async ({ x, w, strides, pad }) => {
    expect(conv2dClaim({ strides, pad }, x, w, depthwise), 'claimed').not.toBeNull();
    const expected = await convGrads('cpu', depthwise, x, w, strides, pad, 7);
    const before = (await tf.setBackend('wasm'), wasmCounts());
    const actual = await convGrads('wasm', depthwise, x, w, strides, pad, 7);
    await tf.setBackend('wasm');
    expect(wasmCounts()).toEqual(before);
    await tf.setBackend('cpu');
    expect(actual).toHaveLength(2);
    expect(relError(actual[0]!, expected[0]!), 'input gradient').toBeLessThan(TOL);
    expect(relError(actual[1]!, expected[1]!), 'filter gradient').toBeLessThan(TOL);
  });
});

interface MatMulCase {
  name: string;
  a: number[];
  b: number[];
  transposeA: boolean;
  transposeB: boolean;
  /** Whether the advx kernel handles it (false: the stock kernel does). */
  claimed: boolean;
}

const matMulCases: MatMulCase[] = [
  { name: 'transposeA (dense weight gradient)', a: [33, 17], b: [33, 9], transposeA: true, transposeB: false, claimed: true },
  { name: 'transposeB (dense input gradient)', a: [5, 12], b: [7, 12], transposeA: false, transposeB: true, claimed: true },
  { name: 'both transposed', a: [12, 5], b: [7, 12], transposeA: true, transposeB: true, claimed: true },
  { name: 'batch of a, single b', a: [3, 4, 6], b: [6, 5], transposeA: false, transposeB: false, claimed: true },
  { name: 'rank-4 a, b with unit batch, transposeA', a: [2, 3, 6, 4], b: [1, 6, 5], transposeA: true, transposeB: false, claimed: true },
  { name: 'batch 1, no transposes (stock XNNPACK path)', a: [1, 4, 6], b: [6, 5], transposeA: false, transposeB: false, claimed: false },
  { name: 'batched b (stock path)', a: [3, 4, 6], b: [3, 5, 6], transposeA: false, transposeB: true, claimed: false },
];

describe('BatchMatMul on wasm matches cpu', () => {
  it.each(matMulCases)('$name', async ({ a, b, transposeA, transposeB, claimed }) => {
    const rand = seeded(3);
    const aData = randomData(
      a.reduce((p, q) => p * q),
      rand,
    );
    const bData = randomData(
      b.reduce((p, q) => p * q),
      rand,
    );
    const compute = (): tf.Tensor[] => {
      const ta = tf.tensor(aData, a);
      const tb = tf.tensor(bData, b);
      const y = tf.matMul(ta, tb, transposeA, transposeB);
      tf.dispose([ta, tb]);
      return [y];
    };
    await expectWasmMatchesCpu(compute);
    expect(batchMatMulClaimed(a, b, transposeA, transposeB)).toBe(claimed);
  });

  it('dense-layer gradients (both matmuls) match cpu', async () => {
    const rand = seeded(9);
    const xData = randomData(6 * 40, rand);
    const wData = randomData(40 * 8, rand);
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor2d(xData, [6, 40]);
      const w = tf.tensor2d(wData, [40, 8]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b))))([x, w]);
      tf.dispose([x, w]);
      return [dx!, dw!];
    };
    const expected = await onBackend('cpu', compute);
    const actual = await onBackend('wasm', compute);
    await tf.setBackend('cpu');
    expect(relError(actual[0]!, expected[0]!)).toBeLessThan(TOL);
    expect(relError(actual[1]!, expected[1]!)).toBeLessThan(TOL);
  });
});

/** Runs one backprop kernel directly (for attributes the public ops cannot produce). */
async function runKernelOn(
  backend: string,
  kernel: string,
  inputs: Record<string, { data: Float32Array; shape: number[] }>,
  attrs: Record<string, unknown>,
): Promise<Float32Array> {
  const [out] = await onBackend(backend, () => {
    const ts: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(inputs)) ts[k] = tf.tensor(v.data, v.shape);
    const y = tf.engine().runKernel(kernel, ts as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    tf.dispose(Object.values(ts));
    return [y];
  });
  return out!;
}

describe('outside the claims', () => {
  it('Conv2DBackpropInput with stride 5 falls back to the stock kernel and is correct', async () => {
    const attrs = { strides: [5, 5], pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: [2, 11, 12, 3] };
    expect(conv2dClaim(attrs as unknown as tf.NamedAttrMap, [2, 11, 12, 3], [3, 3, 3, 2], false)).toBeNull();
    const rand = seeded(5);
    const dy = { data: randomData(2 * 3 * 3 * 2, rand), shape: [2, 3, 3, 2] };
    const filter = { data: randomData(3 * 3 * 3 * 2, rand), shape: [3, 3, 3, 2] };
    const expected = await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, attrs);
    const actual = await runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs);
    await tf.setBackend('cpu');
    expect(relError(actual, expected)).toBeLessThan(TOL);
  });

  it('Conv2DBackpropInput in NCHW falls back to the stock kernel and is correct', async () => {
    const attrs = { strides: [1, 1], pad: 'valid', dataFormat: 'NCHW', dimRoundingMode: undefined, inputShape: [2, 3, 7, 6] };
    expect(conv2dClaim(attrs as unknown as tf.NamedAttrMap, [2, 3, 7, 6], [3, 3, 3, 4], false)).toBeNull();
    const rand = seeded(6);
    const dy = { data: randomData(2 * 4 * 5 * 4, rand), shape: [2, 4, 5, 4] };
    const filter = { data: randomData(3 * 3 * 3 * 4, rand), shape: [3, 3, 3, 4] };
    const expected = await runKernelOn('cpu', 'Conv2DBackpropInput', { dy, filter }, attrs);
    const actual = await runKernelOn('wasm', 'Conv2DBackpropInput', { dy, filter }, attrs);
    await tf.setBackend('cpu');
    expect(relError(actual, expected)).toBeLessThan(TOL);
  });

  it('DepthwiseConv2dNativeBackpropInput with dilation 2 (no stock kernel) throws a clear error', async () => {
    await tf.setBackend('wasm');
    const dy = tf.zeros([1, 5, 5, 2]);
    const filter = tf.zeros([3, 3, 2, 1]);
    const attrs = { strides: [1, 1], pad: 'same', dilations: [2, 2], inputShape: [1, 5, 5, 2] };
    expect(() => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap)).toThrow(
      /not available on the wasm backend for strides=\[1,1\], pad="same", dilations=\[2,2\]/,
    );
    tf.dispose([dy, filter]);
    await tf.setBackend('cpu');
  });

  it('Conv2DBackpropFilter with stride 5 (no stock kernel) throws a clear error and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const before = wasmCounts();
    const x = tf.zeros([1, 11, 11, 2]);
    const dy = tf.zeros([1, 3, 3, 2]);
    const attrs = { strides: [5, 5], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 2] };
    expect(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap)).toThrow(
      /Conv2DBackpropFilter is not available on the wasm backend for strides=\[5,5\]/,
    );
    tf.dispose([x, dy]);
    expect(wasmCounts()).toEqual(before);
    await tf.setBackend('cpu');
  });
});

type PoolPad = 'same' | 'valid' | number | number[][];

interface PoolCase {
  name: string;
  x: Shape4;
  pool: number | [number, number];
  strides: number | [number, number];
  pad: PoolPad;
  /** How the input is drawn. */
  data: 'signed' | 'negative' | 'constant' | 'repeated';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolInput(kind: PoolCase['data'], n: number, seed: number): Float32Array {
  const rand = seeded(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand();
    // negative: [-1, 0) only; repeated: a few small integers (many ties), mostly negative.
    out[i] = kind === 'signed' ? u : kind === 'negative' ? (u - 1) / 2 : kind === 'constant' ? -0.25 : Math.round(u * 2) - 1;
  }
  return out;
}

/** Input gradient of Σ maxPool(x) · r on `backend` (through the registered MaxPoolGrad kernel). */
function poolGrad(backend: string, c: PoolCase, seed: number): Promise<Float32Array[]> {
  const xData = poolInput(
    c.data,
    c.x.reduce((a, b) => a * b),
    seed,
  );
  return onBackend(backend, () => {
    const x = tf.tensor4d(xData, c.x);
    const f = (a: tf.Tensor4D): tf.Tensor4D => tf.maxPool(a, c.pool, c.strides, c.pad as 'same', c.dimRoundingMode);
    const y0 = f(x);
    const r = tf.tensor(randomData(y0.size, seeded(seed + 1)), y0.shape);
    tf.dispose(y0);
    // tfjs-core's MaxPool gradient drops dimRoundingMode (the kernel then sees a dy of the wrong
    // shape on every backend), so a rounding mode is tested on the kernel directly.
    const dx =
      c.dimRoundingMode === undefined
        ? tf.grad((a: tf.Tensor) => tf.sum(tf.mul(f(a as tf.Tensor4D), r)))(x)
        : tf.tidy(() => {
            const attrs = { filterSize: c.pool, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode };
            const inputs = { dy: r, input: x, output: f(x) };
            return tf.engine().runKernel('MaxPoolGrad', inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
          });
    tf.dispose([x, r]);
    return [dx];
  });
}

const poolCases: PoolCase[] = [
  { name: 'reported case: 4x4x3 signed, pool 2 stride 2 valid', x: [1, 4, 4, 3], pool: 2, strides: 2, pad: 'valid', data: 'signed' },
  { name: '28x28x3 signed, pool 2 stride 2 valid', x: [1, 28, 28, 3], pool: 2, strides: 2, pad: 'valid', data: 'signed' },
  { name: 'all negative, pool 2 stride 2 valid, batch 3', x: [3, 8, 8, 4], pool: 2, strides: 2, pad: 'valid', data: 'negative' },
  { name: 'all negative, pool 3 stride 1 same', x: [2, 7, 6, 3], pool: 3, strides: 1, pad: 'same', data: 'negative' },
  { name: 'all negative, pool 3 stride 2 same (odd sizes)', x: [2, 9, 7, 2], pool: 3, strides: 2, pad: 'same', data: 'negative' },
  { name: 'all negative, pool 2 stride 1 valid', x: [2, 6, 7, 3], pool: 2, strides: 1, pad: 'valid', data: 'negative' },
  { name: 'constant (every window tied), pool 2 stride 2 valid', x: [2, 6, 6, 3], pool: 2, strides: 2, pad: 'valid', data: 'constant' },
  { name: 'constant, pool 3 stride 1 same', x: [2, 5, 6, 2], pool: 3, strides: 1, pad: 'same', data: 'constant' },
  { name: 'constant, pool 2 stride 2 same (odd sizes)', x: [2, 7, 5, 2], pool: 2, strides: 2, pad: 'same', data: 'constant' },
  { name: 'repeated values, pool 2 stride 1 same', x: [3, 6, 6, 3], pool: 2, strides: 1, pad: 'same', data: 'repeated' },
  { name: 'repeated values, pool 3 stride 2 valid', x: [2, 9, 9, 4], pool: 3, strides: 2, pad: 'valid', data: 'repeated' },
  { name: 'repeated values, pool 3 stride 1 valid', x: [2, 7, 8, 2], pool: 3, strides: 1, pad: 'valid', data: 'repeated' },
  { name: 'signed, non-square pool [2, 3] strides [1, 2] same', x: [2, 7, 9, 3], pool: [2, 3], strides: [1, 2], pad: 'same', data: 'signed' },
  { name: 'signed, numeric pad 1 with dimRoundingMode ceil', x: [2, 8, 7, 2], pool: 3, strides: 2, pad: 1, data: 'signed', dimRoundingMode: 'ceil' },
  {
    name: 'negative, explicit asymmetric pad',
    x: [2, 6, 7, 2],
    pool: 3,
    strides: 2,
    pad: [
      [0, 0],
      [2, 0],
      [1, 2],
      [0, 0],
    ],
    data: 'negative',
  },
];

const POOL_TOL = 1e-6;

describe('MaxPoolGrad on wasm matches cpu (the stock kernel does not)', () => {
  it.each(poolCases)('$name', async (c) => {
    await tf.setBackend('wasm');
    const [dy, input] = [tf.zeros(c.x), tf.zeros(c.x)];
    const y = tf.maxPool(input as tf.Tensor4D, c.pool, c.strides, c.pad as 'same', c.dimRoundingMode);
    const attrs = { filterSize: c.pool, strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode };
    expect(maxPoolGradClaim(y, input, attrs as unknown as tf.NamedAttrMap), 'claimed').not.toBeNull();
    tf.dispose([dy, input, y]);
    const [expected] = await poolGrad('cpu', c, 11);
    await tf.setBackend('wasm');
    const before = wasmCounts();
    const [actual] = await poolGrad('wasm', c, 11);
    await tf.setBackend('wasm');
    expect(wasmCounts()).toEqual(before);
    await tf.setBackend('cpu');
    expect(relError(actual!, expected!)).toBeLessThan(POOL_TOL);
  });

  it('the stock wasm kernel is wrong on the reported all-negative case (why this kernel exists)', async () => {
    const c = poolCases[2]!;
    const [expected] = await poolGrad('cpu', c, 11);
    unregisterWasmKernels();
    try {
      const [stock] = await poolGrad('wasm', c, 11);
      expect(relError(stock!, expected!)).toBeGreaterThan(0.1);
    } finally {
      registerWasmKernels();
      await tf.setBackend('cpu');
    }
  });

  it('end to end: the input gradient of a conv → maxPool (signed, no ReLU) → dense model matches cpu', async () => {
    const rand = seeded(21);
    const xData = randomData(4 * 12 * 12 * 2, rand);
    const wData = randomData(3 * 3 * 2 * 6, rand);
    const dData = randomData(5 * 5 * 6 * 4, rand);
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor4d(xData, [4, 12, 12, 2]);
      const w = tf.tensor4d(wData, [3, 3, 2, 6]);
      const d = tf.tensor2d(dData, [5 * 5 * 6, 4]);
      const model = (a: tf.Tensor): tf.Tensor => {
        const h = tf.conv2d(a as tf.Tensor4D, w, 1, 'valid'); // [4, 10, 10, 6], signed
        const p = tf.maxPool(h, 2, 2, 'valid'); // [4, 5, 5, 6]
        return tf.logSoftmax(tf.matMul(tf.reshape(p, [4, -1]), d));
      };
      const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(model(a), tf.oneHot([0, 1, 2, 3], 4))))(x);
      tf.dispose([x, w, d]);
      return [dx];
    };
    await expectWasmMatchesCpu(compute);
  });

  it('claims float32 NHWC with dilations 1 only', () => {
    const x = { shape: [1, 6, 6, 2], dtype: 'float32' as const };
    const dy = { shape: [1, 3, 3, 2], dtype: 'float32' as const };
    const attrs = { filterSize: 2, strides: 2, pad: 'valid' } as unknown as tf.NamedAttrMap;
    expect(maxPoolGradClaim(dy, x, attrs)).not.toBeNull();
    expect(maxPoolGradClaim(dy, { ...x, dtype: 'int32' }, attrs)).toBeNull();
    expect(maxPoolGradClaim(dy, x, { ...attrs, dilations: [2, 2] })).toBeNull();
    expect(maxPoolGradClaim({ ...dy, shape: [1, 2, 2, 2] }, x, attrs)).toBeNull();
  });
});
