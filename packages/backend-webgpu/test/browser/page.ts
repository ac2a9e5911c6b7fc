/**
 * Page script of the browser test (bundled with esbuild): one PGD step and the input gradient of the
 * net of net.ts on the wasm and on the webgpu backend, returned to the test through `window.advxRun`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { useWebGPU } from '../../src/index.js';
import { gradientAndPgdStep, type Computed } from './net.js';

/** What the page computed on one backend. */
export interface PageResult extends Computed {
  backend: string;
  adapter: string;
  leaked: number;
}

async function runOn(backend: 'wasm' | 'webgpu'): Promise<PageResult> {
  let adapter = '';
  if (backend === 'webgpu') adapter = (await useWebGPU()).adapter;
  else if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not initialise');
  const before = tf.memory().numTensors;
  const computed = await gradientAndPgdStep();
  return { backend: tf.getBackend(), adapter, ...computed, leaked: tf.memory().numTensors - before };
}

declare global {
  interface Window {
    advxRun: () => Promise<PageResult[]>;
    advxWebGPUError: () => Promise<{ name: string; code: string; message: string } | null>;
  }
}

window.advxWebGPUError = () =>
  useWebGPU().then(
    () => null,
    (e: unknown) => {
      const { name, code, message } = e as { name: string; code: string; message: string };
      return { name, code, message };
    },
  );

window.advxRun = async () => {
  setWasmPaths('/wasm/');
  return [await runOn('wasm'), await runOn('webgpu')];
};
