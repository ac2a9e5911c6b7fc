/**
 * The preprocessor conformance suite of `@advx/core/testing` for every preprocessor registered by
 * `register-all`, on the tiny seeded image MLP of `fixtures.ts`, in one process for the WebGPU run
 * (`npm run test:webgpu`; Dawn starts once). The registered defenses of the other kinds have no
 * suite in `@advx/core/testing`; each is named below. On the other
 * backends the per-method tests run the same suite, so this file runs only on `webgpu` (set
 * `ADVX_CONFORMANCE_ANY_BACKEND=1` to run it elsewhere).
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { listDefenses, type Preprocessor } from '@advx/core';
import { assertConformance, checkPreprocessor } from '@advx/core/testing';

import { bitDepth, gaussianNoise, jpegCompression, medianSmoothing } from '../src/index.js';
import '../src/register-all.js';

import { imageData, imageNet } from './fixtures.js';

const backend = tf.getBackend();
const enabled = backend === 'webgpu' || process.env.ADVX_CONFORMANCE_ANY_BACKEND === '1';

/** One case per registered preprocessor. */
const preprocessors: Record<string, () => Preprocessor> = {
  'bit-depth': () => bitDepth({ bits: 2 }),
  'gaussian-noise': () => gaussianNoise({ sigma: 0.05 }),
  'jpeg-compression': () => jpegCompression(),
  'median-smoothing': () => medianSmoothing({ size: 3 }),
};

/**
 * Preprocessors that cannot run on WebGPU in Node, with the reason: `jpegCompression` encodes with
 * a JPEG codec in JavaScript inside the synchronous `apply()`, which reads its input with
 * `dataSync()`; tfjs-backend-webgpu needs `OffscreenCanvas` for a synchronous read, absent in Node.
 */
const knownFailures: Record<string, { readonly backends: readonly string[]; readonly error: RegExp }> = {
  'jpeg-compression': { backends: ['webgpu'], error: /OffscreenCanvas/ },
};

/**
 * Registered defenses of kinds without a suite in `@advx/core/testing` (not in the WebGPU run; see
 * the "Left out" table of packages/backend-webgpu/README.md).
 */
const withoutSuite: Record<string, string> = {
  'adversarial-training': 'trainer: its tests train on MNIST',
  'defensive-distillation': 'trainer: its tests train on MNIST',
  'randomized-smoothing': 'smoothing: its test draws 100,000 noise samples',
  'bounded-leaky-relu': 'layer: src/bounded-leaky-relu.test.ts runs in the WebGPU run instead',
  'round-output': 'postprocessor',
  'top-one': 'postprocessor',
  'reverse-sigmoid': 'postprocessor',
};

describe.skipIf(!enabled)(`preprocessor conformance on ${backend} (every registered preprocessor)`, () => {
  it('covers every registered defense: a suite case for each preprocessor, a named place for the others', () => {
    const registered = listDefenses();
    expect(Object.keys(preprocessors).sort()).toEqual(
      registered
        .filter((m) => m.kind === 'preprocessor')
        .map((m) => m.name)
        .sort(),
    );
    expect(Object.keys(withoutSuite).sort()).toEqual(
      registered
        .filter((m) => m.kind !== 'preprocessor')
        .map((m) => m.name)
        .sort(),
    );
  });
  for (const name of Object.keys(preprocessors).sort()) {
    const known = knownFailures[name];
    if (known?.backends.includes(backend)) {
      it(`${name}: known failure on ${backend} (apply() reads with dataSync())`, () => {
        const before = tf.memory().numTensors;
        expect(() => tf.tidy(() => (preprocessors[name] as () => Preprocessor)().apply(imageData.x, imageNet.bounds))).toThrow(known.error);
        expect(tf.memory().numTensors).toBe(before);
      });
    } else {
      it(name, async () => {
        assertConformance(await checkPreprocessor((preprocessors[name] as () => Preprocessor)(), { model: imageNet, x: imageData.x }));
      });
    }
  }
});
