/**
 * The reach `steps × stepSize` of each iterative attack (issue #17, item 8) against the attack itself:
 * on a two-class linear model the ascent direction never changes, so without random start an attack
 * with `earlyStop: false` walks in a straight line and its final distance from the input is exactly
 * min(reach, ε). The `STEPS_CANNOT_REACH_EPSILON` warning of evaluate() fires from these numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { apgdCe, bim, fgsm, miFgsm, nes, pgd } from '@advx/attacks';
import { fromFunction, Rng, type Attack, type Model } from '@advx/core';

import { evaluate } from '../evaluate.js';
import { mergeResults } from '../merge-results.js';
import type { EvaluateOptions, MaskingWarning } from '../types.js';
import { stepReach } from './step-reach.js';

const rng = new Rng(5);
const w = Array.from({ length: 16 }, () => rng.normal());
/** Two classes with opposite weights: the cross-entropy gradient of either label has one fixed sign pattern. */
const W = tf.keep(
  tf.tensor2d(
    w.flatMap((v) => [v, -v]),
    [16, 2],
  ),
);
const linear: Model = fromFunction((x) => tf.matMul(tf.reshape(x, [-1, 16]), W) as tf.Tensor2D, {
  inputShape: [4, 4, 1],
  numClasses: 2,
  bounds: [0, 1],
  output: 'logits',
});
const x = tf.keep(tf.fill([3, 4, 4, 1], 0.5));
const labels = tf.keep(tf.tidy(() => tf.cast(tf.argMax(linear.logits(x), 1), 'int32') as tf.Tensor1D));
afterAll(() => tf.dispose([W, x, labels]));

/** The largest distance from the input over the batch after the attack, in its norm, and its queries. */
async function walked(attack: Attack, epsilon: number, norm: 'linf' | 'l2'): Promise<{ distance: number; queries: number[] | undefined }> {
  const r = await attack.run(linear, x, { labels }, { epsilons: [epsilon], seed: 1 });
  const d = tf.tidy(() => {
    const delta = tf.reshape(tf.sub(r.clipped[0] as tf.Tensor, x), [3, -1]);
    return tf.max(norm === 'linf' ? tf.max(tf.abs(delta), 1) : tf.sqrt(tf.sum(tf.square(delta), 1)));
  });
  const distance = (await d.data())[0] as number;
  const queries = r.queries ? Array.from(r.queries) : undefined;
  d.dispose();
  r.dispose();
  return { distance, queries };
}

const reachOf = (a: Attack, epsilon: number) => stepReach(a.meta.name, a.options as Record<string, unknown>, epsilon, [0, 1], 16);

describe('stepReach against the attacks it describes', () => {
  it.each([
    ['pgd, 10 steps of relStepSize 1/30 (reach 0.1 < ε 0.3)', pgd({ steps: 10, randomStart: false, earlyStop: false }), 0.3, 'linf', 0.1],
    ['pgd, 40 steps (reach 0.4 ≥ ε: projected back to ε)', pgd({ steps: 40, randomStart: false, earlyStop: false }), 0.3, 'linf', 0.4],
    ['pgd, absolute stepSize 0.02 × 5', pgd({ steps: 5, stepSize: 0.02, randomStart: false, earlyStop: false }), 0.3, 'linf', 0.1],
    ['pgd l2, 5 steps of 0.1·ε', pgd({ norm: 'l2', steps: 5, relStepSize: 0.1, randomStart: false, earlyStop: false }), 1, 'l2', 0.5],
    ['bim, 3 steps of Kurakin α = 1/255', bim({ steps: 3, earlyStop: false }), 0.3, 'linf', 3 / 255],
    ['bim, Kurakin rule at ε = 8/255 (10 steps of 1/255)', bim({ earlyStop: false }), 8 / 255, 'linf', 10 / 255],
    ['bim l2, default 10 steps of 1.25·ε/10', bim({ norm: 'l2', earlyStop: false }), 0.5, 'l2', 0.625],
    ['mi-fgsm, ε/steps per step', miFgsm({ steps: 7, earlyStop: false }), 0.2, 'linf', 0.2],
  ] as const)('%s', async (_what, attack, epsilon, norm, reach) => {
    const r = reachOf(attack, epsilon)!;
    expect(r.reach).toBeCloseTo(reach, 9);
    expect(r.randomStart).toBe(false);
    const { distance } = await walked(attack, epsilon, norm);
    expect(distance).toBeCloseTo(Math.min(reach, epsilon), 5);
  });

  it('nes: the steps the query budget pays for (1 + 2·samples queries a step), as the attack counts them', async () => {
    const attack = nes({ steps: 100, samples: 5, maxQueries: 40, relStepSize: 0.1, earlyStop: false });
    const r = reachOf(attack, 0.3)!;
    expect(r).toMatchObject({ steps: 3, queryLimitedSteps: 3, stepSizeFrom: 'relative' });
    expect(r.reach).toBeCloseTo(0.09, 9);
    const { distance, queries } = await walked(attack, 0.3, 'linf');
    expect(queries).toEqual([33, 33, 33]);
    expect(distance).toBeLessThanOrEqual(0.09 + 1e-6);
  });

  it('random start is reported; fgsm and APGD (step size from 2ε) are not checked', () => {
    expect(reachOf(pgd({ steps: 10 }), 0.3)).toMatchObject({ steps: 10, randomStart: true, stepSizeOption: 'relStepSize' });
    expect(reachOf(fgsm(), 0.3)).toBeUndefined();
    expect(reachOf(apgdCe({ steps: 5 }), 0.3)).toBeUndefined();
  });
});

