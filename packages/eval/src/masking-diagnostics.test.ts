/**
 * Each gradient-masking diagnostic of evaluate() fires on a model built to trigger it, with its
 * evidence, and stays quiet on a plain differentiable model (mnist-cnn: test/cli.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { bim, fgsm, pgd, square, universal } from '@advx/attacks';
import { fromFunction, Rng, setWarningHandler, type Model } from '@advx/core';
import { selfLabeledData } from '@advx/core/testing';

import { evaluate } from './evaluate.js';
import type { EvaluateOptions, MaskingWarning } from './types.js';

const codes = (w: readonly MaskingWarning[]) => w.map((x) => x.code);
const rng = new Rng(21);
const W = tf.keep(
  tf.tensor2d(
    Array.from({ length: 64 * 4 }, () => rng.normal()),
    [64, 4],
  ),
);
const linearLogits = (x: tf.Tensor) => tf.matMul(tf.reshape(x, [-1, 64]), W) as tf.Tensor2D;
const image = { inputShape: [8, 8, 1], numClasses: 4, bounds: [0, 1] as const };

/** The linear 8×8 classifier behind a rounding layer (4 grey levels): its input gradient is zero everywhere. */
const rounding = fromFunction((x) => linearLogits(tf.div(tf.round(tf.mul(x, 4)), 4)), { ...image, output: 'logits' });
const roundingData = selfLabeledData(rounding, 1, 16);

afterAll(() => tf.dispose([roundingData.x, roundingData.labels]));

async function warningsOf(options: Omit<EvaluateOptions, 'epsilons'> & { epsilons?: readonly number[] }): Promise<readonly MaskingWarning[]> {
  const before = tf.memory().numTensors;
  const r = await evaluate({ epsilons: [0.1, 0.3], ...options });
  expect(tf.memory().numTensors).toBe(before);
  return r.warnings;
}

