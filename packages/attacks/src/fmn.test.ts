import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { fromFunction, Rng, type Model, type NormName } from '@advx/core';
import { assertConformance, checkAttack, linearModel } from '@advx/core/testing';

import { argmax, brightnessModel, errorCode, fourClassLinear, maxDiff, median, reluNet, runnerUp as runnerUpOf } from '../test/fixtures.js';

import { carliniWagnerL2 } from './carlini-wagner-l2.js';
import { fmn } from './fmn.js';

// The linear fixture: six points whose minimal perturbations stay inside the bounds (checked below), so
// that the closed forms apply (`toClass`, `perClass`: see ../test/fixtures.ts; the linf one throws where
// the box binds).
const { weights: W, xs: xsLinear, model: linear, x: xLinear, labels: labelsLinear, logits: logitsOf, toClass, perClass, inside } = fourClassLinear;
/** The class with the second-largest clean logit. */
const runnerUp = (row: readonly number[]) => runnerUpOf(logitsOf(row));
/** Whether the minimal l2 step of `row` towards class k stays inside [0, 1]. */
const l2Interior = (row: readonly number[], k: number) => inside(row, k, 'l2');

const { model: net, x: xNet, labels: labelsNet } = reluNet;

afterAll(() => tf.dispose([xNet, labelsNet]));

/** `model` with a counter of the samples it has evaluated (one forward pass, with or without gradient). */
function counted(model: Model): { model: Model; rows: () => number } {
  let rows = 0;
  const wrapped = fromFunction(
    (x) => {
      rows += x.shape[0] as number;
      return model.logits(x);
    },
    { inputShape: [...model.inputShape], numClasses: model.numClasses, bounds: model.bounds, output: 'logits' },
  );
  return { model: wrapped, rows: () => rows };
}

const NORMS = ['l2', 'linf', 'l1', 'l0'] as const;
const EPSILONS: Record<NormName, number[]> = { l2: [0.05, 0.15, 1], linf: [0.02, 0.06, 0.3], l1: [0.1, 0.3, 2], l0: [1, 2, 6] };

