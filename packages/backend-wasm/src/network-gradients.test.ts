import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels, unregisterWasmKernels, useWasm, wasmKernelOverrides } from './index.js';
import { onBackend, randomData, relError, seeded } from './test-utils.js';

// The input gradients of MobileNetV2- and ResNet-18-style networks (bench/networks-worker.mjs) on
// wasm, against cpu: the kernels their backward passes use (depthwise and strided convolutions with
// numeric padding on even inputs, batch norm in inference mode and the Tile of its gradient, ReLU6,
// residual adds, max pooling 3/2/1, global average pooling) on small shapes.

const TOL = 1e-5;

beforeAll(async () => {
  await useWasm();
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

function wasmCounts(): [number, number] {
  return [tf.memory().numTensors, tf.engine().backend.numDataIds()];
}

/** Runs `compute` on cpu, then on wasm (counting tensors and wasm buffers around it). */
async function bothBackends(compute: () => tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[]; leaked: boolean }> {
  const cpu = await onBackend('cpu', compute);
  await tf.setBackend('wasm');
  const before = wasmCounts();
  const wasm = await onBackend('wasm', compute);
  const after = wasmCounts();
  await tf.setBackend('cpu');
  return { cpu, wasm, leaked: after[0] !== before[0] || after[1] !== before[1] };
}

describe('Tile on wasm equals cpu bitwise', () => {
  const cases: { name: string; shape: number[]; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }[] = [
    { name: 'batch-norm pattern [1,1,1,C] → [N,H,W,C]', shape: [1, 1, 1, 5], reps: [3, 4, 6, 1], dtype: 'float32' },
    { name: 'every axis repeated, rank 4', shape: [2, 3, 1, 4], reps: [2, 1, 3, 2], dtype: 'float32' },
    { name: 'rank 1', shape: [7], reps: [3], dtype: 'float32' },
    { name: 'rank 2 row mask (whereRows)', shape: [6, 1], reps: [1, 9], dtype: 'bool' },
    { name: 'rank 5 int32', shape: [2, 1, 3, 2, 2], reps: [1, 3, 2, 1, 2], dtype: 'int32' },
    { name: 'all reps 1 (a copy)', shape: [3, 4], reps: [1, 1], dtype: 'float32' },
    { name: 'a zero repetition', shape: [3, 4], reps: [2, 0], dtype: 'float32' },
    { name: 'rank 0', shape: [], reps: [], dtype: 'float32' },
  ];
  it.each(cases)('$name', async (c) => {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const rand = seeded(5);
    const values =
      c.dtype === 'float32'
        ? randomData(n, rand)
        : Int32Array.from({ length: n }, () => (c.dtype === 'bool' ? (rand() > 0 ? 1 : 0) : Math.round(rand() * 1e6)));
    const outShape = c.shape.map((d, i) => d * c.reps[i]!);
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor(values, c.shape, c.dtype);
      const y = tf.tile(x, c.reps);
      x.dispose();
      return [y];
    };
    const r = await bothBackends(compute);
    expect(r.leaked).toBe(false);
    expect(r.wasm[0]!.length).toBe(outShape.reduce((a, b) => a * b, 1));
    expect(Array.from(r.wasm[0]!)).toEqual(Array.from(r.cpu[0]!));
  });

  it('is registered as a faster kernel and replaces the stock one', async () => {
    expect(wasmKernelOverrides.find((k) => k.kernelName === 'Tile')?.kind).toBe('faster');
    const mark = Symbol.for('@advx/backend-wasm/kernel');
    const config = tf.getKernel('Tile', 'wasm');
    expect((config?.kernelFunc as unknown as Record<symbol, unknown>)[mark]).toBe(true);
    // The stock kernel computes the same values (the replacement is for speed only).
    const compute = (): tf.Tensor[] => [tf.tile(tf.tensor([1.5, -2, 3], [1, 3]), [4, 2])];
    const ours = await bothBackends(compute);
    unregisterWasmKernels();
    try {
      const stock = await bothBackends(compute);
      expect(Array.from(stock.wasm[0]!)).toEqual(Array.from(ours.wasm[0]!));
    } finally {
      registerWasmKernels();
    }
  });
});

describe('comparisons with a scalar on wasm equal cpu', () => {
  const ops = ['less', 'lessEqual', 'greater', 'greaterEqual'] as const;
  const special = [Number.NaN, 6, -6, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 5.999999, 6.000001];
  it.each(ops)('%s, scalar on either side, with NaN, ±0, ±∞ and values at the threshold', async (op) => {
    const values = Float32Array.from([...special, ...randomData(200, seeded(3)).map((v) => 8 * v)]);
    const compute = (): tf.Tensor[] =>
      tf.tidy(() => {
        const x = tf.tensor3d(values, [1, 11, 19]);
        return [tf[op](x, tf.scalar(6)), tf[op](tf.scalar(6), x), tf[op](x, tf.tensor([[[Number.NaN]]])), tf[op](tf.tensor1d([-0]), x)];
      });
    const r = await bothBackends(compute);
    expect(r.leaked).toBe(false);
    for (let i = 0; i < 4; i++) expect(Array.from(r.wasm[i]!)).toEqual(Array.from(r.cpu[i]!));
    // Not a constant answer: both outcomes occur against 6.
    expect(new Set(r.cpu[0]).size).toBe(2);
  });

  it('two non-scalar operands keep the stock kernel and still equal cpu', async () => {
    const a = randomData(24, seeded(8));
    const b = randomData(6, seeded(9));
    const compute = (): tf.Tensor[] => tf.tidy(() => [tf.lessEqual(tf.tensor2d(a, [4, 6]), tf.tensor1d(b))]);
    const r = await bothBackends(compute);
    expect(Array.from(r.wasm[0]!)).toEqual(Array.from(r.cpu[0]!));
  });

  it('the ReLU6 gradient (dy · (x ≤ 6) · step(x)) equals cpu', async () => {
    const values = Float32Array.from([...special, ...randomData(300, seeded(4)).map((v) => 9 * v)]);
    const compute = (): tf.Tensor[] => tf.tidy(() => [tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.relu6(x), tf.range(0, values.length))))(tf.tensor1d(values))]);
    const r = await bothBackends(compute);
    expect(r.leaked).toBe(false);
    expect(Array.from(r.wasm[0]!)).toEqual(Array.from(r.cpu[0]!));
  });
});

