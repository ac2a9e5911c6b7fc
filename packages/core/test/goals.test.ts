import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { AdvxError, goalKind, goalReached, isAdversarialLogits, leastLikelyTargets, randomTargets, type ResolvedGoal } from '../src/index.js';
import { linearModel } from '../src/testing/index.js';

/** Reads a tensor's values as plain numbers and disposes it. */
async function values(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<AdvxError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AdvxError);
  expect((e as AdvxError).code).toBe(code);
  return e as AdvxError;
}

describe('randomTargets', () => {
  const labels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3, 0, 9, 5, 5, 1, 2, 7, 4];

  it('never equals the label and stays in [0, numClasses)', async () => {
    const before = tf.memory().numTensors;
    for (const numClasses of [2, 3, 10]) {
      const y = labels.map((l) => l % numClasses);
      const t = await values(await randomTargets(y, numClasses, 7));
      expect(t).toHaveLength(y.length);
      t.forEach((v, i) => {
        expect(Number.isInteger(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThan(numClasses);
        expect(v).not.toBe(y[i]);
      });
      // With 2 classes the only other class is forced: t = 1 − y.
      if (numClasses === 2) expect(t).toEqual(y.map((l) => 1 - l));
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('returns int32 and accepts a label tensor (same result as an array)', async () => {
    const before = tf.memory().numTensors;
    const yt = tf.tensor1d(labels, 'int32');
    const fromTensor = await randomTargets(yt, 10, 3);
    expect(fromTensor.dtype).toBe('int32');
    expect(fromTensor.shape).toEqual([labels.length]);
    const a = await values(fromTensor);
    const b = await values(await randomTargets(labels, 10, 3));
    expect(a).toEqual(b);
    yt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const before = tf.memory().numTensors;
    const a = await values(await randomTargets(labels, 10, 42));
    const b = await values(await randomTargets(labels, 10, 42));
    const c = await values(await randomTargets(labels, 10, 43));
    const d = await values(await randomTargets(labels, 10));
    const e = await values(await randomTargets(labels, 10, 0));
    expect(a).toEqual(b);
    expect(d).toEqual(e); // default seed is 0
    // 20 draws from 9 classes each: two seeds agreeing everywhere has probability 9^-20.
    expect(c).not.toEqual(a);
    const agree = a.filter((v, i) => v === c[i]).length;
    expect(agree).toBeLessThan(labels.length);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is pure per index: a prefix of the labels gives a prefix of the targets', async () => {
    const before = tf.memory().numTensors;
    const all = await values(await randomTargets(labels.slice(0, 10), 10, 11));
    const head = await values(await randomTargets(labels.slice(0, 5), 10, 11));
    expect(head).toEqual(all.slice(0, 5));
    // ... and a sample's target depends only on (seed, index, label), not on the other labels.
    const changed = [...labels.slice(0, 10)];
    changed[9] = 0;
    const other = await values(await randomTargets(changed, 10, 11));
    expect(other.slice(0, 9)).toEqual(all.slice(0, 9));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is roughly uniform over the other classes', async () => {
    const before = tf.memory().numTensors;
    // 4000 samples of label 2 with 5 classes: targets uniform over {0, 1, 3, 4}, 1000 expected each.
    const n = 4000;
    const t = await values(await randomTargets(new Array<number>(n).fill(2), 5, 5));
    const counts = [0, 0, 0, 0, 0];
    for (const v of t) counts[v] = (counts[v] as number) + 1;
    expect(counts[2]).toBe(0);
    const expected = n / 4;
    const chi2 = [0, 1, 3, 4].reduce((s, c) => s + ((counts[c] as number) - expected) ** 2 / expected, 0);
    // χ² with 3 degrees of freedom: P(χ² > 16.27) = 0.001 under uniformity.
    expect(chi2).toBeLessThan(16.27);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws LABEL_OUT_OF_RANGE for a bad label and INVALID_OPTION for numClasses < 2', async () => {
    const before = tf.memory().numTensors;
    const e = await rejectsWith(randomTargets([0, 5], 5), 'LABEL_OUT_OF_RANGE');
    expect(e.message).toContain('labels[1] = 5');
    await rejectsWith(randomTargets([-1], 5), 'LABEL_OUT_OF_RANGE');
    await rejectsWith(randomTargets([1.5], 5), 'LABEL_OUT_OF_RANGE');
    await rejectsWith(randomTargets([0], 1), 'INVALID_OPTION');
    await rejectsWith(randomTargets([0], 0), 'INVALID_OPTION');
    await rejectsWith(randomTargets([0], 2.5), 'INVALID_OPTION');
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('leastLikelyTargets', () => {
  // z0 = x0, z1 = x1, z2 = 2 − x0 − x1
  const model = linearModel({
    weights: [
      [1, 0],
      [0, 1],
      [-1, -1],
    ],
    bias: [0, 0, 2],
  });

  it('is the argmin of the logits (hand values)', async () => {
    const x = tf.tensor2d([
      [0.2, 0.9], // z = [0.2, 0.9, 0.9] → 0
      [0.9, 0.1], // z = [0.9, 0.1, 1.0] → 1
      [1, 1], //     z = [1, 1, 0]       → 2
      [0.625, 0.75], // z = [0.625, 0.75, 0.625] (exact in float32): tie 0/2 → first, 0
    ]);
    const before = tf.memory().numTensors;
    const t = leastLikelyTargets(model, x);
    expect(t.dtype).toBe('int32');
    expect(await values(t)).toEqual([0, 1, 2, 0]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('goalReached and isAdversarialLogits', () => {
  it('goalReached: untargeted pred ≠ label, targeted pred = target', () => {
    expect(goalReached([0, 1, 2, 2], [0, 2, 2, 1], false)).toEqual([false, true, false, true]);
    expect(goalReached([0, 1, 2, 2], [0, 2, 2, 1], true)).toEqual([true, false, true, false]);
    expect(goalReached(Int32Array.from([3]), Float32Array.from([3]), true)).toEqual([true]);
    expect(goalReached([], [], false)).toEqual([]);
  });

  it('isAdversarialLogits: argmax compared to the goal classes', async () => {
    // argmax per row: 1, 0, 2, 1
    const logits = tf.tensor2d([
      [1, 2, 0],
      [3, 0, 0],
      [0, 0, 5],
      [-1, -0.5, -2],
    ]);
    const classes = tf.tensor1d([1, 1, 0, 1], 'int32');
    const before = tf.memory().numTensors;
    const targeted: ResolvedGoal = { targeted: true, classes, labels: undefined };
    const untargeted: ResolvedGoal = { targeted: false, classes, labels: classes };
    const t = isAdversarialLogits(logits, targeted);
    const u = isAdversarialLogits(logits, untargeted);
    expect(t.dtype).toBe('bool');
    expect(await values(t)).toEqual([1, 0, 0, 1]);
    expect(await values(u)).toEqual([0, 1, 1, 0]);
    // Agrees with goalReached on the same predictions.
    expect(goalReached([1, 0, 2, 1], [1, 1, 0, 1], true)).toEqual([true, false, false, true]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, classes]);
  });

  it('goalKind tells targeted from untargeted goals', () => {
    const labels = tf.tensor1d([0], 'int32');
    expect(goalKind({ labels })).toBe('untargeted');
    expect(goalKind({ targets: labels })).toBe('targeted');
    expect(goalKind({ targets: labels, labels })).toBe('targeted');
    labels.dispose();
  });
});
