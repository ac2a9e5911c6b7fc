import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { useWebGPU } from './index.js';

// Its own file (its own process): Dawn reads the Vulkan driver list once per GPU object, and once a
// webgpu backend exists useWebGPU returns it. Under ADVX_BACKEND=webgpu the set-up already created one.
describe.skipIf(process.env.ADVX_BACKEND === 'webgpu')('useWebGPU without a Vulkan driver', () => {
  it('throws BACKEND_UNAVAILABLE naming the driver to install, before any tensor is made, and keeps cpu', async () => {
    process.env.VK_ICD_FILENAMES = '/nonexistent/advx/lvp_icd.json';
    // Dawn and the Vulkan loader report the missing driver on stderr themselves.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const before = tf.memory().numTensors;
    const error = await useWebGPU().then(
      () => null,
      (e: unknown) => e,
    );
    warn.mockRestore();
    expect(error).toMatchObject({ name: 'AdvxError', code: 'BACKEND_UNAVAILABLE' });
    const message = String((error as Error).message);
    expect(message).toMatch(/no WebGPU adapter/);
    expect(message).toMatch(/lavapipe.*bookworm-backports/);
    expect(message).toMatch(/install-lavapipe\.sh/);
    expect(message).toContain('/nonexistent/advx/lvp_icd.json');
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.engine().registry.webgpu).toBeUndefined();
    expect(tf.memory().numTensors).toBe(before);
  });
});
