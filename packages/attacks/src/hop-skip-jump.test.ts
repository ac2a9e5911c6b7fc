import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { toQueryModel } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { checkQueryAccounting, strictQueryModel } from '../test/black-box-fixtures.js';
import { expectCode, logisticRegression, net, netData } from '../test/fixtures.js';

import { hopSkipJump } from './hop-skip-jump.js';

const { x, labels } = netData;
const { z, wL1, wL2, model: logistic } = logisticRegression;

// Samples of the logistic model well inside the box, so the closest adversarial is the orthogonal
// projection onto the hyperplane w·x + b = 0 (no bound is active).
const xs = [
  [0.6, 0.3, 0.5, 0.4, 0.5, 0.4],
  [0.5, 0.55, 0.45, 0.5, 0.5, 0.5],
  [0.4, 0.6, 0.5, 0.5, 0.45, 0.55],
];
const lin = {
  x: tf.tensor2d(xs),
  labels: tf.tensor1d(
    xs.map((r) => (z(r) > 0 ? 1 : 0)),
    'int32',
  ),
};

describe('hopSkipJump: conformance', () => {
  it('l2 on a label-only query model (untargeted and targeted) and on a white-box model', async () => {
    const oracle = toQueryModel(net, { output: 'label' });
    assertConformance(await checkAttack(hopSkipJump({ maxQueries: 600, steps: 10 }), { model: oracle, x, labels, epsilons: [0.1, 0.5, 2], minSuccess: 0.9 }));
    assertConformance(await checkAttack(hopSkipJump({ maxQueries: 300, steps: 5 }), { model: net, x, labels, epsilons: [0.5, 2], minSuccess: 0.9 }));
  });
  it('linf on a label-only query model', async () => {
    const oracle = toQueryModel(net, { output: 'label' });
    assertConformance(
      await checkAttack(hopSkipJump({ norm: 'linf', maxQueries: 600, steps: 10 }), { model: oracle, x, labels, epsilons: [0.05, 0.2, 0.5], minSuccess: 0.9 }),
    );
  });
});

describe('hopSkipJump: converges to the closest adversarial of a linear model', () => {
  // γ = 0.01: the default θ = γ/(d·√d) is coarse in d = 6 (the binary search would stop 7 % short).
  it('l2: distance within 1 % of |z|/‖w‖₂ after 3,000 label queries', async () => {
    const r = await hopSkipJump({ maxQueries: 3000, gamma: 0.01 }).run(toQueryModel(logistic, { output: 'label' }), lin.x, { labels: lin.labels }, { seed: 1 });
    xs.forEach((row, i) => {
      const exact = Math.abs(z(row)) / wL2;
      expect(r.distances[i]).toBeGreaterThanOrEqual(exact * (1 - 1e-4));
      expect(r.distances[i]).toBeLessThanOrEqual(exact * 1.01);
    });
    r.dispose();
  });
  it('linf: distance within 1 % of |z|/‖w‖₁ after 3,000 label queries', async () => {
    const r = await hopSkipJump({ norm: 'linf', maxQueries: 3000, gamma: 0.01 }).run(
      toQueryModel(logistic, { output: 'label' }),
      lin.x,
      { labels: lin.labels },
      { seed: 1 },
    );
    xs.forEach((row, i) => {
      const exact = Math.abs(z(row)) / wL1;
      expect(r.distances[i]).toBeGreaterThanOrEqual(exact * (1 - 1e-4));
      expect(r.distances[i]).toBeLessThanOrEqual(exact * 1.01);
    });
    r.dispose();
  });
});

describe('hopSkipJump: queries', () => {
  it('counts every query within maxQueries + the base’s clean and final checks', async () => {
    const maxQueries = 250;
    const epsilons = [0.5, 2];
    const { queries } = await checkQueryAccounting(hopSkipJump({ maxQueries }), net, 'label', x, { labels }, { epsilons }, maxQueries + 2 + epsilons.length);
    // A minimization attack spends its budget.
    expect(Math.min(...queries)).toBeGreaterThan(maxQueries - 20);
  });
  it('touches nothing of a query model but query and its metadata', async () => {
    const oracle = strictQueryModel(net, 'label');
    const r = await hopSkipJump({ maxQueries: 200 }).run(oracle, x, { labels });
    expect(r.success.length).toBe(0);
    expect(Array.from(r.distances).every(Number.isFinite)).toBe(true);
    r.dispose();
  });
  it('options are validated before any query', async () => {
    const oracle = toQueryModel(net, { output: 'label' });
    await expectCode('INVALID_OPTION', () => hopSkipJump({ maxQueries: 0 }).run(oracle, x, { labels }));
    await expectCode('INVALID_OPTION', () => hopSkipJump({ gamma: 0 }).run(oracle, x, { labels }));
    await expectCode('INVALID_OPTION', () => hopSkipJump({ initEvals: 1.5 }).run(oracle, x, { labels }));
    await expectCode('UNSUPPORTED_NORM', () => hopSkipJump({ norm: 'l1' as 'l2' }).run(oracle, x, { labels }));
    expect(oracle.queries).toBe(0);
  });
});
