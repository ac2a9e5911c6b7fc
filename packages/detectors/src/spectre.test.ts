import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { isAdvxError, Rng, type Inspection } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { activationClustering } from './activation-clustering.js';
import { spectralSignatures } from './spectral-signatures.js';
import { spectre } from './spectre.js';

/** Recall of the poisoned samples and false-positive rate over the clean ones. */
function rates(result: Inspection, poisoned: readonly number[], n: number): { recall: number; fpr: number } {
  const p = new Set(poisoned);
  const hits = Array.from(result.flagged).filter((i) => p.has(i)).length;
  return { recall: hits / p.size, fpr: (result.flagged.length - hits) / (n - p.size) };
}

describe('robust whitening (synthetic)', () => {
  // Class 0: a direction of large clean variance (coordinate 0) and a tight one (coordinate 1) where
  // 10 % poisoned samples sit shifted by 0.1. The top raw direction is the clean one, so spectral
  // signatures miss the poison; after whitening with the robust covariance the shift dominates.
  const rng = new Rng(11);
  const n = 400;
  const poisoned = Array.from({ length: 40 }, (_, k) => k * 10);
  const rowsX = Array.from({ length: n }, (_, i) => [
    0.1 + 0.8 * rng.uniform(),
    0.5 + 0.01 * rng.normal() + (poisoned.includes(i) ? 0.1 : 0),
    0.5 + 0.01 * rng.normal(),
    0.5 + 0.01 * rng.normal(),
  ]);
  const toy = linearModel({
    weights: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ],
  });
  const identity = (x: tf.Tensor) => x;
  it('spectre finds a poison that hides under a larger clean variance; spectral signatures do not', async () => {
    const x = tf.tensor2d(rowsX);
    const y = tf.zeros([n], 'int32') as tf.Tensor1D;
    const s = rates(await spectralSignatures({ features: identity, poisonFraction: 0.1 }).inspect(toy, { x, y }), poisoned, n);
    for (const scoring of ['que', 'top-direction'] as const) {
      const r = rates(await spectre({ features: identity, poisonFraction: 0.1, scoring }).inspect(toy, { x, y }), poisoned, n);
      expect(r.recall).toBe(1);
    }
    expect(s.recall).toBeLessThan(0.5);
    tf.dispose([x, y]);
  });
  it('inspectors reject bad data and options with AdvxErrors, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(rowsX);
    const y = tf.fill([n], 5, 'int32') as tf.Tensor1D;
    for (const make of [() => spectralSignatures(), () => spectre(), () => activationClustering()]) {
      const e = await make()
        .inspect(toy, { x, y })
        .catch((err: unknown) => err);
      expect(isAdvxError(e, 'LABEL_OUT_OF_RANGE'), String(e)).toBe(true);
    }
    for (const make of [
      () => spectralSignatures({ poisonFraction: 0.7 }),
      () => spectre({ scoring: 'x' as never }),
      () => activationClustering({ dims: 0 }),
      () => spectre({ k: 1 } as never),
    ]) {
      expect(() => make()).toThrowError(/INVALID_OPTION/);
    }
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('spectral signatures and activation clustering (synthetic)', () => {
  // Class 0: 300 isotropic samples around 0.5 (σ = 0.02) with 30 poisoned ones shifted by 0.2 along
  // coordinate 2; class 1: 300 clean samples only. The shift is the top singular direction of class 0.
  const rng = new Rng(5);
  const n = 600;
  const poisoned = Array.from({ length: 30 }, (_, k) => k * 10);
  const rowsX = Array.from({ length: n }, (_, i) => [0, 1, 2, 3].map((j) => 0.5 + 0.02 * rng.normal() + (j === 2 && poisoned.includes(i) ? 0.2 : 0)));
  const labels = Array.from({ length: n }, (_, i) => (i < 300 ? 0 : 1));
  const toy = linearModel({
    weights: [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
    ],
  });
  const identity = (x: tf.Tensor) => x;

  it('spectral signatures: score = squared projection on the top direction / top eigenvalue; flags the shifted samples', async () => {
    const x = tf.tensor2d(rowsX);
    const y = tf.tensor1d(labels, 'int32');
    const r = await spectralSignatures({ features: identity, poisonFraction: 0.1 }).inspect(toy, { x, y });
    expect(rates(r, poisoned, n).recall).toBe(1);
    // 1.5 · 0.1 · 300 = 45 flagged per class.
    expect(r.flagged.length).toBe(90);
    // By hand for class 1 (no poison): the scores average to 1 (divided by the top eigenvalue λ = mean squared projection).
    const mean1 = Array.from(r.scores.subarray(300)).reduce((s, v) => s + v, 0) / 300;
    expect(mean1).toBeCloseTo(1, 4);
    tf.dispose([x, y]);
  });

  it('activation clustering flags the small cluster of the poisoned class and nothing in the clean class', async () => {
    const x = tf.tensor2d(rowsX);
    const y = tf.tensor1d(labels, 'int32');
    const r = await activationClustering({ features: identity, dims: 3 }).inspect(toy, { x, y }, { seed: 1 });
    expect(Array.from(r.flagged).sort((a, b) => a - b)).toEqual(poisoned);
    tf.dispose([x, y]);
  });
});