describe('fmn', () => {
  for (const norm of NORMS) {
    it(`passes the attack conformance suite with the ${norm} norm (untargeted and targeted) on a linear model`, async () => {
      assertConformance(
        await checkAttack(fmn({ norm, steps: 30 }), {
          model: linear,
          x: xLinear,
          labels: labelsLinear,
          epsilons: EPSILONS[norm],
          minSuccess: 1,
          minTargetedSuccess: 1,
        }),
      );
    });
  }

  it('passes the conformance suite on a ReLU network (l2 and linf)', async () => {
    assertConformance(await checkAttack(fmn({ steps: 30 }), { model: net, x: xNet, labels: labelsNet, epsilons: [0.05, 0.3, 2], minSuccess: 1 }));
    assertConformance(
      await checkAttack(fmn({ norm: 'linf', steps: 30 }), { model: net, x: xNet, labels: labelsNet, epsilons: [0.02, 0.1, 0.5], minSuccess: 1 }),
    );
  });

  it('the closed forms of the linear fixture apply: the minimal l2 and linf perturbations stay inside the bounds', () => {
    xsLinear.forEach((row) => {
      const y = argmax(logitsOf(row));
      W.forEach((_, k) => {
        if (k === y) return;
        expect(l2Interior(row, k)).toBe(true);
        expect(() => toClass(row, k, 'linf')).not.toThrow();
      });
    });
  });

  for (const norm of ['l2', 'linf', 'l1'] as const) {
    it(`${norm}: on a linear model it finds the minimal distance within 1 % (never below it) where the runner-up class is the closest`, async () => {
      const r = await fmn({ norm }).run(linear, xLinear, { labels: labelsLinear });
      // Rows whose runner-up class is not the closest: 4 for l2 (0.1206 vs 0.1118), 0 and 4 for l1.
      const closestIsRunnerUp = xsLinear.filter((row) => perClass(row, norm)[runnerUp(row)] === Math.min(...perClass(row, norm))).length;
      expect(closestIsRunnerUp).toBe({ l2: 5, linf: 6, l1: 4 }[norm]);
      xsLinear.forEach((row, i) => {
        const dist = perClass(row, norm);
        const exact = Math.min(...dist);
        const ru = dist[runnerUp(row)] as number;
        const d = r.distances[i] as number;
        // No perturbation smaller than the minimal one can be adversarial.
        expect(d).toBeGreaterThanOrEqual(exact * (1 - 1e-5));
        // The loss follows the largest other logit: FMN ends on the boundary of the class that is the
        // runner-up at x, the global minimum wherever that class is also the closest one.
        expect(d).toBeLessThanOrEqual(ru * 1.01);
        if (ru === exact) expect(d).toBeLessThanOrEqual(exact * 1.01);
      });
      r.dispose();
    });
  }

  it('l0: on a linear model it finds the fewest coordinates (exact, box-aware)', async () => {
    const r = await fmn({ norm: 'l0' }).run(linear, xLinear, { labels: labelsLinear });
    xsLinear.forEach((row, i) => expect(r.distances[i]).toBe(Math.min(...perClass(row, 'l0'))));
    r.dispose();
  });

  it('l0: on a brightness model it raises the fewest pixels that cross the threshold (here 6 of 36)', async () => {
    // Class 1 ⇔ Σ pixels > 18 on 6×6 images; with pixels in [0.35, 0.45) the fewest raised pixels are the
    // darkest ones raised to 1, as many as it takes for their gains 1 − v to exceed 18 − Σ pixels.
    const rng = new Rng(11);
    const pixels = Array.from({ length: 36 }, () => 0.35 + 0.1 * rng.uniform());
    const missing = 18 - pixels.reduce((s, v) => s + v, 0);
    const gains = pixels.map((v) => 1 - v).sort((a, b) => b - a);
    const need = gains.findIndex((_, c) => gains.slice(0, c + 1).reduce((s, v) => s + v, 0) > missing) + 1;
    expect(need).toBe(6);
    const x = tf.tensor4d(pixels, [1, 6, 6, 1]);
    const labels = tf.tensor1d([0], 'int32');
    const r = await fmn({ norm: 'l0' }).run(brightnessModel, x, { labels });
    expect(r.distances[0]).toBe(need);
    const pred = tf.tidy(() => tf.argMax(brightnessModel.logits(r.raw), 1));
    expect(Array.from(await pred.data())).toEqual([1]);
    pred.dispose();
    tf.dispose([x, labels]);
    r.dispose();
  });

  it('targeted: reaches every target of a linear model, never closer than the half-space bound', async () => {
    const targets = tf.tidy(() => tf.cast(tf.mod(tf.add(labelsLinear, 1), 4), 'int32') as tf.Tensor1D);
    const t = Array.from(await targets.data());
    for (const norm of ['l2', 'linf'] as const) {
      const r = await fmn({ norm }).run(linear, xLinear, { targets, labels: labelsLinear }, { epsilons: [1] });
      expect(r.success[0]?.every(Boolean)).toBe(true);
      xsLinear.forEach((row, i) => {
        // z_t ≥ z_y alone needs at least toClass(row, t); reaching t (beating every class) may need more.
        expect(r.distances[i]).toBeGreaterThanOrEqual(toClass(row, t[i] as number, norm) * (1 - 1e-5));
        expect(r.distances[i]).toBeLessThan(Infinity);
      });
      r.dispose();
    }
    targets.dispose();
  });

  it('scales with the bounds: on [0, 255] inputs and weights / 255 every distance is 255 times larger', async () => {
    const wide = linearModel({ weights: W.map((r) => r.map((v) => v / 255)), bounds: [0, 255] });
    const x255 = tf.mul(xLinear, 255);
    for (const norm of NORMS) {
      const unit = await fmn({ norm, steps: 50 }).run(linear, xLinear, { labels: labelsLinear });
      const scaled = await fmn({ norm, steps: 50 }).run(wide, x255, { labels: labelsLinear });
      const k = norm === 'l0' ? 1 : 255;
      Array.from(unit.distances).forEach((d, i) => expect(scaled.distances[i]).toBeCloseTo(d * k, norm === 'l0' ? 6 : 2));
      unit.dispose();
      scaled.dispose();
    }
    x255.dispose();
  });

  it('a batch equals its rows run alone, for every norm, on a ReLU network', async () => {
    for (const norm of NORMS) {
      const all = await fmn({ norm, steps: 40 }).run(net, xNet, { labels: labelsNet });
      for (let i = 0; i < 8; i++) {
        const xi = tf.slice(xNet, i, 1);
        const yi = tf.slice(labelsNet, i, 1);
        const one = await fmn({ norm, steps: 40 }).run(net, xi, { labels: yi });
        const rowAll = tf.slice(all.raw, i, 1);
        expect(await maxDiff(one.raw, rowAll)).toBeLessThanOrEqual(1e-6);
        expect(one.distances[0]).toBeCloseTo(all.distances[i] as number, 5);
        tf.dispose([xi, yi, rowAll]);
        one.dispose();
      }
      all.dispose();
    }
  });

  it("l2 on a ReLU network: median distance at most C&W-L2's (+2 %) with under a fifth of its forward/backward passes", async () => {
    const f = counted(net);
    const r = await fmn().run(f.model, xNet, { labels: labelsNet });
    const fmnRows = f.rows();
    const c = counted(net);
    const cw = await carliniWagnerL2({ steps: 100, binarySearchSteps: 9 }).run(c.model, xNet, { labels: labelsNet });
    const cwRows = c.rows();
    expect(Array.from(r.distances).every(Number.isFinite)).toBe(true);
    // Measured on the cpu backend: FMN 0.1682 with 824 sample evaluations, C&W 0.1676 with 6208.
    expect(median(r.distances)).toBeLessThanOrEqual(median(cw.distances) * 1.02);
    expect(fmnRows * 5).toBeLessThan(cwRows);
    r.dispose();
    cw.dispose();
  });

  it('the TSDoc example: on x0 − x1 = 0.4 it lands on the boundary x0 = x1 at 0.4/√2', async () => {
    const w = tf.tensor2d([
      [1, -1],
      [-1, 1],
    ]);
    const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), { inputShape: [2], numClasses: 2, bounds: [0, 1], output: 'logits' });
    const x = tf.tensor2d([[0.7, 0.3]]);
    const labels = tf.tensor1d([0], 'int32');
    const r = await fmn({ norm: 'l2' }).run(model, x, { labels }, { epsilons: [0.1, 0.5] });
    expect(r.distances[0]).toBeGreaterThanOrEqual(0.4 / Math.SQRT2);
    expect(r.distances[0]).toBeCloseTo(0.4 / Math.SQRT2, 4);
    expect(r.success).toEqual([[false], [true]]);
    tf.dispose([w, x, labels]);
    r.dispose();
  });

  it('rejects invalid options with INVALID_OPTION and unknown norms with UNKNOWN_NORM', () => {
    expect(errorCode(() => fmn({ steps: 0 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ steps: 2.5 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ alphaInit: 0 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ alphaInit: Infinity }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ alphaFinal: -0.1 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ alphaInit: 0.5, alphaFinal: 1 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ gammaInit: 0 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ gammaInit: 1 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ gammaFinal: 0.1 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ gammaFinal: NaN }))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ stepSize: 1 } as never))).toBe('INVALID_OPTION');
    expect(errorCode(() => fmn({ norm: 'l3' as NormName }))).toBe('UNKNOWN_NORM');
    expect(fmn().options).toMatchObject({ norm: 'l2', steps: 100, alphaInit: 1, alphaFinal: 0, gammaInit: 0.05, gammaFinal: 0.001 });
    expect(fmn.meta).toMatchObject({ kind: 'minimization', norms: ['l2', 'linf', 'l1', 'l0'], threat: 'white-box', randomized: false });
  });
});
