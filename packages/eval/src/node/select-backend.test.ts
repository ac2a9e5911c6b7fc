import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { isAdvxError } from '@advx/core';

import { selectBackend } from './select-backend.js';

describe('selectBackend', () => {
  it("'tensorflow' without @tensorflow/tfjs-node(-gpu) installed: BACKEND_UNAVAILABLE saying what to install; the backend is unchanged", async () => {
    const before = tf.getBackend();
    const error = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(isAdvxError(error) && error.code).toBe('BACKEND_UNAVAILABLE');
    expect((error as Error).message).toContain('npm install @tensorflow/tfjs-node@~4.22.0');
    expect(tf.getBackend()).toBe(before);
  });

  it('an unknown name: INVALID_OPTION listing the choices', async () => {
    const error = await selectBackend('metal' as never).catch((e: unknown) => e);
    expect(isAdvxError(error) && error.code).toBe('INVALID_OPTION');
    expect((error as Error).message).toContain('cpu, wasm, webgpu or tensorflow');
  });
});
