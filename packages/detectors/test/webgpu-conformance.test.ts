/**
 * The detector and inspector conformance suites of `@advx/core/testing` for every input detector
 * and dataset inspector registered by `register-all`, on small inputs, in one process for the
 * WebGPU run (`npm run test:webgpu`; Dawn starts once). Input detectors: the zoo's `mnist-mlp` on
 * 24 clean shipped test images against 24 attacked ones (FGSM ε = 0.2, DeepFool, or an 8×8 patch,
 * depending on what the detector is built for); inspectors: the BadNets-poisoned MLP of
 * `fixtures/badnets-mlp` on 300 shipped test images of which 10 sevens carry its trigger and are
 * relabelled to its target class. The explanation maps have no suite; they are named below. On the
 * other backends the per-method tests run the same suites on larger data, so this file runs only
 * on `webgpu` (set `ADVX_CONFORMANCE_ANY_BACKEND=1` to run it elsewhere).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { listDetectors, type Detector, type Inspector, type Model } from '@advx/core';
import { assertConformance, checkDetector, checkInspector, type DetectorFixture } from '@advx/core/testing';
import { adversarialPatch, bim, deepfool, fgsm } from '@advx/attacks';
import { bitDepth, medianSmoothing } from '@advx/defenses';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import {
  activationClustering,
  featureSqueezing,
  hardnessDetector,
  layerFeatures,
  occlusionConsistency,
  spectralSignatures,
  spectre,
  stampTrigger,
} from '../src/index.js';
import '../src/register-all.js';

import { card, loadPoisonedModel } from './badnets-fixture.js';

const backend = tf.getBackend();
const enabled = backend === 'webgpu' || process.env.ADVX_CONFORMANCE_ANY_BACKEND === '1';
const N = 24;

/** Registered detectors without a suite in `@advx/core/testing` (explanation maps; not in the WebGPU run). */
const withoutSuite: Record<string, string> = {
  'saliency-map': 'explanation map: no suite',
  'occlusion-map': 'explanation map: no suite',
};

let zoo: ZooModel;
let clean: tf.Tensor;
const adversarial: Record<'fgsm' | 'deepfool' | 'patch', tf.Tensor | undefined> = { fgsm: undefined, deepfool: undefined, patch: undefined };
let poisoned: { layers: tfl.LayersModel; model: Model; x: tf.Tensor; y: tf.Tensor1D; indices: number[] };

beforeAll(async () => {
  if (!enabled) return;
  zoo = await loadModel('mnist-mlp');
  const { x, y } = await loadDataset('mnist', { count: 400, source: 'shipped' });
  clean = tf.slice(x, 100, N);
  const xs = tf.slice(x, 0, N);
  const ys = tf.slice(y, 0, N) as tf.Tensor1D;
  const f = await fgsm().run(zoo.model, xs, { labels: ys }, { epsilons: [0.2] });
  adversarial.fgsm = (f.clipped[0] as tf.Tensor).clone();
  f.dispose();
  const d = await deepfool({ candidates: 3 }).run(zoo.model, xs, { labels: ys });
  adversarial.deepfool = d.raw.clone();
  d.dispose();
  const p = await adversarialPatch({ steps: 20, restarts: 1 }).run(zoo.model, xs, { labels: ys }, { epsilons: [64], seed: 0 });
  adversarial.patch = (p.clipped[0] as tf.Tensor).clone();
  p.dispose();

  // BadNets: 10 of the sevens among shipped test images 0–299 get the trigger and the target label.
  const { layers, model } = await loadPoisonedModel();
  const { sourceClass, targetClass } = card.data.poisoning;
  const base = tf.slice(x, 0, 300);
  const head = tf.slice(y, 0, 300);
  const labels = Array.from(await head.data());
  const indices = labels.flatMap((l, i) => (l === sourceClass ? [i] : [])).slice(0, 10);
  const mask = tf.tensor4d(
    labels.map((_, i) => (indices.includes(i) ? 1 : 0)),
    [300, 1, 1, 1],
  );
  const stamped = stampTrigger(base);
  poisoned = {
    layers,
    model,
    x: tf.tidy(() => tf.add(tf.mul(stamped, mask), tf.mul(base, tf.sub(1, mask)))),
    y: tf.tensor1d(
      labels.map((l, i) => (indices.includes(i) ? targetClass : l)),
      'int32',
    ),
    indices,
  };
  tf.dispose([x, y, xs, ys, base, head, mask, stamped]);
}, 300_000);
afterAll(() => {
  if (!enabled) return;
  tf.dispose([clean, ...Object.values(adversarial).filter((t): t is tf.Tensor => t !== undefined), poisoned.x, poisoned.y]);
  zoo.layers.dispose();
  poisoned.layers.dispose();
});

