import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { AdvxError, applyPreprocessor, defend, fromFunction, type Model, type Preprocessor } from '../src/index.js';
import { linearModel } from '../src/testing/index.js';

// z0 = x0 + 2·x1 + 0.5, z1 = 3·x0 − x1
const model = linearModel({
  weights: [
    [1, 2],
    [3, -1],
  ],
  bias: [0.5, 0],
});
// A non-linear model (its gradient depends on where it is taken): z0 = x0² + x1², z1 = x0 + x1.
const quadratic = fromFunction((x) => tf.stack([tf.sum(tf.square(x), 1), tf.sum(x, 1)], 1) as tf.Tensor2D, {
  inputShape: [2],
  numClasses: 2,
  bounds: [0, 1],
  output: 'logits',
});

/** x ↦ 0.5·x + 0.25: differentiable, maps [0, 1] into [0.25, 0.75]. */
const affine: Preprocessor = {
  name: 'affine',
  gradient: 'exact',
  randomized: false,
  apply: (x) => tf.tidy(() => tf.add(tf.mul(x, 0.5), 0.25)),
};
/** Rounding to {0, 1} with the BPDA identity gradient. */
const round: Preprocessor = {
  name: 'round',
  gradient: 'bpda-identity',
  randomized: false,
  apply: (x) => tf.round(x),
};
/** x ↦ x², differentiated exactly. */
const square: Preprocessor = {
  name: 'square',
  gradient: 'exact',
  randomized: false,
  apply: (x) => tf.square(x),
};
/** x ↦ x² with a hand-written (deliberately different) backward: dx = (x + 10)·dy. */
const customSquare: Preprocessor = {
  name: 'custom-square',
  gradient: 'custom',
  randomized: false,
  apply: (x) => tf.square(x),
  backward: (x, dy) => tf.tidy(() => tf.mul(dy, tf.add(x, 10))),
};

/** Gradient of Σ_n (z_n0 − 2·z_n1) w.r.t. x through `m`: for the linear model, Wᵀc = (1·1 + 3·(−2), 2·1 + (−1)(−2)) = (−5, 4). */
function weightedGradient(m: Model, x: tf.Tensor): tf.Tensor {
  return tf.grad((input: tf.Tensor) =>
    tf.tidy(() => {
      const z = m.logits(input);
      return tf.sum(tf.mul(z, tf.tensor1d([1, -2])));
    }),
  )(x);
}

async function values(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

function expectClose(actual: number[], expected: number[], digits = 5): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i] as number, digits));
}

function caught(fn: () => unknown): AdvxError {
  let e: unknown;
  try {
    fn();
  } catch (err) {
    e = err;
  }
  expect(e).toBeInstanceOf(AdvxError);
  return e as AdvxError;
}

