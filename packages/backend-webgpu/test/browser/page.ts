/**
 * Page script of the browser test (bundled with esbuild): one PGD step and the input gradient of the
 * net of net.ts on the wasm and on the webgpu backend, returned to the test through `window.advxRun`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { crossEntropy } from '@advx/core';
import { pgd } from '@advx/attacks';
import { useWebGPU } from '../../src/index.js';
import { makeNet } from './net.js';

/** What the page computed on one backend. */
export interface PageResult {
  backend: string;
  adapter: string;
  gradient: number[];
  adversarial: number[];
  success: boolean[];
  leaked: number;
}

async function runOn(backend: 'wasm' | 'webgpu'): Promise<PageResult> {
  let adapter = '';
  if (backend === 'webgpu') adapter = (await useWebGPU()).adapter;
  else if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend did not initialise');
  const before = tf.memory().numTensors;
  const net = makeNet(1);
  const g = tf.grad((v: tf.Tensor) => tf.sum(crossEntropy(net.model.logits(v), net.labels)))(net.x);
  const gradient = Array.from(await g.data());
  g.dispose();
  const r = await pgd({ steps: 1, stepSize: 0.05, randomStart: false }).run(net.model, net.x, { labels: net.labels }, { epsilons: [0.1] });
  const adversarial = Array.from(await r.clipped[0]!.data());
  const success = [...r.success[0]!];
  r.dispose();
  net.dispose();
  return { backend: tf.getBackend(), adapter, gradient, adversarial, success, leaked: tf.memory().numTensors - before };
}

declare global {
  interface Window {
    advxRun: () => Promise<PageResult[]>;
  }
}

window.advxRun = async () => {
  setWasmPaths('/wasm/');
  return [await runOn('wasm'), await runOn('webgpu')];
};
