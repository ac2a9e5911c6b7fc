/**
 * Published figures reproduced on the zoo models with the shipped evaluation set (first 1,000 MNIST
 * test images), on the default backend. Full 10k-sample figures go to the model cards and bench/.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { fgsm } from '../src/index.js';

describe('Goodfellow, Shlens & Szegedy 2015: FGSM on softmax regression (MNIST)', () => {
  let zoo: ZooModel;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  beforeAll(async () => {
    zoo = await loadModel('mnist-logreg');
    ({ x, y } = await loadDataset('mnist', { count: 1000, source: 'shipped' }));
  });
  afterAll(() => {
    tf.dispose([x, y]);
    zoo.layers.dispose();
  });

  it('ε = 0.25 gives an error rate ≥ 99 % (paper: 99.9 %) with high confidence on the wrong class (paper: 79.3 %)', async () => {
    const result = await fgsm().run(zoo.model, x, { labels: y }, { epsilons: [0.25] });
    const error = result.success[0]!.filter(Boolean).length / result.success[0]!.length;
    const probs = tf.tidy(() => tf.softmax(zoo.model.logits(result.clipped[0]!)));
    const [top, pred] = tf.tidy(() => [tf.max(probs, 1), tf.argMax(probs, 1)]);
    const p = (await top!.data()) as Float32Array;
    const c = (await pred!.data()) as Int32Array;
    const labels = (await y.data()) as Int32Array;
    const wrong = Array.from(p).filter((_, i) => c[i] !== labels[i]);
    const meanConfidence = wrong.reduce((s, v) => s + v, 0) / wrong.length;
    tf.dispose([probs, top!, pred!]);
    result.dispose();
    console.info(`FGSM ε=0.25 on mnist-logreg: error ${(100 * error).toFixed(1)} %, mean confidence on errors ${(100 * meanConfidence).toFixed(1)} %`);
    expect(error).toBeGreaterThanOrEqual(0.99);
    expect(meanConfidence).toBeGreaterThan(0.5);
  });
});
