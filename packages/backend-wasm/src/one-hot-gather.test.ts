/**
 * The `'fixed'` `OneHot` and `GatherV2` of @advx/backend-wasm against the cpu backend: one-hot
 * float32 and bool outputs (the stock kernel writes int32 bits into them), indices out of range, other
 * on/off values; gathers with batchDims 1 and 2 (the stock kernel reads wrong rows).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useWasm } from './index.js';

beforeAll(async () => {
  await useWasm();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

async function on(backend: string, compute: () => tf.Tensor): Promise<{ values: number[]; dtype: string; shape: number[] }> {
  expect(await tf.setBackend(backend)).toBe(true);
  const before = tf.memory().numTensors;
  const out = tf.tidy(compute);
  try {
    return { values: Array.from(await out.data()), dtype: out.dtype, shape: out.shape };
  } finally {
    out.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }
}

describe('OneHot', () => {
  const cases: [string, () => tf.Tensor][] = [
    ['float32', () => tf.oneHot(tf.tensor1d([0, 3, 1, 2], 'int32'), 4, 1, 0, 'float32')],
    [
      'float32, on 0.9 / off 0.025 (label smoothing)',
      () =>
        tf.oneHot(
          tf.tensor2d(
            [
              [2, 0],
              [1, 1],
            ],
            [2, 2],
            'int32',
          ),
          3,
          0.9,
          0.025,
          'float32',
        ),
    ],
    ['float32, indices out of range', () => tf.oneHot(tf.tensor1d([-1, 5, 2], 'int32'), 4, 1, 0, 'float32')],
    ['bool', () => tf.oneHot(tf.tensor1d([1, 0, 2], 'int32'), 3, 1, 0, 'bool')],
    ['int32 (the stock kernel)', () => tf.oneHot(tf.tensor1d([1, 0, 2], 'int32'), 3)],
  ];
  for (const [name, compute] of cases) {
    it(`${name}: equals the cpu backend`, async () => {
      const cpu = await on('cpu', compute);
      const wasm = await on('wasm', compute);
      expect(wasm).toEqual(cpu);
    });
  }
  it('float32 ones are 1, not the bits of the integer 1', async () => {
    const wasm = await on('wasm', () => tf.oneHot(tf.tensor1d([1], 'int32'), 2, 1, 0, 'float32'));
    expect(wasm.values).toEqual([0, 1]);
  });
});

describe('GatherV2 with batchDims', () => {
  const x = () =>
    tf.tensor3d(
      Array.from({ length: 24 }, (_, i) => i * 0.5 - 3),
      [2, 3, 4],
    );
  const cases: [string, () => tf.Tensor][] = [
    [
      'batchDims 1, axis 1 (per-row indices)',
      () =>
        tf.gather(
          x(),
          tf.tensor2d(
            [
              [2, 0],
              [1, 1],
            ],
            [2, 2],
            'int32',
          ),
          1,
          1,
        ),
    ],
    [
      'batchDims 1, axis 2',
      () =>
        tf.gather(
          x(),
          tf.tensor2d(
            [
              [3, 0, 1],
              [2, 2, 0],
            ],
            [2, 3],
            'int32',
          ),
          2,
          1,
        ),
    ],
    [
      'batchDims 2, axis 2',
      () =>
        tf.gather(
          x(),
          tf.tensor3d(
            [
              [[1], [3], [0]],
              [[2], [2], [1]],
            ],
            [2, 3, 1],
            'int32',
          ),
          2,
          2,
        ),
    ],
    ['batchDims 0 (the stock kernel)', () => tf.gather(x(), tf.tensor1d([2, 0], 'int32'), 1)],
  ];
  for (const [name, compute] of cases) {
    it(`${name}: equals the cpu backend`, async () => {
      const cpu = await on('cpu', compute);
      const wasm = await on('wasm', compute);
      expect(wasm).toEqual(cpu);
    });
  }
});

it('GatherV2 with batchDims: an index out of range throws the stock message and leaks nothing', async () => {
  expect(await tf.setBackend('wasm')).toBe(true);
  const x = tf.zeros([2, 3, 4]);
  const indices = tf.tensor2d(
    [
      [0, 4],
      [1, 1],
    ],
    [2, 2],
    'int32',
  );
  const before = tf.memory().numTensors;
  expect(() => tf.gather(x, indices, 2, 1)).toThrow(/GatherV2: the index value 4 is not in \[0, 3\]/);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, indices]);
});
