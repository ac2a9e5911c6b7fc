import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { linearModel } from '../src/testing/index.js';
import { minimalLinear } from './reference-attacks.js';

// 2 inputs in [0, 1], 2 classes: z0 = x0 - x1, z1 = x1 - x0 + 0.1
const model = linearModel({
  weights: [
    [1, -1],
    [-1, 1],
  ],
  bias: [0, 0.1],
});

describe('minimization attacks on the base', () => {
  it('minimal linear attack returns the closest boundary point', async () => {
    const x = tf.tensor2d([[0.6, 0.4]]);
    const labels = tf.tensor1d([0], 'int32');
    const r = await minimalLinear().run(model, x, { labels }, { epsilons: [0.1, 0.2] });
    // margin z0 - z1 = 2(x0 - x1) - 0.1 = 0.3; gradient norm of (z1 - z0) = 2√2; distance = 0.3/(2√2)·1.02
    expect(r.distances[0]).toBeCloseTo((0.3 / (2 * Math.SQRT2)) * 1.02, 5);
    expect(r.success).toEqual([[false], [true]]);
    r.dispose();
    tf.dispose([x, labels]);
  });
});
