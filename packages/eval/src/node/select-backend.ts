import os from 'node:os';

import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '@advx/core';

/**
 * A tfjs backend the `advx` command can run on.
 *
 * @public
 */
export type BackendName = 'cpu' | 'wasm' | 'webgpu' | 'tensorflow';

/** The packages that provide tfjs's native `tensorflow` backend, in the order they are tried. */
const TFJS_NODE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

/** `import(name)`: true once loaded, false when the package is not installed (any other failure throws). */
async function importIfInstalled(name: string): Promise<boolean> {
  try {
    await import(/* @vite-ignore */ name);
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = (e as Error).message ?? '';
    // Node says ERR_MODULE_NOT_FOUND; bundlers and vite-based runners say "Could not resolve" / "Failed to load".
    const notFound =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)|Could not resolve|Failed to (load|resolve)/.test(message);
    if (notFound && message.includes(name)) return false;
    throw new AdvxError('BACKEND_UNAVAILABLE', `${name} is installed but failed to load: ${message}`, { package: name });
  }
}

/**
 * Makes `name` the active tfjs backend: `wasm` through `useWasm()` of `@advx/backend-wasm` (with
 * its gradient kernels; `threads` default min(2, cores)), `cpu` (pure JS), or `webgpu` through
 * `useWebGPU()` of `@advx/backend-webgpu` (in Node: Dawn from the optional `webgpu` package and a
 * Vulkan driver, see that package's README), or `tensorflow`: TensorFlow's native kernels through a
 * user-installed `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` (optional peers, tried in
 * that order; advx never requires them). They must share advx's copy of `@tensorflow/tfjs-core`
 * (version 4.22), or their backend registers on another engine and a clear error says so.
 *
 * @param name - the backend.
 * @param threads - wasm threads (default min(2, logical cores)).
 * @returns a line describing the backend.
 * @throws AdvxError `BACKEND_UNAVAILABLE` when the backend cannot be set up (for `tensorflow`: neither
 *   package is installed, or it loaded another copy of tfjs-core); `INVALID_OPTION` for an unknown name.
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
  if (name === 'tensorflow') {
    let found: string | undefined;
    for (const pkg of TFJS_NODE_PACKAGES) {
      if (await importIfInstalled(pkg)) {
        found = pkg;
        break;
      }
    }
    if (found === undefined) {
      throw new AdvxError(
        'BACKEND_UNAVAILABLE',
        "backend 'tensorflow' needs @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA), version ~4.22, installed next to advx " +
          '(npm install @tensorflow/tfjs-node@~4.22.0); or use --backend wasm, the fastest backend that needs no native install.',
      );
    }
    if (tf.findBackendFactory('tensorflow') === null || !(await tf.setBackend('tensorflow'))) {
      throw new AdvxError(
        'BACKEND_UNAVAILABLE',
        `${found} loaded, but its 'tensorflow' backend is not registered with advx's @tensorflow/tfjs-core ${tf.version_core}: ` +
          `it brought another copy of tfjs-core. Install the ${found} version that matches @tensorflow/tfjs-core ${tf.version_core} so npm shares one copy.`,
        { package: found },
      );
    }
    return `tensorflow (${found}, native TensorFlow kernels)`;
  }
  throw new AdvxError('INVALID_OPTION', `unknown backend '${String(name)}': use cpu, wasm, webgpu or tensorflow.`);
}
