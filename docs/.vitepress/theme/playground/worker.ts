/**
 * The playground's Web Worker: loads the backend (WebGPU when the browser has an adapter, else
 * WebAssembly), the zoo's models and test digits over HTTP, runs attacks and short evaluations, and
 * answers with plain arrays. Nothing is sent anywhere: the user's files are read here, in the page.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';

import { apgdCe, deepfool, fgsm, pgd, square } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { useWebGPU } from '@advx/backend-webgpu';
import { fromLayersModel, isAdvxError, toQueryModel, type Attack, type Model } from '@advx/core';
import { evaluate, renderHtml } from '@advx/eval';
import { loadDataset, loadModel } from '@advx/models-zoo';

import type { PlaygroundAttack, PlaygroundModel, Prediction, Reply, Request } from './protocol';

const post = (reply: Reply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(reply, transfer);
let base = '/';
const models = new Map<PlaygroundModel, Model>();
const running = new Map<number, AbortController>();
let digits: { x: tf.Tensor; y: Int32Array } | undefined;

async function initBackend(): Promise<{ backend: string; detail: string }> {
  if ('gpu' in navigator) {
    try {
      await useWebGPU();
      return { backend: 'webgpu', detail: 'WebGPU (the browser has a GPU adapter)' };
    } catch {
      // No adapter: WebAssembly below.
    }
  }
  const threads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  const info = await useWasm({ wasmPaths: `${base}wasm/`, threads });
  return { backend: 'wasm', detail: `WebAssembly (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads} thread${info.threads === 1 ? '' : 's'}; no WebGPU adapter)` };
}

async function zooModel(id: PlaygroundModel): Promise<Model> {
  let m = models.get(id);
  if (!m) {
    m = (await loadModel(id, { baseUrl: new URL(`${base}zoo/`, self.location.href) })).model;
    models.set(id, m);
  }
  return m;
}

/** The first 100 MNIST test digits of the zoo's evaluation set. */
async function testDigits(): Promise<{ x: tf.Tensor; y: Int32Array }> {
  if (!digits) {
    const d = await loadDataset('mnist', { count: 100, baseUrl: new URL(`${base}zoo/`, self.location.href) });
    const y = (await d.y.data()) as Int32Array;
    d.y.dispose();
    digits = { x: d.x, y };
  }
  return digits;
}

async function predict(model: Model, x: tf.Tensor): Promise<Prediction> {
  const p = tf.tidy(() => tf.softmax(model.logits(x)));
  const probabilities = Array.from(await p.data());
  p.dispose();
  const label = probabilities.indexOf(Math.max(...probabilities));
  return { label, confidence: probabilities[label] as number, probabilities };
}

function makeAttack(name: PlaygroundAttack): Attack {
  switch (name) {
    case 'fgsm':
      return fgsm();
    case 'pgd':
      return pgd({ steps: 40, relStepSize: 0.1, earlyStop: false });
    case 'apgd-ce':
      return apgdCe({ steps: 50 });
    case 'deepfool':
      return deepfool({ norm: 'linf' });
    case 'square':
      return square({ maxQueries: 5000 });
  }
}

async function attack(req: Extract<Request, { type: 'attack' }>): Promise<void> {
  const controller = new AbortController();
  running.set(req.id, controller);
  const model = await zooModel(req.model);
  const x = tf.tensor4d(req.pixels, [1, 28, 28, 1]);
  const t0 = performance.now();
  try {
    const before = await predict(model, x);
    const labels = tf.tensor1d([before.label], 'int32');
    const a = makeAttack(req.attack);
    const target = a.meta.threat === 'score' ? toQueryModel(model, { output: 'scores' }) : model;
    const result = await a
      .run(target, x, { labels }, {
        epsilons: [req.epsilon],
        seed: 0,
        signal: controller.signal,
        onProgress: (p) => post({ type: 'progress', id: req.id, fraction: p.fraction, step: p.step, steps: p.steps, text: p.steps > 0 ? `step ${p.step} of ${p.steps}` : '' }),
      })
      .finally(() => labels.dispose());
    const adv = result.clipped[0] as tf.Tensor;
    const after = await predict(model, adv);
    const adversarial = (await adv.data()) as Float32Array;
    const clean = (await x.data()) as Float32Array;
    const perturbation = adversarial.map((v, i) => v - (clean[i] as number));
    const success = (result.success[0] as readonly boolean[])[0] === true;
    result.dispose();
    const linf = perturbation.reduce((m, d) => Math.max(m, Math.abs(d)), 0);
    post({ type: 'attacked', id: req.id, before, after, adversarial, perturbation, linf, success, ms: performance.now() - t0 }, [adversarial.buffer, perturbation.buffer]);
  } finally {
    x.dispose();
    running.delete(req.id);
  }
}

/** Decodes an image file to grey or RGB values in [0, 255], resized to `size` × `size`. */
async function decode(file: File, size: number, channels: number): Promise<Float32Array> {
  const bitmap = await createImageBitmap(file);
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
  ctx.drawImage(bitmap, 0, 0, size, size);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const out = new Float32Array(size * size * channels);
  for (let p = 0; p < size * size; p++) {
    if (channels === 1) out[p] = ((rgba[4 * p] as number) + (rgba[4 * p + 1] as number) + (rgba[4 * p + 2] as number)) / 3;
    else for (let k = 0; k < 3; k++) out[3 * p + k] = rgba[4 * p + k] as number;
  }
  return out;
}

