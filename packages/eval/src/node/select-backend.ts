import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '@advx/core';

/**
 * A tfjs backend the `advx` command can run on.
 *
 * @public
 */
export type BackendName = 'cpu' | 'wasm' | 'webgpu';

/**
 * Makes `name` the active tfjs backend: `wasm` through `useWasm()` of `@advx/backend-wasm` (with
 * its gradient kernels; `threads` default min(2, cores)), `cpu` (pure JS), or `webgpu` through
 * `useWebGPU()` of `@advx/backend-webgpu` (in Node: Dawn from the optional `webgpu` package and a
 * Vulkan driver, see that package's README).
 *
 * @param name - the backend.
 * @param threads - wasm threads (default min(2, logical cores)).
 * @returns a line describing the backend.
 * @throws AdvxError `BACKEND_UNAVAILABLE` when the backend cannot be set up; `INVALID_OPTION` for an unknown name.
 *
 * @example
 * ```ts
 * console.log(await selectBackend('wasm')); // 'wasm (SIMD true, 2 threads)'
 * ```
 * @public
 */
export async function selectBackend(name: BackendName, threads?: number): Promise<string> {
  tf.env().set('PROD', true);
  if (name === 'wasm') {
    const { useWasm } = await import('@advx/backend-wasm');
    const info = await useWasm({ threads: threads ?? Math.max(1, Math.min(2, os.availableParallelism())) });
    return `wasm (SIMD ${info.simd}, ${info.threads} thread${info.threads > 1 ? 's' : ''})`;
  }
  if (name === 'cpu') {
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new AdvxError('BACKEND_UNAVAILABLE', 'the tfjs cpu backend could not be initialised.');
    return 'cpu (pure JavaScript)';
  }
  if (name === 'webgpu') {
    const { useWebGPU } = await import('@advx/backend-webgpu');
    const info = await useWebGPU();
    return `webgpu (${info.adapter || 'adapter'}, ${info.runtime})`;
  }
  throw new AdvxError('INVALID_OPTION', `unknown backend '${String(name)}': use cpu, wasm or webgpu.`);
}
