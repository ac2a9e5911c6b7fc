// Guide "In the browser and on WebGPU": pick the fastest backend the page (or Node) offers.
import * as tf from '@tensorflow/tfjs-core';

import { useWasm } from '@advx/backend-wasm';
import { useWebGPU } from '@advx/backend-webgpu';

/** WebGPU when the platform has an adapter, else WASM (SIMD, threads when the page is cross-origin isolated). */
export async function pickBackend(preferWebgpu = true): Promise<string> {
  if (preferWebgpu && typeof navigator !== 'undefined' && 'gpu' in navigator) {
    try {
      await useWebGPU();
      return tf.getBackend();
    } catch {
      // No adapter (e.g. a browser without WebGPU): fall through to WASM.
    }
  }
  await useWasm({ threads: 1 });
  return tf.getBackend();
}
