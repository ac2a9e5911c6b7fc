import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterAll, describe, expect, it } from 'vitest';
import { registerWasmKernels, unregisterWasmKernels, useWasm, wasmKernelOverrides } from './index.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('useWasm', () => {
  it('rejects a bad threads option before touching the backend', async () => {
    await expect(useWasm({ threads: 0 })).rejects.toMatchObject({ name: 'AdvxError', code: 'INVALID_OPTION' });
    expect(tf.engine().registry.wasm).toBeUndefined();
  });

  it('initialises wasm in Node from the installed binaries and registers the kernels', async () => {
    const info = await useWasm();
    expect(tf.getBackend()).toBe('wasm');
    expect(info).toEqual({
      backend: 'wasm',
      simd: true,
      threads: 1,
      kernels: wasmKernelOverrides.map((k) => k.kernelName),
    });
    // The wasm backend computes: a conv2d filter gradient (a kernel the stock backend lacks).
    const x = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
    const dw = tf.grad((w: tf.Tensor) => tf.sum(tf.conv2d(x, w as tf.Tensor4D, 1, 'valid')))(tf.zeros([3, 3, 1, 1]));
    expect(Array.from(await dw.data())).toEqual(new Array(9).fill(4));
    tf.dispose([x, dw]);
  });

  it('is idempotent, and its kernels can be removed and registered again', async () => {
    expect(registerWasmKernels()).toEqual([]);
    await useWasm({ threads: 2 }); // already initialised: accepted, no effect
    expect(tf.getBackend()).toBe('wasm');
    const removed = unregisterWasmKernels();
    expect([...removed].sort()).toEqual(wasmKernelOverrides.map((k) => k.kernelName).sort());
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBeDefined(); // the stock one is back
    expect(registerWasmKernels()).toHaveLength(wasmKernelOverrides.length);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('documents every kernel it registers', () => {
    for (const k of wasmKernelOverrides) {
      expect(k.claims.length).toBeGreaterThan(40);
      expect(k.otherwise.length).toBeGreaterThan(10);
      expect(['faster', 'missing', 'fixed']).toContain(k.kind);
    }
    expect(wasmKernelOverrides.find((k) => k.kernelName === 'MaxPoolGrad')?.kind).toBe('fixed');
  });
});