/**
 * "Evaluate your own model": a tfjs layers model (model.json + weights) or a Teachable Machine
 * export (plus metadata.json with the class names), and images in one folder per class (or named
 * `<label>_*.png`). Inputs are scaled as the model expects: [0, 1], or [-1, 1] for Teachable Machine.
 */
async function evaluateOwn(req: Extract<Request, { type: 'evaluate' }>): Promise<void> {
  const controller = new AbortController();
  running.set(req.id, controller);
  try {
    const byName = (name: string) => req.files.find((f) => f.path.split('/').pop() === name);
    const modelJson = byName('model.json');
    if (!modelJson) throw new Error('No model.json among the files: drop the model folder (model.json and its weight files) with the images.');
    const weights = req.files.filter((f) => /\.bin$/.test(f.path)).map((f) => f.file);
    const metadataFile = byName('metadata.json');
    const metadata = metadataFile ? (JSON.parse(await metadataFile.file.text()) as { labels?: string[] }) : undefined;
    const layers = await tfl.loadLayersModel(tf.io.browserFiles([modelJson.file, ...weights]));
    const shape = layers.inputs[0]?.shape ?? [];
    const [size, channels] = [shape[1] as number, shape[3] as number];
    if (!size || shape[2] !== size || (channels !== 1 && channels !== 3)) throw new Error(`The model's input is [${shape.join(', ')}]; the playground evaluates square images with 1 or 3 channels.`);
    const tm = metadata?.labels !== undefined;
    const bounds: [number, number] = tm ? [-1, 1] : [0, 1];
    const model = fromLayersModel(layers, { bounds, output: 'probabilities' });
    const classNames = metadata?.labels ?? Array.from({ length: model.numClasses }, (_, i) => String(i));
    const images = req.files.filter((f) => /\.(png|jpe?g)$/i.test(f.path));
    const labelOf = (path: string): number => {
      const parts = path.split('/');
      const folder = parts.length > 1 ? (parts[parts.length - 2] as string) : '';
      const prefix = (parts[parts.length - 1] as string).split('_')[0] as string;
      for (const name of [folder, prefix]) {
        const k = classNames.indexOf(name);
        if (k >= 0) return k;
      }
      throw new Error(`${path}: no class for this image; put images in folders named after the classes (${classNames.join(', ')}) or name them <class>_*.png.`);
    };
    if (images.length === 0) throw new Error('No PNG or JPEG images among the files.');
    const labels = images.map((f) => labelOf(f.path));
    const pixels = new Float32Array(images.length * size * size * channels);
    for (let i = 0; i < images.length; i++) {
      const v = await decode((images[i] as { file: File }).file, size, channels);
      for (let j = 0; j < v.length; j++) pixels[i * v.length + j] = tm ? (v[j] as number) / 127.5 - 1 : (v[j] as number) / 255;
    }
    const x = tf.tensor4d(pixels, [images.length, size, size, channels]);
    const y = tf.tensor1d(labels, 'int32');
    try {
      const scale = bounds[1] - bounds[0];
      const result = await evaluate({
        model,
        data: { x, labels: y },
        attacks: [fgsm(), pgd({ steps: 10, relStepSize: 0.25 })],
        epsilons: req.epsilons.map((e) => e * scale),
        seed: 0,
        examples: 2,
        signal: controller.signal,
        onProgress: (p) => post({ type: 'progress', id: req.id, fraction: p.fraction, step: 0, steps: 0, text: `${Math.round(100 * p.fraction)} %` }),
      });
      const html = renderHtml(result, { classNames, title: 'advx evaluation (in this page)' });
      const ens = result.ensemble.map((p) => `${(100 * p.robustAccuracy).toFixed(0)} % at ε ${Number(p.epsilon.toFixed(4))}`).join(', ');
      post({ type: 'evaluated', id: req.id, html, summary: `clean accuracy ${(100 * result.cleanAccuracy).toFixed(0)} % on ${images.length} images; robust accuracy ${ens}` });
    } finally {
      tf.dispose([x, y]);
      layers.dispose();
    }
  } finally {
    running.delete(req.id);
  }
}

self.onmessage = async (event: MessageEvent<Request>) => {
  const req = event.data;
  try {
    if (req.type === 'init') {
      base = req.base;
      const info = await initBackend();
      // Load the default model and the digits now, so the page can cache them for offline use.
      await zooModel('mnist-cnn');
      await testDigits();
      post({ type: 'ready', ...info, urls: performance.getEntriesByType('resource').map((e) => e.name) });
    } else if (req.type === 'digit') {
      const { x, y } = await testDigits();
      const one = tf.slice(x, req.index % 100, 1);
      const pixels = (await one.data()) as Float32Array;
      one.dispose();
      post({ type: 'digit', index: req.index, pixels, label: y[req.index % 100] as number });
    } else if (req.type === 'attack') {
      await attack(req);
    } else if (req.type === 'evaluate') {
      await evaluateOwn(req);
    } else if (req.type === 'stop') {
      running.get(req.id)?.abort();
    }
  } catch (err) {
    const id = 'id' in req ? req.id : undefined;
    if (isAdvxError(err) && err.code === 'ABORTED') post({ type: 'stopped', id: id as number });
    else post({ type: 'error', ...(id !== undefined ? { id } : {}), message: err instanceof Error ? err.message : String(err) });
  }
};