async function warningsOf(options: Partial<EvaluateOptions>): Promise<readonly MaskingWarning[]> {
  const before = tf.memory().numTensors;
  const r = await evaluate({ model: linear, data: { x, labels }, epsilons: [0.1, 0.3], attacks: [fgsm()], diagnostics: { unbounded: false }, ...options });
  expect(tf.memory().numTensors).toBe(before);
  const merged = mergeResults([r]);
  // Recomputed from the configuration alone by mergeResults.
  expect(merged.warnings.filter((m) => m.code === 'STEPS_CANNOT_REACH_EPSILON')).toEqual(r.warnings.filter((m) => m.code === 'STEPS_CANNOT_REACH_EPSILON'));
  return r.warnings.filter((m) => m.code === 'STEPS_CANNOT_REACH_EPSILON');
}

describe('STEPS_CANNOT_REACH_EPSILON in evaluate()', () => {
  it('pgd with 10 steps of the default relStepSize: reach 0.333·ε, with the rule and the fix', async () => {
    const found = await warningsOf({ attacks: [fgsm(), pgd({ steps: 10 }), pgd({ steps: 40 }), miFgsm(), bim(), apgdCe({ steps: 5 })] });
    expect(found).toEqual([
      {
        code: 'STEPS_CANNOT_REACH_EPSILON',
        message:
          'pgd(steps=10): 10 steps × 0.0333·ε reach 0.333·ε < ε. The iterates stay within 0.333·ε of their random start (restarts do not lengthen a path), ' +
          'so the attack runs at a smaller ε than reported and its robust accuracy overstates robustness: raise steps or relStepSize (steps × relStepSize ≥ 1).',
        evidence: {
          attack: 'pgd(steps=10)',
          epsilon: 0.3,
          steps: 10,
          stepSize: 0.01,
          reach: 0.1,
          reachOverEpsilon: 0.333333,
          randomStart: true,
          shortEpsilons: 2,
        },
      },
    ]);
  });

  it('an absolute step size falls short only at the larger ε; a query budget is named', async () => {
    const found = await warningsOf({
      epsilons: [0.05, 0.1, 0.3],
      attacks: [pgd({ steps: 10, stepSize: 0.01, randomStart: false }), nes({ steps: 100, samples: 5, maxQueries: 40, stepSize: 0.02 })],
    });
    expect(found.map((f) => f.message)).toEqual([
      'pgd(steps=10,stepSize=0.01,randomStart=false): 10 steps × 0.01 reach 0.1 (0.333·ε) < ε = 0.3. The iterates stay within 0.1 of the input, ' +
        'so the attack runs at a smaller ε than reported and its robust accuracy overstates robustness: raise steps or stepSize (steps × step size ≥ 0.3).',
      'nes(steps=100,stepSize=0.02,maxQueries=40,samples=5): 3 steps × 0.02 reach 0.06 (0.2·ε) < ε = 0.3 (short at ε = 0.1, 0.3). ' +
        'maxQueries = 40 pays for 3 of its 100 steps. The iterates stay within 0.06 of the input, ' +
        'so the attack runs at a smaller ε than reported and its robust accuracy overstates robustness: raise maxQueries or stepSize (steps × step size ≥ 0.3).',
    ]);
  });

  it('quiet for pgd 40 steps, the Kurakin BIM, MI-FGSM, FGSM and APGD; off with diagnostics: false', async () => {
    expect(await warningsOf({ attacks: [fgsm(), pgd(), bim(), miFgsm({ steps: 3 }), apgdCe({ steps: 5 })] })).toEqual([]);
    const r = await evaluate({ model: linear, data: { x, labels }, epsilons: [0.3], attacks: [pgd({ steps: 2 })], diagnostics: false });
    expect(r.warnings).toEqual([]);
  });
});
