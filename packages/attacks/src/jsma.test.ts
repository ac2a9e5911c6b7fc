import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { fromFunction, isAdvxError, randomTargets, Rng, type Model } from '@advx/core';
import { assertConformance, checkAttack, linearModel } from '@advx/core/testing';

import { expectCode, jsmaLinear, rows } from '../test/fixtures.js';

import { jsma } from './jsma.js';

// A 6-feature, 3-class linear model on [0, 1]. For target 0: α = W[0] = [2, 1, 0.5, 3, 1.5, 0] and
// β = W[1] + W[2] = [−1, −1, −1, 1.5, −2, −0.5]. The admissible pairs (α_p+α_q > 0, β_p+β_q < 0)
// and their scores (α_p+α_q)·|β_p+β_q|, by hand:
//   (0,1) 3·2 = 6     (0,2) 2.5·2 = 5   (0,4) 3.5·3 = 10.5   (0,5) 2·1.5 = 3    (1,2) 1.5·2 = 3
//   (1,4) 2.5·3 = 7.5 (1,5) 1·1.5 = 1.5 (2,4) 2·3 = 6        (2,5) 0.5·1.5 = 0.75
//   (3,4) 4.5·0.5 = 2.25                (4,5) 1.5·2.5 = 3.75
// (every pair with feature 3 but (3,4) has β_p+β_q > 0; feature 3 has the largest α but is not chosen).
// First pair: (0, 4). Without 0 and 4: (1,2) 3 > (1,5) 1.5 > (2,5) 0.75 → second pair (1, 2); then
// only {3, 5} is left and (3,5) has β sum +1 → no admissible pair.
const W = jsmaLinear.weights;
// Logits at x = 0: [−4, 1, 0.5] (class 1). After (0,4) = 1: [−0.5, −2, 0.5] (class 2, not yet 0).
// After (1,2) = 1 as well: [1, −3, −0.5] → class 0 with 4 changed features.
const linear = jsmaLinear.model;

/** A 2-layer ReLU MLP with fixed seeded weights on inputs [4, 4, 2] (D = 32) and 4 classes. */
function mlp(seed: number): Model {
  const d = 32;
  const h = 24;
  const c = 4;
  const rng = new Rng(seed);
  const w1 = tf.keep(
    tf.tensor2d(
      Array.from({ length: d * h }, () => rng.normal() * Math.sqrt(2 / d)),
      [d, h],
    ),
  );
  const b1 = tf.keep(tf.tensor1d(Array.from({ length: h }, () => 0.1 * rng.normal())));
  const w2 = tf.keep(
    tf.tensor2d(
      Array.from({ length: h * c }, () => rng.normal() * Math.sqrt(2 / h)),
      [h, c],
    ),
  );
  return fromFunction((x) => tf.matMul(tf.relu(tf.add(tf.matMul(tf.reshape(x, [-1, d]), w1), b1)), w2) as tf.Tensor2D, {
    inputShape: [4, 4, 2],
    numClasses: c,
    bounds: [0, 1],
    output: 'logits',
  });
}

const net = mlp(7);
const dataRng = new Rng(11);
const xNet = tf.tensor4d(
  Array.from({ length: 8 * 32 }, () => 0.2 * dataRng.uniform()),
  [8, 4, 4, 2],
);
const labelsNet = tf.tidy(() => tf.cast(tf.argMax(net.logits(xNet), 1), 'int32') as tf.Tensor1D);

afterAll(() => tf.dispose([xNet, labelsNet]));

