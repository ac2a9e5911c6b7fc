import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { toQueryModel } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { expectCode } from '../test/fixtures.js';

import { postprocess } from './postprocess.js';
import { reverseSigmoid } from './reverse-sigmoid.js';
import { roundOutput } from './round-output.js';
import { topOne } from './top-one.js';

/** ART's ReverseSigmoid on one row, in plain JS (double precision). */
function reference(row: number[], beta: number, gamma: number): number[] {
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  const perturbed = row.map((p) => {
    const c = Math.min(Math.max(p, 1e-9), 1 - 1e-9);
    return Math.min(Math.max(p - beta * (sig(-gamma * Math.log((1 - c) / c)) - 0.5), 0), 1);
  });
  const s = perturbed.reduce((a, b) => a + b, 0);
  return perturbed.map((v) => v / s);
}

const model = linearModel({
  weights: [
    [2, -1],
    [-1, 2],
    [0.5, 0.5],
  ],
});

describe('postprocessors', () => {
  it('roundOutput, topOne and reverseSigmoid match hand-computed rows', async () => {
    const p = tf.tensor2d([
      [0.7234, 0.2, 0.0766],
      [0.1, 0.35, 0.55],
    ]);
    expect(await roundOutput({ decimals: 1 }).apply(p).array()).toEqual(
      [
        [0.7, 0.2, 0.1],
        [0.1, 0.4, 0.6],
      ].map((r) => r.map(Math.fround)),
    );
    expect(await topOne().apply(p).array()).toEqual([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    const rs = (await reverseSigmoid({ beta: 0.8, gamma: 0.2 }).apply(p).array()) as number[][];
    const rows = (await p.array()) as number[][];
    rows.forEach((row, i) => reference(row, 0.8, 0.2).forEach((v, j) => expect(rs[i]![j]).toBeCloseTo(v, 5)));
    p.dispose();
  });

  it('postprocess() releases transformed probabilities as a query model, counting queries, leaking nothing', async () => {
    const x = tf.tensor2d([
      [0.9, 0.1],
      [0.2, 0.7],
      [0.5, 0.5],
    ]);
    const before = tf.memory().numTensors;
    const api = postprocess(model, reverseSigmoid(), roundOutput({ decimals: 2 }));
    expect(api.output).toBe('scores');
    const scores = await api.query(x);
    const probs = tf.tidy(() => tf.softmax(model.logits(x)));
    const want = tf.tidy(() => roundOutput({ decimals: 2 }).apply(reverseSigmoid().apply(probs)));
    expect(await scores.array()).toEqual(await want.array());
    expect(api.queries).toBe(3);
    const labels = postprocess(toQueryModel(model, { output: 'scores' }), topOne());
    expect(labels.output).toBe('label');
    const l = await labels.query(x);
    // Logits [1.7, −0.7, 0.5], [−0.3, 1.2, 0.45] and a three-way tie (argmax takes the first).
    expect(await l.array()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [1, 0, 0],
    ]);
    tf.dispose([scores, probs, want, l]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rejects bad options and models with a clear AdvxError', async () => {
    const bad: [string, () => unknown][] = [
      ['INVALID_OPTION', () => roundOutput({ decimals: -1 })],
      ['INVALID_OPTION', () => reverseSigmoid({ beta: 0 })],
      ['INVALID_OPTION', () => reverseSigmoid({ gamma: -1 })],
      ['INVALID_MODEL', () => postprocess({} as never)],
      ['UNSUPPORTED_MODEL', () => postprocess(toQueryModel(model, { output: 'label' }))],
      ['INVALID_OPTION', () => postprocess(model, {} as never)],
    ];
    for (const [code, fn] of bad) await expectCode(code as 'INVALID_OPTION', fn);
    const wrong = tf.zeros([1, 3]);
    await expectCode('INVALID_SHAPE', () => postprocess(model, topOne()).query(wrong));
    wrong.dispose();
  });
});
