import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { isAdvxError, predictClasses, toQueryModel } from '../src/index.js';
import { mlpModel, selfLabeledData } from '../src/testing/index.js';

const model = mlpModel({ seed: 2, inputs: 6, hidden: 8, classes: 3 });
const { x, labels } = selfLabeledData(model, 3, 10);
afterAll(() => tf.dispose([x, labels]));

describe('predictClasses', () => {
  it('is the arg max of the logits row by row, in any batch size and through a query model, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const expected = Array.from(await labels.data()); // selfLabeledData labels each row by the model's own prediction
    expect(Array.from(await predictClasses(model, x))).toEqual(expected);
    expect(Array.from(await predictClasses(model, x, { batchSize: 3 }))).toEqual(expected);
    expect(Array.from(await predictClasses(toQueryModel(model, { output: 'label' }), x, { batchSize: 4 }))).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('rejects a batch size that is not a positive integer', async () => {
    const err = await predictClasses(model, x, { batchSize: 0 }).catch((e: unknown) => e);
    expect(isAdvxError(err, 'INVALID_OPTION')).toBe(true);
  });
});
