import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { toQueryModel } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { checkQueryAccounting, strictQueryModel } from '../test/black-box-fixtures.js';
import { expectCode, logisticRegression, net, netData } from '../test/fixtures.js';

import { boundaryAttack } from './boundary-attack.js';

const { x, labels } = netData;
const { z, wL2, model: logistic } = logisticRegression;

describe('boundaryAttack: conformance', () => {
  it('on a label-only query model (untargeted and targeted) and on a white-box model', async () => {
    const oracle = toQueryModel(net, { output: 'label' });
    assertConformance(await checkAttack(boundaryAttack({ maxQueries: 300 }), { model: oracle, x, labels, epsilons: [0.1, 0.5, 2], minSuccess: 0.9 }));
    assertConformance(await checkAttack(boundaryAttack({ maxQueries: 150 }), { model: net, x, labels, epsilons: [0.5, 2], minSuccess: 0.9 }));
  });
});

describe('boundaryAttack: converges to the closest adversarial of a linear model', () => {
  it('distance shrinks with the budget and ends within 3 % of |z|/‖w‖₂', async () => {
    const xs = [
      [0.6, 0.3, 0.5, 0.4, 0.5, 0.4],
      [0.5, 0.55, 0.45, 0.5, 0.5, 0.5],
      [0.4, 0.6, 0.5, 0.5, 0.45, 0.55],
    ];
    const xt = tf.tensor2d(xs);
    const y = tf.tensor1d(
      xs.map((r) => (z(r) > 0 ? 1 : 0)),
      'int32',
    );
    const run = async (maxQueries: number) => {
      const r = await boundaryAttack({ maxQueries }).run(toQueryModel(logistic, { output: 'label' }), xt, { labels: y }, { seed: 1 });
      const d = Array.from(r.distances);
      r.dispose();
      return d;
    };
    const [short, long] = [await run(300), await run(3000)];
    xs.forEach((row, i) => {
      const exact = Math.abs(z(row)) / wL2;
      expect(long[i]).toBeGreaterThanOrEqual(exact * (1 - 1e-4));
      expect(long[i]).toBeLessThanOrEqual(exact * 1.03);
      expect(long[i]).toBeLessThanOrEqual(short[i] as number);
    });
    tf.dispose([xt, y]);
  });
});

describe('boundaryAttack: queries', () => {
  it('counts every query within maxQueries + the base’s clean and final checks, and touches only query', async () => {
    const maxQueries = 200;
    const epsilons = [0.5, 2];
    const { queries } = await checkQueryAccounting(boundaryAttack({ maxQueries }), net, 'label', x, { labels }, { epsilons }, maxQueries + 2 + epsilons.length);
    expect(Math.min(...queries)).toBeGreaterThanOrEqual(maxQueries);
    const strict = strictQueryModel(net, 'label');
    const r = await boundaryAttack({ maxQueries: 100 }).run(strict, x, { labels });
    expect(Array.from(r.distances).every(Number.isFinite)).toBe(true);
    r.dispose();
  });
  it('options are validated before any query', async () => {
    const oracle = toQueryModel(net, { output: 'label' });
    for (const bad of [{ maxQueries: 0 }, { sphericalStep: 0 }, { sourceStep: -1 }, { stepAdaptation: 1 }, { updateStatsEvery: 0 }, { initTries: 0 }]) {
      await expectCode('INVALID_OPTION', () => boundaryAttack(bad).run(oracle, x, { labels }));
    }
    expect(oracle.queries).toBe(0);
  });
});