/** One case per registered input detector: its factory, the attack its adversarial inputs come from, the ROC-AUC required. */
const detectors: Record<string, { make: () => Detector; against: keyof typeof adversarial; minAuc: number }> = {
  'feature-squeezing': { make: () => featureSqueezing({ squeezers: [bitDepth({ bits: 1 }), medianSmoothing({ size: 2 })] }), against: 'fgsm', minAuc: 0.8 },
  hardness: {
    make: () => hardnessDetector({ attack: (steps) => bim({ steps, stepSize: 0.01 }), epsilon: 0.3, schedule: [1, 2, 4, 8] }),
    against: 'deepfool',
    minAuc: 0.9,
  },
  'occlusion-consistency': { make: () => occlusionConsistency({ size: 6, stride: 3 }), against: 'patch', minAuc: 0.75 },
};

/** One case per registered dataset inspector, on the penultimate layer of the poisoned MLP, with the recall required
 * (10 poisoned among the ~40 samples labelled with the target class: a poison fraction of 0.25 there). */
const inspectors: Record<string, { make: (features: (x: tf.Tensor) => tf.Tensor) => Inspector; minRecall: number }> = {
  'spectral-signatures': { make: (features) => spectralSignatures({ features, poisonFraction: 0.25 }), minRecall: 0.8 },
  spectre: { make: (features) => spectre({ features, poisonFraction: 0.25 }), minRecall: 0.8 },
  'activation-clustering': { make: (features) => activationClustering({ features }), minRecall: 0.8 },
};

describe.skipIf(!enabled)(`detector and inspector conformance on ${backend} (every registered detector)`, () => {
  it('covers every registered detector: a suite case for each input detector and inspector, a named place for the others', () => {
    const registered = listDetectors();
    const names = (kind: string) =>
      registered
        .filter((m) => m.kind === kind)
        .map((m) => m.name)
        .sort();
    expect(Object.keys(detectors).sort()).toEqual(names('input'));
    expect(Object.keys(inspectors).sort()).toEqual(names('dataset'));
    expect(Object.keys(withoutSuite).sort()).toEqual(names('explanation'));
    expect(registered.length).toBe(Object.keys(detectors).length + Object.keys(inspectors).length + Object.keys(withoutSuite).length);
  });
  for (const name of Object.keys(detectors).sort()) {
    it(`${name} (input detector)`, { timeout: 180_000 }, async () => {
      const { make, against, minAuc } = detectors[name] as (typeof detectors)[string];
      const fixture: DetectorFixture = { model: zoo.model, clean, adversarial: adversarial[against] as tf.Tensor, minAuc };
      assertConformance(await checkDetector(make, fixture));
    });
  }
  for (const name of Object.keys(inspectors).sort()) {
    it(`${name} (dataset inspector)`, { timeout: 180_000 }, async () => {
      const { make, minRecall } = inspectors[name] as (typeof inspectors)[string];
      const inspector = make(layerFeatures(poisoned.layers, 'dense2'));
      assertConformance(
        await checkInspector(inspector, { model: poisoned.model, data: { x: poisoned.x, y: poisoned.y }, poisoned: poisoned.indices, minRecall }),
      );
    });
  }
});
