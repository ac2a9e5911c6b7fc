import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, describe, expect, it } from 'vitest';
import { useWasm } from './index.js';
import { onBackend, randomData, relError, seeded } from './test-utils.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

// Its own file: the thread count is fixed when the wasm backend initialises (once per process).
describe('useWasm({ threads: 2 }) in Node', () => {
  it('loads the threaded binary with 2 XNNPACK threads and computes the same gradients as cpu', async () => {
    const info = await useWasm({ threads: 2 });
    expect(info.threads).toBe(2);
    expect(tf.getBackend()).toBe('wasm');
    const rand = seeded(21);
    const xData = randomData(4 * 12 * 12 * 3, rand);
    const wData = randomData(3 * 3 * 3 * 16, rand);
    const compute = (): tf.Tensor[] => {
      const x = tf.tensor4d(xData, [4, 12, 12, 3]);
      const w = tf.tensor4d(wData, [3, 3, 3, 16]);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'))))([x, w]);
      tf.dispose([x, w]);
      return [dx!, dw!];
    };
    const expected = await onBackend('cpu', compute);
    const actual = await onBackend('wasm', compute);
    expect(relError(actual[0]!, expected[0]!)).toBeLessThan(1e-5);
    expect(relError(actual[1]!, expected[1]!)).toBeLessThan(1e-5);
    expect(URL.createObjectURL(new Blob(['1'], { type: 'application/javascript' }))).toMatch(/^blob:/);
  });
});
