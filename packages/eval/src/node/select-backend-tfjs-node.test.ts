import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { selectBackend } from './select-backend.js';

// tfjs-node cannot be installed on these machines: stand in for it with a module that does what its
// entry does, registering a backend named 'tensorflow' with the shared tfjs-core engine.
// (@tensorflow/tfjs-node-gpu is really absent: selectBackend tries it first and moves on.)
vi.mock('@tensorflow/tfjs-node', async () => {
  const core = await import('@tensorflow/tfjs-core');
  const { MathBackendCPU } = await import('@tensorflow/tfjs-backend-cpu');
  core.registerBackend('tensorflow', () => new MathBackendCPU());
  return { version: { 'tfjs-node': '4.22.0' } };
});

const previous = tf.getBackend();
afterAll(async () => {
  await tf.setBackend(previous);
  if (tf.findBackendFactory('tensorflow') !== null) tf.removeBackend('tensorflow');
});

describe("selectBackend('tensorflow') with a user-installed @tensorflow/tfjs-node", () => {
  it('falls back from tfjs-node-gpu to tfjs-node and makes its backend active', async () => {
    expect(await selectBackend('tensorflow')).toBe('tensorflow (@tensorflow/tfjs-node, native TensorFlow kernels)');
    expect(tf.getBackend()).toBe('tensorflow');
  });
});