interface Params {
  readonly [name: string]: Float32Array;
}

/** Seeded weights for the small networks below (batch-norm variances kept positive). */
function params(shapes: Readonly<Record<string, number[]>>, seed: number): Params {
  const rand = seeded(seed);
  const out: Record<string, Float32Array> = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const v = randomData(
      shape.reduce((a, b) => a * b, 1),
      rand,
    );
    out[name] = name.endsWith('var') ? v.map((x) => 0.75 + 0.25 * x) : v.map((x) => 0.5 * x);
  }
  return out;
}

function bn(x: tf.Tensor4D, p: Params, prefix: string, c: number): tf.Tensor4D {
  const t = (k: string): tf.Tensor1D => tf.tensor1d(p[`${prefix}.${k}`]!.subarray(0, c));
  return tf.batchNorm(x, t('mean'), t('var'), t('offset'), t('scale'), 1e-5);
}

const bnShapes = (prefix: string, c: number): Record<string, number[]> =>
  Object.fromEntries(['mean', 'var', 'offset', 'scale'].map((k) => [`${prefix}.${k}`, [c]]));

/** Input gradient of the mean cross-entropy of `net` on seeded images `[n, h, w, c]`, labels `i mod k`. */
function inputGradient(net: (x: tf.Tensor4D) => tf.Tensor2D, shape: [number, number, number, number], k: number, seed: number): tf.Tensor[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(
      randomData(
        shape.reduce((a, b) => a * b, 1),
        seeded(seed),
      ).map((v) => 0.5 + 0.5 * v),
      shape,
    );
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: shape[0] }, (_, i) => i % k),
        'int32',
      ),
      k,
    );
    return [tf.grad((a: tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, net(a as tf.Tensor4D)))(x)];
  });
}