describe('defend: forward', () => {
  it('defend(model, p1, p2) = model(p2(p1(x))) on hand values, in order', async () => {
    const x = tf.tensor2d([
      [0.2, 0.6],
      [1, 0],
    ]);
    const before = tf.memory().numTensors;
    // affine: [[0.35, 0.55], [0.75, 0.25]] → round: [[0, 1], [1, 0]] → z = [[2.5, −1], [1.5, 3]]
    expectClose(await values(defend(model, affine, round).logits(x)), [2.5, -1, 1.5, 3]);
    // round: [[0, 1], [1, 0]] → affine: [[0.25, 0.75], [0.75, 0.25]] → z = [[2.25, 0], [1.75, 2]]
    expectClose(await values(defend(model, round, affine).logits(x)), [2.25, 0, 1.75, 2]);
    // No preprocessor: the model itself. z(0.2, 0.6) = [1.9, 0]; z(1, 0) = [1.5, 3]
    expectClose(await values(defend(model).logits(x)), [1.9, 0, 1.5, 3]);
    // The custom forward is the real transform: x² = [[0.04, 0.36], [1, 0]] → z = [[1.26, −0.24], [1.5, 3]]
    expectClose(await values(defend(model, customSquare).logits(x)), [1.26, -0.24, 1.5, 3]);
    // Same as composing by hand.
    const byHand = tf.tidy(() => model.logits(round.apply(affine.apply(x, [0, 1]), [0, 1])));
    expectClose(await values(defend(model, affine, round).logits(x)), await values(byHand));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('the defended model keeps the metadata of the model', () => {
    const d = defend(model, affine);
    expect(d.kind).toBe('model');
    expect(d.inputShape).toEqual([2]);
    expect(d.numClasses).toBe(2);
    expect(d.bounds).toEqual([0, 1]);
    expect(d.outputKind).toBe('logits');
    expect(Object.isFrozen(d)).toBe(true);
  });
});

describe('defend: gradients', () => {
  const x = tf.keep(tf.tensor2d([[0.2, 0.6]]));
  afterAll(() => x.dispose());

  it('no preprocessor: Wᵀc = (−5, 4)', async () => {
    const before = tf.memory().numTensors;
    expectClose(await values(weightedGradient(defend(model), x)), [-5, 4]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('exact: the chain rule by hand', async () => {
    const before = tf.memory().numTensors;
    // affine: 0.5·Wᵀc = (−2.5, 2)
    expectClose(await values(weightedGradient(defend(model, affine), x)), [-2.5, 2]);
    // affine then square: d/dx (0.5x + 0.25)² = 2·(0.5x + 0.25)·0.5 = (0.35, 0.55) → (−1.75, 2.2)
    expectClose(await values(weightedGradient(defend(model, affine, square), x)), [-1.75, 2.2]);
    // square then affine: 0.5 · 2x ⊙ Wᵀc = (0.2, 0.6) ⊙ (−5, 4) = (−1, 2.4)
    expectClose(await values(weightedGradient(defend(model, square, affine), x)), [-1, 2.4]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bpda-identity: the model gradient at p(x)', async () => {
    const before = tf.memory().numTensors;
    // Linear model, affine then round: the round is the identity backward → 0.5·Wᵀc
    expectClose(await values(weightedGradient(defend(model, affine, round), x)), [-2.5, 2]);
    // Quadratic model: ∇z0 = 2·p(x); at p(0.2, 0.6) = (0, 1): z0 − 2z1 → 2·(0, 1) − 2·(1, 1) = (−2, 0)
    const viaDefense = await values(weightedGradient(defend(quadratic, round), x));
    expectClose(viaDefense, [-2, 0]);
    const px = round.apply(x, [0, 1]);
    expectClose(await values(weightedGradient(quadratic, px)), viaDefense);
    // ... and not the gradient at x itself: 2·(0.2, 0.6) − 2 = (−1.6, −0.8)
    expectClose(await values(weightedGradient(quadratic, x)), [-1.6, -0.8]);
    px.dispose();
    // The raw rounding has a zero gradient (what BPDA replaces).
    const masked = tf.grad((input: tf.Tensor) => tf.sum(tf.round(input)))(x);
    expectClose(await values(masked), [0, 0]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('custom: uses backward(x, dy)', async () => {
    const before = tf.memory().numTensors;
    // dx = (x + 10) ⊙ Wᵀc = (10.2·(−5), 10.6·4) = (−51, 42.4) (not the exact 2x ⊙ Wᵀc = (−2, 4.8))
    expectClose(await values(weightedGradient(defend(model, customSquare), x)), [-51, 42.4], 4);
    // After affine, backward gets the affine output p1(x) = (0.35, 0.55): 0.5·(10.35·(−5), 10.55·4)
    expectClose(await values(weightedGradient(defend(model, affine, customSquare), x)), [-25.875, 21.1], 4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('applyPreprocessor: exact passes through, bpda/custom keep the forward value', async () => {
    const before = tf.memory().numTensors;
    expectClose(await values(applyPreprocessor(affine, x, [0, 1])), [0.35, 0.55]);
    expectClose(await values(applyPreprocessor(round, x, [0, 1])), [0, 1]);
    expectClose(await values(applyPreprocessor(customSquare, x, [0, 1])), [0.04, 0.36]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('defend: errors', () => {
  it('defend on a non-Model throws INVALID_MODEL', () => {
    expect(caught(() => defend({} as Model, affine)).code).toBe('INVALID_MODEL');
    expect(caught(() => defend(null as unknown as Model)).code).toBe('INVALID_MODEL');
    expect(caught(() => defend({ ...model, kind: 'query' } as unknown as Model)).code).toBe('INVALID_MODEL');
  });

  it('a preprocessor with a bad gradient mode (or no apply) throws INVALID_OPTION', () => {
    const bad = { ...affine, gradient: 'straight-through' } as unknown as Preprocessor;
    expect(caught(() => defend(model, bad)).code).toBe('INVALID_OPTION');
    expect(caught(() => defend(model, affine, { name: 'x', gradient: 'exact', randomized: false } as unknown as Preprocessor)).code).toBe('INVALID_OPTION');
  });

  it('custom without backward throws INVALID_OPTION when used, leaking nothing', () => {
    const noBackward: Preprocessor = { name: 'no-backward', gradient: 'custom', randomized: false, apply: (x) => tf.square(x) };
    const defended = defend(model, noBackward);
    const x = tf.tensor2d([[0.2, 0.6]]);
    const before = tf.memory().numTensors;
    const e = caught(() => defended.logits(x));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toContain('no-backward');
    expect(caught(() => applyPreprocessor(noBackward, x, [0, 1])).code).toBe('INVALID_OPTION');
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
