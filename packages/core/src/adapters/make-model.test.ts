import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { AdvxError } from '../errors.js';
import { applyNormalization, makeModel, validateBounds, validateNormalize } from './make-model.js';

function errorOf(f: () => unknown): AdvxError {
  try {
    f();
  } catch (e) {
    if (e instanceof AdvxError) return e;
    throw e;
  }
  throw new Error('expected an AdvxError');
}

describe('make-model helpers', () => {
  it('applies (x - mean) / std over the last (channel) axis of an image batch', async () => {
    const before = tf.memory().numTensors;
    // [1, 1, 2, 2]: two pixels with two channels
    const x = tf.tensor4d([
      [
        [
          [1, 10],
          [3, 30],
        ],
      ],
    ]);
    const z = tf.tidy(() => applyNormalization(x, { mean: [1, 10], std: [2, 5] }));
    expect(await z.array()).toEqual([
      [
        [
          [0, 0],
          [1, 4],
        ],
      ],
    ]);
    tf.dispose([x, z]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validates bounds and normalize with actionable messages', () => {
    expect(validateBounds([-1, 1], 't')).toEqual([-1, 1]);
    expect(errorOf(() => validateBounds([0], 't')).message).toMatch(/bounds: \[0, 1\]/);
    expect(errorOf(() => validateBounds([2, 1], 't')).message).toMatch(/low < high/);
    expect(validateNormalize(undefined, [3], 't')).toBeUndefined();
    const e = errorOf(() => validateNormalize({ mean: [0, 0], std: 1 }, [8, 8, 3], 't'));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(/2 entries but the last \(channel\) axis of inputShape has 3/);
    expect(errorOf(() => validateNormalize({ mean: 0, std: [1, 0, 1] }, [8, 8, 3], 't')).message).toMatch(
      /normalize\.std\[1\] must be a positive finite number/,
    );
  });

  it('makeModel leaks nothing when forward throws', () => {
    const model = makeModel({
      name: 'test',
      inputShape: [2],
      numClasses: 2,
      bounds: [0, 1],
      output: 'logits',
      forward: (x) => {
        tf.mul(x, 2);
        throw new Error('boom');
      },
    });
    const x = tf.zeros([1, 2]);
    const before = tf.memory().numTensors;
    expect(() => model.logits(x)).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
