import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { isAdvxError } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { argmax, fourClassLinear, reluNet } from '../test/fixtures.js';

import { deepfool } from './deepfool.js';

// The linear fixture: six points whose closest boundary points lie inside the bounds, so that the
// closed-form minimal distances apply. `boundary(row, k, norm)` is the distance from `row` to the
// boundary between its class y and class k in the dual norm q of the attack norm,
// (z_y − z_k)/‖w_y − w_k‖_q, q = 2 for l2 and q = 1 for linf; `closest` its minimum over k ≠ y.
const {
  weights: W,
  xs: xsLinear,
  model: linear,
  x: xLinear,
  labels: labelsLinear,
  logits: logitsOf,
  toClass: boundary,
  exactDistance: closest,
} = fourClassLinear;

const { model: net, x: xNet, labels: labelsNet } = reluNet;

afterAll(() => tf.dispose([xNet, labelsNet]));

describe('deepfool', () => {
  it('passes the attack conformance suite (minimization, l2) on a linear model and a ReLU network', async () => {
    assertConformance(await checkAttack(deepfool(), { model: linear, x: xLinear, labels: labelsLinear, epsilons: [0.05, 0.15, 0.5], minSuccess: 1 }));
    assertConformance(await checkAttack(deepfool(), { model: net, x: xNet, labels: labelsNet, epsilons: [0.05, 0.2, 2], minSuccess: 1 }));
  });

  it('passes the attack conformance suite with the linf norm', async () => {
    assertConformance(
      await checkAttack(deepfool({ norm: 'linf' }), { model: linear, x: xLinear, labels: labelsLinear, epsilons: [0.02, 0.06, 0.2], minSuccess: 1 }),
    );
    assertConformance(await checkAttack(deepfool({ norm: 'linf' }), { model: net, x: xNet, labels: labelsNet, epsilons: [0.02, 0.1, 1], minSuccess: 1 }));
  });

  for (const norm of ['l2', 'linf'] as const) {
    const q = norm === 'l2' ? '‖w_y − w_k‖₂' : '‖w_y − w_k‖₁';
    it(`${norm}: on a linear model one step lands at (1 + η)·(min_k |z_y − z_k|/${q} + 1e-4), the exact minimal distance`, async () => {
      for (const overshoot of [0.02, 0]) {
        const r = await deepfool({ norm, overshoot }).run(linear, xLinear, { labels: labelsLinear });
        const one = await deepfool({ norm, overshoot, steps: 1 }).run(linear, xLinear, { labels: labelsLinear });
        xsLinear.forEach((row, i) => {
          const expected = (1 + overshoot) * (closest(row, norm) + 1e-4);
          expect(r.distances[i]).toBeCloseTo(expected, 6);
          expect(one.distances[i]).toBe(r.distances[i]);
        });
        r.dispose();
        one.dispose();
      }
    });
  }

  it('l2: the step is along w_k − w_y, so the result is x + (1 + η)·(d + 1e-4)·(w_k − w_y)/‖w_k − w_y‖₂', async () => {
    const r = await deepfool().run(linear, xLinear, { labels: labelsLinear });
    const out = (await r.raw.array()) as number[][];
    xsLinear.forEach((row, i) => {
      const y = argmax(logitsOf(row));
      const k = W.map((_, c) => (c === y ? Infinity : boundary(row, c, 'l2'))).reduce((b, v, c, a) => (v < (a[b] as number) ? c : b), 0);
      const dir = (W[k] as number[]).map((v, j) => v - (W[y] as number[])[j]!);
      const len = Math.hypot(...dir);
      const scale = (1.02 * (boundary(row, k, 'l2') + 1e-4)) / len;
      row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v + scale * (dir[j] as number), 6));
    });
    r.dispose();
  });

  it('candidates: with 2 candidates only the runner-up class by clean logit is considered', async () => {
    // Row 4: runner-up class 1 at L2 distance 0.1206, closest boundary class 3 at 0.1118.
    const row = xsLinear[4] as number[];
    expect(argmax(logitsOf(row))).toBe(0);
    expect(boundary(row, 3, 'l2')).toBeLessThan(boundary(row, 1, 'l2'));
    const all = await deepfool().run(linear, xLinear, { labels: labelsLinear });
    const two = await deepfool({ candidates: 2 }).run(linear, xLinear, { labels: labelsLinear });
    expect(all.distances[4]).toBeCloseTo(1.02 * (boundary(row, 3, 'l2') + 1e-4), 6);
    expect(two.distances[4]).toBeCloseTo(1.02 * (boundary(row, 1, 'l2') + 1e-4), 6);
    all.dispose();
    two.dispose();
  });

  it("loss 'crossentropy' linearises CE(z, y) − CE(z, k) = z_k − z_y: the same result as 'logits'", async () => {
    const logits = await deepfool().run(net, xNet, { labels: labelsNet });
    const ce = await deepfool({ loss: 'crossentropy' }).run(net, xNet, { labels: labelsNet });
    Array.from(logits.distances).forEach((d, i) => expect(ce.distances[i]).toBeCloseTo(d, 4));
    logits.dispose();
    ce.dispose();
  });

  it('on a ReLU network it needs several steps, stops each sample once it is adversarial, and overshoot only helps crossing', async () => {
    const one = await deepfool({ steps: 1 }).run(net, xNet, { labels: labelsNet });
    const full = await deepfool().run(net, xNet, { labels: labelsNet });
    const noOvershoot = await deepfool({ overshoot: 0 }).run(net, xNet, { labels: labelsNet });
    const oneStep = Array.from(one.distances);
    // The linearisation is not exact: some samples are not adversarial after one step...
    expect(oneStep.some((d) => !Number.isFinite(d))).toBe(true);
    // ...but every sample is after at most 50.
    expect(Array.from(full.distances).every(Number.isFinite)).toBe(true);
    // A sample that is adversarial after one step is left there.
    oneStep.forEach((d, i) => {
      if (Number.isFinite(d)) expect(full.distances[i]).toBe(d);
    });
    expect(Array.from(noOvershoot.distances).every(Number.isFinite)).toBe(true);
    one.dispose();
    full.dispose();
    noOvershoot.dispose();
  });

  it('rejects invalid options with INVALID_OPTION, targeted goals and the l1 norm', async () => {
    const code = async (f: () => unknown): Promise<string> => {
      try {
        const r = (await f()) as { dispose?: () => void } | undefined;
        r?.dispose?.();
      } catch (e) {
        return isAdvxError(e) ? e.code : String(e);
      }
      return 'no error';
    };
    expect(await code(() => deepfool({ steps: 0 }))).toBe('INVALID_OPTION');
    expect(await code(() => deepfool({ overshoot: -0.1 }))).toBe('INVALID_OPTION');
    expect(await code(() => deepfool({ overshoot: NaN }))).toBe('INVALID_OPTION');
    expect(await code(() => deepfool({ candidates: 1 }))).toBe('INVALID_OPTION');
    expect(await code(() => deepfool({ loss: 'ce' as 'logits' }))).toBe('INVALID_OPTION');
    expect(await code(() => deepfool({ norm: 'l1' as never }))).toBe('UNSUPPORTED_NORM');
    const targets = tf.tensor1d([1, 0, 0, 0, 1, 0], 'int32');
    expect(await code(() => deepfool().run(linear, xLinear, { targets, labels: labelsLinear }))).toBe('INVALID_OPTION');
    targets.dispose();
    expect(deepfool().options).toMatchObject({ norm: 'l2', steps: 50, overshoot: 0.02, candidates: 10, loss: 'logits' });
  });
});
