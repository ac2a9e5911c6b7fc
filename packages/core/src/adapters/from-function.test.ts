import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { AdvxError } from '../errors.js';
import { setWarningHandler } from '../warnings.js';
import { fromFunction } from './from-function.js';

function errorOf(f: () => unknown): AdvxError {
  try {
    f();
  } catch (e) {
    if (e instanceof AdvxError) return e;
    throw e;
  }
  throw new Error('expected an AdvxError');
}

// A fixed 3-class "probability model" on 2 features: p = softmax(x · M).
const M = [
  [1, 0, -1],
  [0, 2, 1],
];
const probabilities = (x: tf.Tensor): tf.Tensor2D => tf.softmax(tf.matMul(x as tf.Tensor2D, tf.tensor2d(M))) as tf.Tensor2D;
const linear = (x: tf.Tensor): tf.Tensor2D => tf.matMul(x as tf.Tensor2D, tf.tensor2d(M));

afterEach(() => {
  setWarningHandler(undefined);
  vi.restoreAllMocks();
});

describe('fromFunction', () => {
  it('wraps a logits function: values and input gradient by hand, no warning', async () => {
    const seen: string[] = [];
    setWarningHandler((w) => seen.push(w.code));
    const model = fromFunction(linear, { inputShape: [2], numClasses: 3, bounds: [-1, 1], output: 'logits' });
    expect(model.outputKind).toBe('logits');
    expect(seen).toEqual([]);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[0.5, -0.25]]);
    const logits = model.logits(x);
    // [0.5, -0.5, -0.5 - 0.25]
    expect(await logits.array()).toEqual([[0.5, -0.5, -0.75]]);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.logits(v), [0, 2], [-1, 1])))(x);
    expect(await g.array()).toEqual([[-1, 1]]); // M[:, 2]
    tf.dispose([x, logits, g]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("output 'probabilities' gives outputKind 'log-probabilities', logits = log(p), and a PROBABILITY_OUTPUT warning", async () => {
    const seen: { code: string; message: string }[] = [];
    const previous = setWarningHandler((w) => seen.push(w));
    expect(previous).toBeUndefined();
    const model = fromFunction(probabilities, { inputShape: [2], numClasses: 3, bounds: [-1, 1], output: 'probabilities' });
    expect(model.outputKind).toBe('log-probabilities');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.code).toBe('PROBABILITY_OUTPUT');
    expect(seen[0]!.message).toMatch(/fromFunction/);
    expect(seen[0]!.message).toMatch(/logits/);

    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[0.5, -0.25]]);
    const logits = model.logits(x);
    // z = [0.5, -0.5, -0.75]; log p = z - log(sum(exp(z)))
    const z = [0.5, -0.5, -0.75];
    const lse = Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    const row = (await logits.array())[0]!;
    z.forEach((v, i) => expect(row[i]).toBeCloseTo(v - lse, 6));
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('clips probabilities at 1e-12 before the log', async () => {
    setWarningHandler(() => undefined);
    const model = fromFunction((x) => tf.concat([tf.zerosLike(x), tf.onesLike(x)], 1) as tf.Tensor2D, {
      inputShape: [1],
      numClasses: 2,
      bounds: [0, 1],
      output: 'probabilities',
    });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[0.5]]);
    const logits = model.logits(x);
    const [[a, b]] = (await logits.array()) as [[number, number]];
    expect(a).toBeCloseTo(Math.log(1e-12), 3);
    expect(b).toBe(0);
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('warns through console.warn with an [advx] prefix by default', () => {
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    fromFunction(probabilities, { inputShape: [2], numClasses: 3, bounds: [0, 1], output: 'probabilities' });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(String(spy.mock.calls[0]![0])).toMatch(/^\[advx\] fromFunction: the model outputs probabilities/);
  });

  it('applies normalization before fn', async () => {
    const model = fromFunction(linear, {
      inputShape: [2],
      numClasses: 3,
      bounds: [0, 1],
      output: 'logits',
      normalize: { mean: [1, -1], std: [0.5, 2] },
    });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[1.5, 0]]);
    // z = [(1.5 - 1) / 0.5, (0 + 1) / 2] = [1, 0.5]; logits = [1, 1, -1 + 0.5]
    const logits = model.logits(x);
    expect(await logits.array()).toEqual([[1, 1, -0.5]]);
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('casts int32 inputs to float32', async () => {
    const model = fromFunction(linear, { inputShape: [2], numClasses: 3, bounds: [0, 10], output: 'logits' });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[1, 2]], [1, 2], 'int32');
    const logits = model.logits(x);
    expect(logits.dtype).toBe('float32');
    expect(await logits.array()).toEqual([[1, 4, 1]]);
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws INVALID_MODEL, leaking nothing, when fn returns the wrong shape', () => {
    const model = fromFunction(linear, { inputShape: [2], numClasses: 4, bounds: [0, 1], output: 'logits' });
    const x = tf.tensor2d([[1, 2]]);
    const before = tf.memory().numTensors;
    const e = errorOf(() => model.logits(x));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toContain('[1, 3]');
    expect(e.message).toContain('[1, 4]');
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('throws INVALID_SHAPE before calling fn', () => {
    let calls = 0;
    const model = fromFunction(
      (x) => {
        calls++;
        return linear(x);
      },
      { inputShape: [2], numClasses: 3, bounds: [0, 1], output: 'logits' },
    );
    const x = tf.zeros([2, 3]);
    const before = tf.memory().numTensors;
    const e = errorOf(() => model.logits(x));
    expect(e.code).toBe('INVALID_SHAPE');
    expect(e.message).toContain('[n, 2]');
    expect(e.message).toContain('[2, 3]');
    expect(errorOf(() => model.logits([1, 2] as unknown as tf.Tensor)).code).toBe('INVALID_SHAPE');
    expect(calls).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('validates its options before creating anything', () => {
    const base = { inputShape: [2], numClasses: 3, bounds: [0, 1] as const, output: 'logits' as const };
    const before = tf.memory().numTensors;
    const codes = [
      errorOf(() => fromFunction(linear, { ...base, output: undefined as unknown as 'logits' })),
      errorOf(() => fromFunction(linear, { ...base, inputShape: [] })),
      errorOf(() => fromFunction(linear, { ...base, inputShape: [2.5] })),
      errorOf(() => fromFunction(linear, { ...base, numClasses: 1 })),
      errorOf(() => fromFunction(linear, { ...base, bounds: [0, 0] })),
      errorOf(() => fromFunction(linear, { ...base, bounds: [NaN, 1] })),
      errorOf(() => fromFunction(linear, { ...base, normalize: { mean: 0, std: -1 } })),
    ].map((e) => e.code);
    expect(codes).toEqual(Array(7).fill('INVALID_OPTION'));
    expect(errorOf(() => fromFunction('f' as unknown as typeof linear, base)).code).toBe('INVALID_MODEL');
    expect(tf.memory().numTensors).toBe(before);
  });
});
