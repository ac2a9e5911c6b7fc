import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { toQueryModel } from '@advx/core';

import { checkEstimatorAttack, estimateQuadratic, quadraticGradient } from '../test/estimator-checks.js';
import { expectCode, logisticRegression, net, netData, rows } from '../test/fixtures.js';

import { finiteDifferences } from './finite-differences.js';

describe('finiteDifferences', () => {
  it('conformance (linf, l2), query accounting and query-only access', async () => {
    await checkEstimatorAttack((o) => finiteDifferences({ ...o, samples: 8, delta: 0.01, relStepSize: 0.25 }), 1 + 2 * 8, true);
  });

  it('is exact on a quadratic: the central difference of each sampled coordinate is 2a_i·x_i + b_i, zero elsewhere', () => {
    const full = estimateQuadratic('finite-differences', 10, 1e-3);
    full.forEach((g, i) => expect(g).toBeCloseTo(quadraticGradient[i] as number, 4));
    const part = estimateQuadratic('finite-differences', 4, 1e-3);
    const nonzero = Array.from(part.keys()).filter((i) => part[i] !== 0);
    expect(nonzero.length).toBe(4);
    for (const i of nonzero) expect(part[i]).toBeCloseTo(quadraticGradient[i] as number, 4);
  });

  it('with every coordinate, PGD on the estimate is white-box PGD on a logistic model: x − k·α·sign(w), 13 queries a step', async () => {
    const { w, model } = logisticRegression;
    const xs = [
      [0.6, 0.3, 0.5, 0.4, 0.5, 0.4],
      [0.5, 0.4, 0.6, 0.5, 0.6, 0.5],
    ];
    const x = tf.tensor2d(xs);
    const ones = tf.tensor1d([1, 1], 'int32');
    const r = await finiteDifferences({ samples: 6, delta: 1e-3, steps: 2, stepSize: 0.03, earlyStop: false }).run(
      toQueryModel(model, { output: 'scores' }),
      x,
      { labels: ones },
      { epsilons: [0.1] },
    );
    const out = await rows(r.clipped[0] as tf.Tensor);
    xs.forEach((row, i) => row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v - 0.06 * Math.sign(w[j] as number), 6)));
    expect(Array.from(r.queries ?? [])).toEqual([2 * 13 + 2, 2 * 13 + 2]);
    r.dispose();
    tf.dispose([x, ones]);
  });

  it('rejects label-only models and bad options before any query', async () => {
    const labelOnly = toQueryModel(net, { output: 'label' });
    await expectCode('UNSUPPORTED_MODEL', () => finiteDifferences().run(labelOnly, netData.x, { labels: netData.labels }, { epsilons: [0.1] }));
    expect(labelOnly.queries).toBe(0);
    for (const bad of [{ samples: 0 }, { delta: 0 }, { steps: 0 }, { maxQueries: 0 }, { relStepSize: 0 }, { loss: 'dlr' as 'ce' }]) {
      await expectCode('INVALID_OPTION', () => finiteDifferences(bad).run(net, netData.x, { labels: netData.labels }, { epsilons: [0.1] }));
    }
  });
});
