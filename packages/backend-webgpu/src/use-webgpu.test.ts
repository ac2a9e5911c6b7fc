import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import '../test/lavapipe.js';
import { useWebGPU } from './index.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('useWebGPU in Node (Dawn on Mesa lavapipe)', () => {
  it('rejects bad options before touching the GPU', async () => {
    const before = tf.getBackend();
    await expect(useWebGPU({ powerPreference: 'fast' as 'low-power' })).rejects.toMatchObject({ name: 'AdvxError', code: 'INVALID_OPTION' });
    await expect(useWebGPU({ dawnOptions: [1 as unknown as string] })).rejects.toMatchObject({ name: 'AdvxError', code: 'INVALID_OPTION' });
    expect(tf.getBackend()).toBe(before);
  });

  it('makes webgpu the active backend on the lavapipe adapter, and it computes', async () => {
    const info = await useWebGPU();
    expect(info).toMatchObject({ backend: 'webgpu', runtime: 'node' });
    expect(info.adapter).toMatch(/llvmpipe|lavapipe/i);
    expect(tf.getBackend()).toBe('webgpu');
    expect(process.env.XDG_RUNTIME_DIR).toBeTruthy();
    const before = tf.memory().numTensors;
    const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const b = tf.tensor2d([1, 0, -1, 2, 0.5, 1], [3, 2]);
    const c = tf.matMul(a, b);
    // [[1·1+2·(−1)+3·0.5, 1·0+2·2+3·1], [4·1+5·(−1)+6·0.5, 4·0+5·2+6·1]]
    expect(Array.from(await c.data())).toEqual([0.5, 7, 2, 16]);
    tf.dispose([a, b, c]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is idempotent and switches back after another backend was selected', async () => {
    const first = await useWebGPU();
    await tf.setBackend('cpu');
    const again = await useWebGPU();
    expect(tf.getBackend()).toBe('webgpu');
    expect(again).toEqual(first);
  });
});