describe.each(['js', 'tensor'] as const)("jsma on a linear model (hand-computed saliency pairs), pairSearch '%s'", (pairSearch) => {
  const x0 = tf.zeros([1, 6]);
  const target0 = tf.tensor1d([0], 'int32');
  afterAll(() => tf.dispose([x0, target0]));

  it('picks the pair with the largest (α_p+α_q)·|β_p+β_q| first: (0, 4)', async () => {
    // gamma 0.5 → floor(0.5·6/2) = 1 iteration: exactly one pair.
    const r = await jsma({ gamma: 0.5, pairSearch }).run(linear, x0, { targets: target0 });
    expect((await rows(r.raw))[0]).toEqual([1, 0, 0, 0, 1, 0]);
    expect(r.distances[0]).toBe(Infinity); // logits [−0.5, −2, 0.5]: class 2, target not reached
    r.dispose();
  });

  it('then (1, 2), reaching the target with 4 changed features (distance = changed count)', async () => {
    const r = await jsma({ gamma: 1, pairSearch }).run(linear, x0, { targets: target0 }, { epsilons: [2, 4] });
    expect((await rows(r.raw))[0]).toEqual([1, 1, 1, 0, 1, 0]);
    expect(r.distances[0]).toBe(4);
    // L0 budget 2 keeps the 2 largest changes (ties by index: features 0 and 1): not adversarial.
    expect(r.success.map((s) => s[0])).toEqual([false, true]);
    r.dispose();
  });

  it("others 'runner-up' differentiates the largest other logit: (0, 4), then (1, 3) against class 2", async () => {
    // At x = 0 the runner-up is class 1 (logits [−4, 1, 0.5]): β = W[1] = [−1, 0, −1, 1, −2, 0.5]; the
    // best admissible pair is again (0,4) with 3.5·3 = 10.5 ((2,4) 2·3 = 6, (0,2) 2.5·2 = 5, (1,4) 5).
    // Then logits [−0.5, −2, 0.5]: the runner-up is class 2, β = W[2] = [0, −1, 0, 0.5, 0, −1]; over
    // {1, 2, 3, 5}: (1,3) 4·0.5 = 2 and (1,5) 1·2 = 2 tie, the first in (p, q) order wins: (1,3)
    // ((1,2) 1.5, (3,5) 1.5, (2,5) 0.5; (2,3) has β sum +0.5). Logits [3.5, −1, 0]: target reached.
    const r = await jsma({ gamma: 1, pairSearch, others: 'runner-up' }).run(linear, x0, { targets: target0 });
    expect((await rows(r.raw))[0]).toEqual([1, 1, 0, 1, 1, 0]);
    expect(r.distances[0]).toBe(4);
    r.dispose();
  });

  it('stops when no pair is admissible: x unchanged, target not reached', async () => {
    // Target 2 from x = 0: α = W[2] = [0, −1, 0, 0.5, 0, −1], β = W[0] + W[1] = [1, 1, −0.5, 4, −0.5, 0.5].
    // α_p+α_q > 0 needs feature 3 (the only positive α) with q ∈ {0, 2, 4}, and those pairs have
    // β sums 5, 3.5, 3.5 > 0: no admissible pair from the first iteration.
    const target2 = tf.tensor1d([2], 'int32');
    const r = await jsma({ gamma: 1, pairSearch }).run(linear, x0, { targets: target2 });
    expect((await rows(r.raw))[0]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(r.distances[0]).toBe(Infinity);
    r.dispose();
    target2.dispose();
  });

  it('theta −1 decreases features: from x = 1 toward target 1 the first pair is (0, 4), set to 0', async () => {
    // Target 1: α = W[1] = [−1, 0, −1, 1, −2, 0.5], β = W[0] + W[2] = [2, 0, 0.5, 3.5, 1.5, −1].
    // Decreasing needs α_p+α_q < 0 and β_p+β_q > 0, score |α sum|·β sum: (0,4) 3·3.5 = 10.5 is the
    // largest ((3,4) 1·5 = 5, (2,4) 3·2 = 6, (0,2) 2·2.5 = 5, (1,4) 2·1.5 = 3, (0,1) 1·2 = 2).
    const ones = tf.ones([1, 6]);
    const target1 = tf.tensor1d([1], 'int32');
    const r = await jsma({ theta: -1, gamma: 0.5, pairSearch }).run(linear, ones, { targets: target1 });
    expect((await rows(r.raw))[0]).toEqual([0, 1, 1, 1, 0, 1]);
    r.dispose();
    tf.dispose([ones, target1]);
  });

  it('a fractional theta moves chosen features by theta·(high − low) and removes them from the domain', async () => {
    // Bounds [−1, 1] (width 2), theta 0.25 → +0.5 per chosen feature, from x = −1 (logits [−12, 3.5, 2]):
    // α and β do not depend on x, so the pairs are again (0,4) then (1,2), then none is admissible;
    // z0 only rises to −9.5, so the target is not reached and each chosen feature moved once.
    const wide = linearModel({ weights: W, bias: jsmaLinear.bias, bounds: [-1, 1] });
    const start = tf.fill([1, 6], -1);
    const r = await jsma({ theta: 0.25, gamma: 1, pairSearch }).run(wide, start, { targets: target0 });
    expect((await rows(r.raw))[0]).toEqual([-0.5, -0.5, -0.5, -1, -0.5, -1]);
    r.dispose();
    start.dispose();
  });

  it('passes the conformance suite (targeted only)', async () => {
    const x = tf.tensor2d(jsmaLinear.conformanceRows);
    const labels = tf.tidy(() => tf.cast(tf.argMax(linear.logits(x), 1), 'int32') as tf.Tensor1D);
    const targets = tf.tensor1d([0, 0, 0, 0], 'int32');
    try {
      assertConformance(
        await checkAttack(jsma({ gamma: 1, pairSearch }), { model: linear, x, labels, targets, epsilons: [1, 2, 4], minSuccess: 1, minTargetedSuccess: 1 }),
      );
    } finally {
      tf.dispose([x, labels, targets]);
    }
  });
});

describe('jsma on a 2-layer MLP with [4, 4, 2] inputs', () => {
  it('passes the conformance suite with random targets', async () => {
    const report = await checkAttack(jsma({ gamma: 0.5 }), { model: net, x: xNet, labels: labelsNet, epsilons: [2, 8, 16], minTargetedSuccess: 0.75 });
    assertConformance(report);
  });

  it('changes at most gamma·D features, only upward to the upper bound, and distances count them', async () => {
    const targets = await randomTargets(labelsNet, 4, 3);
    const gamma = 0.3; // floor(0.3·32/2) = 4 iterations → at most 8 features
    const r = await jsma({ gamma }).run(net, xNet, { targets, labels: labelsNet });
    const adv = await rows(r.raw);
    const x = await rows(xNet);
    let reached = 0;
    adv.forEach((row, i) => {
      const changed = row.map((v, j) => v !== x[i]![j]);
      const count = changed.filter(Boolean).length;
      expect(count).toBeLessThanOrEqual(gamma * 32);
      expect(count % 2).toBe(0); // pairs
      row.forEach((v, j) => {
        if (changed[j]) expect(v).toBe(1);
      });
      const d = r.distances[i]!;
      if (Number.isFinite(d)) {
        reached++;
        expect(d).toBe(count);
      }
    });
    expect(reached).toBeGreaterThan(0);
    r.dispose();
    targets.dispose();
  });

  it('a larger gamma extends the same run: every success at gamma 0.25 is kept at 0.5 with the same distance', async () => {
    const targets = await randomTargets(labelsNet, 4, 5);
    const small = await jsma({ gamma: 0.25 }).run(net, xNet, { targets, labels: labelsNet });
    const large = await jsma({ gamma: 0.5 }).run(net, xNet, { targets, labels: labelsNet });
    let kept = 0;
    small.distances.forEach((d, i) => {
      if (Number.isFinite(d)) {
        kept++;
        expect(large.distances[i]).toBe(d);
      }
    });
    expect(kept).toBeGreaterThan(0);
    expect(large.distances.filter(Number.isFinite).length).toBeGreaterThanOrEqual(kept);
    small.dispose();
    large.dispose();
    targets.dispose();
  });

  it("the 'js' and 'tensor' pair searches give identical results (and batch size does not matter)", async () => {
    const targets = await randomTargets(labelsNet, 4, 9);
    const js = await jsma({ gamma: 0.5, pairSearch: 'js' }).run(net, xNet, { targets, labels: labelsNet });
    const ts = await jsma({ gamma: 0.5, pairSearch: 'tensor' }).run(net, xNet, { targets, labels: labelsNet }, { batchSize: 3 });
    expect(await rows(ts.raw)).toEqual(await rows(js.raw));
    expect(Array.from(ts.distances)).toEqual(Array.from(js.distances));
    js.dispose();
    ts.dispose();
    targets.dispose();
  });

  it('earlyStop false spends the whole budget on every sample that keeps finding pairs', async () => {
    const targets = await randomTargets(labelsNet, 4, 3);
    const r = await jsma({ gamma: 0.25, earlyStop: false }).run(net, xNet, { targets, labels: labelsNet });
    const stopped = await jsma({ gamma: 0.25 }).run(net, xNet, { targets, labels: labelsNet });
    const dAll = await tf.tidy(() => tf.sum(tf.cast(tf.notEqual(tf.reshape(r.raw, [8, -1]), tf.reshape(xNet, [8, -1])), 'int32'), 1)).data();
    stopped.distances.forEach((d, i) => {
      if (Number.isFinite(d)) expect(dAll[i]).toBeGreaterThanOrEqual(d);
    });
    expect(Math.max(...Array.from(dAll))).toBe(8);
    r.dispose();
    stopped.dispose();
    targets.dispose();
  });
});

describe('jsma options and goals', () => {
  it('declares a targeted-only L0 minimization attack with the paper defaults', () => {
    expect(jsma.meta).toMatchObject({ name: 'jsma', kind: 'minimization', norms: ['l0'], threat: 'white-box', goals: ['targeted'], randomized: false });
    expect(jsma.defaults).toEqual({ norm: 'l0', earlyStop: true, theta: 1, gamma: 0.145, pairSearch: 'auto', others: 'sum' });
  });

  it('rejects bad options with INVALID_OPTION', () => {
    for (const bad of [
      { theta: 0 },
      { theta: 1.5 },
      { theta: Number.NaN },
      { gamma: 0 },
      { gamma: 1.2 },
      { pairSearch: 'gpu' as 'js' },
      { others: 'max' as 'sum' },
      { steps: 3 } as object,
    ]) {
      let caught: unknown;
      try {
        jsma(bad);
      } catch (e) {
        caught = e;
      }
      expect(isAdvxError(caught, 'INVALID_OPTION'), JSON.stringify(bad)).toBe(true);
    }
    expect(() => jsma({ norm: 'l2' as never })).toThrow(/UNSUPPORTED_NORM/);
  });

  it('rejects untargeted goals (targeted only)', async () => {
    const x = tf.zeros([1, 6]);
    const labels = tf.tensor1d([1], 'int32');
    await expectCode('INVALID_OPTION', () => jsma().run(linear, x, { labels }));
    tf.dispose([x, labels]);
  });
});