describe('network input gradients on wasm match cpu', () => {
  it('a MobileNetV2-style net: stride-2 depthwise (pad 1, even input), batch norm, ReLU6, residual add, mean', async () => {
    const p = params(
      {
        stem: [3, 3, 3, 8],
        ...bnShapes('bn0', 8),
        expand: [1, 1, 8, 24],
        ...bnShapes('bn1', 24),
        dw: [3, 3, 24, 1],
        ...bnShapes('bn2', 24),
        project: [1, 1, 24, 8],
        ...bnShapes('bn3', 8),
        dw2: [3, 3, 8, 1],
        ...bnShapes('bn4', 8),
        fc: [8, 5],
      },
      31,
    );
    const w = (k: string, s: number[]): tf.Tensor4D => tf.tensor4d(p[k]!, s as [number, number, number, number]);
    const net = (x: tf.Tensor4D): tf.Tensor2D => {
      const h0 = tf.relu6(bn(tf.conv2d(x, w('stem', [3, 3, 3, 8]), 2, 1), p, 'bn0', 8)); // [n, 6, 6, 8]
      const e = tf.relu6(bn(tf.conv2d(h0, w('expand', [1, 1, 8, 24]), 1, 'valid'), p, 'bn1', 24));
      const d = tf.relu6(bn(tf.depthwiseConv2d(e, w('dw', [3, 3, 24, 1]), 1, 1), p, 'bn2', 24));
      const h1: tf.Tensor4D = tf.add(h0, bn(tf.conv2d(d, w('project', [1, 1, 24, 8]), 1, 'valid'), p, 'bn3', 8)); // residual
      const h2 = tf.relu6(bn(tf.depthwiseConv2d(h1, w('dw2', [3, 3, 8, 1]), 2, 1), p, 'bn4', 8)); // [n, 3, 3, 8]
      return tf.matMul(tf.mean(h2, [1, 2]), tf.tensor2d(p.fc!, [8, 5]));
    };
    const r = await bothBackends(() => inputGradient(net, [3, 12, 12, 3], 5, 7));
    expect(r.leaked).toBe(false);
    expect(relError(r.wasm[0]!, r.cpu[0]!)).toBeLessThan(TOL);
    // The gradient is not trivially zero.
    expect(Math.max(...Array.from(r.cpu[0]!, Math.abs))).toBeGreaterThan(1e-4);
  });

  it('a ResNet-18-style net: 7×7/2 stem (pad 3), max pool 3/2/1, basic block with a 1×1/2 downsample, mean', async () => {
    const p = params(
      {
        stem: [7, 7, 3, 6],
        ...bnShapes('bn0', 6),
        a: [3, 3, 6, 10],
        ...bnShapes('bn1', 10),
        b: [3, 3, 10, 10],
        ...bnShapes('bn2', 10),
        down: [1, 1, 6, 10],
        ...bnShapes('bn3', 10),
        fc: [10, 4],
      },
      41,
    );
    const w = (k: string, s: number[]): tf.Tensor4D => tf.tensor4d(p[k]!, s as [number, number, number, number]);
    const net = (x: tf.Tensor4D): tf.Tensor2D => {
      const h0 = tf.maxPool(tf.relu(bn(tf.conv2d(x, w('stem', [7, 7, 3, 6]), 2, 3), p, 'bn0', 6)), 3, 2, 1); // [n, 4, 4, 6]
      const a = tf.relu(bn(tf.conv2d(h0, w('a', [3, 3, 6, 10]), 2, 1), p, 'bn1', 10)); // [n, 2, 2, 10]
      const b = bn(tf.conv2d(a, w('b', [3, 3, 10, 10]), 1, 1), p, 'bn2', 10);
      const down = bn(tf.conv2d(h0, w('down', [1, 1, 6, 10]), 2, 'valid'), p, 'bn3', 10);
      const h1 = tf.relu(tf.add(b, down));
      return tf.matMul(tf.mean(h1, [1, 2]), tf.tensor2d(p.fc!, [10, 4]));
    };
    const r = await bothBackends(() => inputGradient(net, [2, 16, 16, 3], 4, 9));
    expect(r.leaked).toBe(false);
    expect(relError(r.wasm[0]!, r.cpu[0]!)).toBeLessThan(TOL);
    expect(Math.max(...Array.from(r.cpu[0]!, Math.abs))).toBeGreaterThan(1e-4);
  });
});