describe('masking diagnostics', () => {
  it('quiet on a differentiable deterministic logits model (the same linear classifier without rounding)', async () => {
    const linear = fromFunction(linearLogits, { ...image, output: 'logits' });
    const data = selfLabeledData(linear, 1, 16);
    expect(await warningsOf({ model: linear, data, attacks: [fgsm(), pgd({ steps: 20, relStepSize: 0.1 }), square({ maxQueries: 200 })] })).toEqual([]);
    tf.dispose([data.x, data.labels]);
  });

  it('PROBABILITY_OUTPUT: a softmax-output model, and a model that declares logits but returns log-softmax', async () => {
    const previous = setWarningHandler(() => undefined);
    const softmax = fromFunction((x) => tf.softmax(linearLogits(x)), { ...image, output: 'probabilities' });
    setWarningHandler(previous);
    const data = selfLabeledData(softmax, 2, 8);
    const w = await warningsOf({ model: softmax, data, attacks: [fgsm()], diagnostics: { unbounded: false } });
    expect(codes(w)).toContain('PROBABILITY_OUTPUT');
    expect(w.find((x) => x.code === 'PROBABILITY_OUTPUT')!.evidence.outputKind).toBe('log-probabilities');
    const logSoftmax = fromFunction((x) => tf.logSoftmax(linearLogits(x)), { ...image, output: 'logits' });
    const w2 = await warningsOf({ model: logSoftmax, data, attacks: [fgsm()], diagnostics: { unbounded: false } });
    expect(w2.find((x) => x.code === 'PROBABILITY_OUTPUT')!.evidence).toMatchObject({ outputKind: 'logits', rows: 8, logProbabilityRows: 1 });
    tf.dispose([data.x, data.labels]);
  });

  it('ZERO_GRADIENTS and UNBOUNDED_NOT_ZERO: a non-differentiable rounding layer', async () => {
    const w = await warningsOf({ model: rounding, data: roundingData, attacks: [pgd({ steps: 10, randomStart: false })] });
    const zero = w.find((x) => x.code === 'ZERO_GRADIENTS')!;
    expect(zero.evidence).toMatchObject({ samples: 16, zeroGradients: 16, nanGradients: 0, share: 1 });
    const unbounded = w.find((x) => x.code === 'UNBOUNDED_NOT_ZERO')!;
    // Linf ε = 1 spans the bounds [0, 1]: every input is reachable, yet PGD moves nothing.
    expect(unbounded.evidence).toMatchObject({ epsilon: 1, robustAccuracy: 1, samples: 16 });
  });

  it('RANDOMIZED_MODEL: a model that adds fresh noise to its logits on every call', async () => {
    const noise = new Rng(5);
    const randomized = fromFunction(
      (x) =>
        tf.add(
          linearLogits(x),
          tf.tensor2d(
            Array.from({ length: x.shape[0] * 4 }, () => 0.5 * noise.normal()),
            [x.shape[0], 4],
          ),
        ) as tf.Tensor2D,
      { ...image, output: 'logits' },
    );
    const w = await warningsOf({ model: randomized, data: roundingData, attacks: [fgsm()], diagnostics: { unbounded: false } });
    const warning = w.find((x) => x.code === 'RANDOMIZED_MODEL')!;
    expect(warning.evidence.maxLogitDifference as number).toBeGreaterThan(0.1);
    expect(codes(w)).not.toContain('ZERO_GRADIENTS');
  });

  it('BLACK_BOX_BEATS_WHITE_BOX: Square fools the rounding model that FGSM cannot move', async () => {
    const w = await warningsOf({
      model: rounding,
      data: roundingData,
      attacks: [fgsm(), square({ maxQueries: 200 })],
      epsilons: [0.3],
      diagnostics: { unbounded: false },
    });
    const warning = w.find((x) => x.code === 'BLACK_BOX_BEATS_WHITE_BOX')!;
    expect(warning.evidence.whiteBoxRobustAccuracy).toBe(1);
    expect(warning.evidence.blackBoxRobustAccuracy as number).toBeLessThan(0.5);
    expect(warning.evidence.onlyBlackBox as number).toBeGreaterThan(8);
  });

  it('a dataset-level attack is no per-sample white-box reference: neither the black-box nor the unbounded check holds a universal perturbation to per-sample standards', async () => {
    const before = tf.memory().numTensors;
    const r = await evaluate({ model: rounding, data: roundingData, attacks: [universal({ epochs: 1 }), square({ maxQueries: 200 })], epsilons: [0.3] });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.config.attacks[0]).toMatchObject({ name: 'universal-perturbation', scope: 'dataset' });
    expect(r.config.attacks[1]?.scope).toBeUndefined();
    // Square fools the samples that the universal perturbation leaves (as FGSM in the BLACK_BOX_BEATS_WHITE_BOX case above) ...
    const onlySquare = r.samples.filter((s) => s.attacks[1]?.success[0] === true && s.attacks[0]?.success[0] !== true).length;
    expect(onlySquare).toBeGreaterThan(8);
    // ... but with no per-sample white-box attack in the grid there is nothing to compare it with, and no attack for the unbounded check.
    expect(codes(r.warnings)).not.toContain('BLACK_BOX_BEATS_WHITE_BOX');
    expect(codes(r.warnings)).not.toContain('UNBOUNDED_NOT_ZERO');
    expect(codes(r.warnings)).toContain('ZERO_GRADIENTS');
  });

  describe('a periodic model: margin 3·cos(5π(x − ½)), inputs x ∈ (0.51, 0.55) of class 0', () => {
    const periodic: Model = fromFunction((x) => tf.concat([tf.mul(tf.cos(tf.mul(tf.sub(x, 0.5), 5 * Math.PI)), 3), tf.zerosLike(x)], 1) as tf.Tensor2D, {
      inputShape: [1],
      numClasses: 2,
      bounds: [0, 1],
      output: 'logits',
    });
    const xs = tf.keep(tf.tensor2d([0.51, 0.52, 0.53, 0.54, 0.55], [5, 1]));
    const data = { x: xs, labels: tf.keep(tf.tensor1d([0, 0, 0, 0, 0], 'int32')) };

    it('ACCURACY_INCREASES_WITH_EPSILON: one PGD step of ε lands at cos < 0 (fooled) for ε = 0.1, at cos > 0 (not fooled) for ε = 0.4', async () => {
      const attack = pgd({ steps: 1, relStepSize: 1, randomStart: false });
      const w = await warningsOf({ model: periodic, data, attacks: [attack], epsilons: [0.1, 0.4], diagnostics: { unbounded: false } });
      const warning = w.find((x) => x.code === 'ACCURACY_INCREASES_WITH_EPSILON' && x.evidence.attack !== 'ensemble')!;
      expect(warning.evidence).toMatchObject({ epsilon: 0.1, robustAccuracy: 0, largerEpsilon: 0.4, largerEpsilonRobustAccuracy: 1 });
    });

    it('ACCURACY_INCREASES_WITH_STEPS: a second BIM step of 0.2 (no early stop) climbs back to the correct class', async () => {
      const options = { stepSize: 0.2, earlyStop: false };
      const w = await warningsOf({
        model: periodic,
        data,
        attacks: [bim({ ...options, steps: 1 }), bim({ ...options, steps: 2 })],
        epsilons: [0.4],
        diagnostics: { unbounded: false },
      });
      const warning = w.find((x) => x.code === 'ACCURACY_INCREASES_WITH_STEPS')!;
      expect(warning.evidence).toMatchObject({ epsilon: 0.4, fewerSteps: 1, fewerStepsRobustAccuracy: 0, moreSteps: 2, moreStepsRobustAccuracy: 1 });
    });
  });
});
