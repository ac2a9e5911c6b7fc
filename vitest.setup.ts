/**
 * Test set-up: selects the tfjs backend for every suite. `ADVX_BACKEND` (default `cpu`) names the
 * backend: `cpu`, `wasm` (set up by @advx/backend-wasm with its gradient kernels), or `webgpu` (set up by
 * @advx/backend-webgpu: Dawn in Node, needs a Vulkan driver — see packages/backend-webgpu/README.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';

const backend = process.env.ADVX_BACKEND ?? 'cpu';
tf.env().set('PROD', true);
if (backend === 'wasm') {
  const { useWasm } = await import('@advx/backend-wasm');
  await useWasm();
} else if (backend === 'webgpu') {
  await import('./packages/backend-webgpu/test/lavapipe.js'); // the driver of install-lavapipe.sh, if VK_ICD_FILENAMES is unset
  const { useWebGPU } = await import('@advx/backend-webgpu');
  await useWebGPU();
} else if (!(await tf.setBackend(backend))) {
  throw new Error(`ADVX_BACKEND=${backend}: backend could not be initialised (registered: ${Object.keys(tf.engine().registryFactory).join(', ')})`);
}
await tf.ready();
