import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { AdvxError } from '../errors.js';
import type { Model } from '../model.js';
import { fromFunction } from './from-function.js';
import { toQueryModel, type ToQueryModelOptions } from './to-query-model.js';

function errorOf(f: () => unknown): AdvxError {
  try {
    f();
  } catch (e) {
    if (e instanceof AdvxError) return e;
    throw e;
  }
  throw new Error('expected an AdvxError');
}

async function rejectionOf(p: Promise<unknown>): Promise<AdvxError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AdvxError) return e;
    throw e;
  }
  throw new Error('expected a rejection with an AdvxError');
}

// logits = x · M on 2 features, 3 classes; counts its forward calls.
const M = [
  [1, 0, -1],
  [0, 2, 1],
];
function countingModel(): { model: Model; calls: () => number } {
  let calls = 0;
  const model = fromFunction(
    (x) => {
      calls++;
      return tf.matMul(x as tf.Tensor2D, tf.tensor2d(M));
    },
    { inputShape: [2], numClasses: 3, bounds: [-1, 1], output: 'logits' },
  );
  return { model, calls: () => calls };
}

const X = [
  [0.5, -0.25], // logits [0.5, -0.5, -0.75] -> class 0
  [0, 1], //       logits [0, 2, 1]          -> class 1
  [-1, 0], //      logits [-1, 0, 1]          -> class 2
];
const Z = [
  [0.5, -0.5, -0.75],
  [0, 2, 1],
  [-1, 0, 1],
];
const softmaxRow = (z: number[]) => {
  const e = z.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

describe('toQueryModel', () => {
  it("'scores' returns softmax probabilities, counts samples, and exposes readonly counters", async () => {
    const { model } = countingModel();
    const oracle = toQueryModel(model, { output: 'scores' });
    expect(oracle.kind).toBe('query');
    expect(oracle.inputShape).toEqual([2]);
    expect(oracle.numClasses).toBe(3);
    expect(oracle.bounds).toEqual([-1, 1]);
    expect(oracle.output).toBe('scores');
    expect(oracle.budget).toBe(Infinity);
    expect(oracle.queries).toBe(0);
    expect(oracle.remaining).toBe(Infinity);

    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const scores = await oracle.query(x);
    expect(scores.shape).toEqual([3, 3]);
    const rows = await scores.array();
    Z.forEach((z, r) => softmaxRow(z).forEach((p, c) => expect(rows[r]![c]).toBeCloseTo(p, 6)));
    expect(oracle.queries).toBe(3);
    tf.dispose([x, scores]);
    expect(tf.memory().numTensors).toBe(before);
    expect(() => {
      (oracle as { queries: number }).queries = 0;
    }).toThrow(TypeError);
    expect(oracle.queries).toBe(3);
  });

  it("'label' returns float one-hot rows of the argmax", async () => {
    const { model } = countingModel();
    const oracle = toQueryModel(model, { output: 'label', budget: 10 });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const labels = await oracle.query(x);
    expect(labels.dtype).toBe('float32');
    expect(await labels.array()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(oracle.queries).toBe(3);
    expect(oracle.remaining).toBe(7);
    tf.dispose([x, labels]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws QUERY_BUDGET_EXHAUSTED before any work or counting, leaking nothing', async () => {
    const { model, calls } = countingModel();
    const oracle = toQueryModel(model, { output: 'scores', budget: 4 });
    const x = tf.tensor2d(X);
    const before = tf.memory().numTensors;

    const first = await oracle.query(x);
    first.dispose();
    expect(oracle.queries).toBe(3);
    expect(calls()).toBe(1);

    const e = await rejectionOf(oracle.query(x));
    expect(e.code).toBe('QUERY_BUDGET_EXHAUSTED');
    expect(e.message).toMatch(/3 samples/);
    expect(e.message).toMatch(/only 1 of the budget of 4/);
    expect(e.message).toMatch(/raise budget/);
    expect(e.details).toMatchObject({ asked: 3, remaining: 1, budget: 4 });
    expect(oracle.queries).toBe(3);
    expect(calls()).toBe(1);
    expect(tf.memory().numTensors).toBe(before);

    // The single remaining query still goes through, then the budget is exactly spent.
    const one = tf.tensor2d([X[1]!]);
    const last = await oracle.query(one);
    expect(oracle.queries).toBe(4);
    expect(oracle.remaining).toBe(0);
    tf.dispose([one, last]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rejects a wrong shape with INVALID_SHAPE without counting', async () => {
    const { model, calls } = countingModel();
    const oracle = toQueryModel(model, { output: 'label', budget: 100 });
    const x = tf.zeros([3, 4]);
    const before = tf.memory().numTensors;
    const e = await rejectionOf(oracle.query(x));
    expect(e.code).toBe('INVALID_SHAPE');
    expect(e.message).toContain('[n, 2]');
    expect(oracle.queries).toBe(0);
    expect(calls()).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('validates budget, output and model', () => {
    const { model } = countingModel();
    for (const budget of [0, -1, 1.5, NaN]) {
      expect(errorOf(() => toQueryModel(model, { output: 'scores', budget })).code).toBe('INVALID_OPTION');
    }
    expect(errorOf(() => toQueryModel(model, { output: 'probabilities' } as unknown as ToQueryModelOptions)).code).toBe('INVALID_OPTION');
    expect(errorOf(() => toQueryModel({ kind: 'query' } as unknown as Model, { output: 'scores' })).code).toBe('INVALID_MODEL');
    expect(Object.isFrozen(toQueryModel(model, { output: 'scores', budget: 1 }))).toBe(true);
  });
});
