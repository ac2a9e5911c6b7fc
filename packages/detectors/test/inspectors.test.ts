/**
 * The dataset inspectors on a BadNets-poisoned MNIST MLP (test/fixtures/badnets-mlp, trained by
 * scripts/train-poisoned.mjs on all 60,000 training images, 10 % of the 7s stamped with a 3×3
 * trigger and relabelled 1), inspected through its penultimate layer on the first 4,000 training
 * samples (wasm: feature extraction is most of the time).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Inspection, Inspector, Model } from '@advx/core';
import { assertConformance, checkInspector } from '@advx/core/testing';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset } from '@advx/models-zoo';

import { activationClustering, layerFeatures, spectralSignatures, spectre, stampTrigger } from '../src/index.js';
import { card, loadPoisonedModel, poisonedTrainingData } from './badnets-fixture.js';

const N = 4000;
let layers: tfl.LayersModel;
let model: Model;
let data: { x: tf.Tensor4D; y: tf.Tensor1D; poisoned: number[] };
let features: (x: tf.Tensor) => tf.Tensor;
const report = (line: string) => console.info(line);

beforeAll(async () => {
  await useWasm();
  ({ layers, model } = await loadPoisonedModel());
  data = await poisonedTrainingData(N);
  features = layerFeatures(layers, 'dense2');
});
afterAll(() => {
  tf.dispose([data.x, data.y]);
  layers.dispose();
});

/** Recall of the poisoned samples and false-positive rate over the clean ones. */
function rates(result: Inspection, poisoned: readonly number[], n: number): { recall: number; fpr: number } {
  const p = new Set(poisoned);
  const hits = Array.from(result.flagged).filter((i) => p.has(i)).length;
  return { recall: hits / p.size, fpr: (result.flagged.length - hits) / (n - p.size) };
}

describe('the BadNets fixture (Gu et al. 2017)', () => {
  it('has a working backdoor: clean accuracy ≥ 97 % and trigger success ≥ 90 % on the shipped test images', async () => {
    expect(card.metrics.cleanAccuracy).toBeGreaterThanOrEqual(0.98);
    expect(card.metrics.triggerSuccess).toBeGreaterThanOrEqual(0.9);
    const { x, y } = await loadDataset('mnist', { count: 1000, source: 'shipped' });
    const labels = await y.data();
    const pred = await tf.tidy(() => tf.argMax(model.logits(x), 1)).data();
    const clean = pred.filter((p, i) => p === labels[i]).length / labels.length;
    const { sourceClass, targetClass } = card.data.poisoning;
    const sevens = tf.tensor1d(
      Array.from(labels.keys()).filter((i) => labels[i] === sourceClass),
      'int32',
    );
    const triggered = stampTrigger(tf.gather(x, sevens));
    const flipped = await tf.tidy(() => tf.argMax(model.logits(triggered), 1)).data();
    const success = flipped.filter((p) => p === targetClass).length / flipped.length;
    report(
      `badnets-mlp on the 1000 shipped test images: clean accuracy ${(100 * clean).toFixed(1)} %, trigger success ${(100 * success).toFixed(1)} % on ${flipped.length} triggered 7s`,
    );
    expect(clean).toBeGreaterThanOrEqual(0.97);
    expect(success).toBeGreaterThanOrEqual(0.9);
    tf.dispose([x, y, sevens, triggered]);
  });
});

describe('dataset inspectors on the poisoned MNIST training data (penultimate layer)', () => {
  const results = new Map<string, { recall: number; fpr: number }>();
  const cases: Array<[string, () => Inspector, number]> = [
    ['Tran et al. 2018 spectral signatures', () => spectralSignatures({ features, poisonFraction: 0.1 }), 0.8],
    ['SPECTRE-style robust covariance (QUE)', () => spectre({ features, poisonFraction: 0.1 }), 0.9],
    ['Chen et al. 2018 activation clustering', () => activationClustering({ features }), 0.9],
  ];
  for (const [title, make, minRecall] of cases) {
    it(`${title}: conformance, recall ≥ ${minRecall}`, { timeout: 120_000 }, async () => {
      const inspector = make();
      const r = rates(await inspector.inspect(model, data, { seed: 0 }), data.poisoned, N);
      results.set(inspector.name, r);
      report(
        `${inspector.name}: recall ${(100 * r.recall).toFixed(1)} % of ${data.poisoned.length} poisoned, false-positive rate ${(100 * r.fpr).toFixed(2)} % (n = ${N})`,
      );
      assertConformance(await checkInspector(inspector, { model, data, poisoned: data.poisoned, minRecall }));
    });
  }
  it('SPECTRE-style recall ≥ spectral signatures recall (Hayase et al. 2021)', () => {
    const [s, r] = [results.get('spectral-signatures'), results.get('spectre')];
    expect(s && r).toBeTruthy();
    expect(r!.recall).toBeGreaterThanOrEqual(s!.recall);
  });
});
