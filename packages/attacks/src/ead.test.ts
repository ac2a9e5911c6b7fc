import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { assertConformance, checkAttack } from '@advx/core/testing';

import { argmax, errorCode, fourClassLinear, maxDiff, median, reluNet, rows, runnerUp as runnerUpOf } from '../test/fixtures.js';

import { carliniWagnerL2 } from './carlini-wagner-l2.js';
import { ead, shrinkageThreshold } from './ead.js';

// The linear fixture; its six points have closest L1 boundary points (one coordinate moved) inside the
// bounds, so the closed form applies.
const { weights: W, xs: xsLinear, model: linear, x: xLinear, labels: labelsLinear, logits: logitsOf, label, toClass, exactDistance, inside } = fourClassLinear;

/**
 * L1 distances from `row` to the boundaries of the linear model: to class k, (z_y − z_k)/‖w_y − w_k‖_∞
 * (move the coordinate of the largest weight difference) where that coordinate stays in [0, 1].
 * `exact` is the minimum over k (the minimal L1 distance to the region where y loses), `runnerUp`
 * the distance to the boundary with the class of the second-largest logit, and `inside` checks that
 * the single moved coordinate stays in [0, 1] for every k.
 */
function l1BoundaryDistances(row: readonly number[]): { exact: number; runnerUp: number; inside: boolean } {
  const y = label(row);
  return {
    exact: exactDistance(row, 'l1'),
    runnerUp: toClass(row, runnerUpOf(logitsOf(row), y), 'l1'),
    inside: W.every((_, k) => k === y || inside(row, k, 'l1')),
  };
}

const { model: net, x: xNet, labels: labelsNet } = reluNet;

afterAll(() => tf.dispose([xNet, labelsNet]));

/** Per-sample L1, squared L2 and count of changed coordinates of `adv − x`. */
async function perturbations(adv: tf.Tensor, x: tf.Tensor): Promise<{ l1: number[]; l2sq: number[]; nonzero: number[] }> {
  const [a, b] = [await rows(adv), await rows(x)];
  const deltas = a.map((r, i) => r.map((v, j) => v - (b[i] as number[])[j]!));
  return {
    l1: deltas.map((d) => d.reduce((s, v) => s + Math.abs(v), 0)),
    l2sq: deltas.map((d) => d.reduce((s, v) => s + v * v, 0)),
    nonzero: deltas.map((d) => d.filter((v) => v !== 0).length),
  };
}

/**
 * A float64 reference of one binary-search step of EAD on the linear model (fixed c, no early abort),
 * written from the paper's Algorithm 1: gradient step on c·f + ‖· − x‖₂² at the slack y, projected
 * shrinkage-thresholding with threshold β, momentum k/(k+3), step size α₀·√(1 − k/K); the best
 * adversarial iterate by the decision rule.
 */
function referenceFista(
  x: readonly number[],
  y: number,
  o: { c: number; steps: number; alpha: number; beta: number; rule: 'en' | 'l1' },
): { best: number[] | undefined; dist: number } {
  let xk = [...x];
  let yk = [...x];
  let best: number[] | undefined;
  let bestDist = Infinity;
  for (let k = 0; k < o.steps; k++) {
    const z = logitsOf(yk);
    const r = runnerUpOf(z, y);
    const active = (z[y] as number) - (z[r] as number) > 0;
    const alpha = o.alpha * Math.sqrt(1 - k / o.steps);
    const next = yk.map((v, j) => {
      const g = 2 * (v - (x[j] as number)) + (active ? o.c * ((W[y] as number[])[j]! - (W[r] as number[])[j]!) : 0);
      const u = v - alpha * g;
      const diff = u - (x[j] as number);
      if (diff > o.beta) return Math.min(u - o.beta, 1);
      if (diff < -o.beta) return Math.max(u + o.beta, 0);
      return x[j] as number;
    });
    yk = next.map((v, j) => v + (k / (k + 3)) * (v - (xk[j] as number)));
    xk = next;
    const zx = logitsOf(xk);
    if (argmax(zx) !== y) {
      const l1 = xk.reduce((s, v, j) => s + Math.abs(v - (x[j] as number)), 0);
      const l2sq = xk.reduce((s, v, j) => s + (v - (x[j] as number)) ** 2, 0);
      const dist = o.rule === 'en' ? l2sq + o.beta * l1 : l1;
      if (dist < bestDist) {
        bestDist = dist;
        best = [...xk];
      }
    }
  }
  return { best, dist: bestDist };
}

describe('shrinkageThreshold', () => {
  it('soft-thresholds z − x by β and clips to the bounds, element-wise', async () => {
    const x = tf.tensor1d([0.5, 0.5, 0.5, 0.5, 0.5, 0.95, 0.02]);
    const z = tf.tensor1d([0.8, 0.505, 0.495, 0.2, 0.51, 1.3, -0.5]);
    const s = shrinkageThreshold(z, x, 0.01, 0, 1);
    const got = Array.from(await s.data());
    const want = [0.79, 0.5, 0.5, 0.21, 0.5, 1, 0];
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 6));
    tf.dispose([x, z, s]);
  });
});

describe('ead', () => {
  const small = { steps: 30, binarySearchSteps: 4, learningRate: 0.05, initialConst: 0.1 };

  it('passes the attack conformance suite (minimization, untargeted and targeted) on a linear model', async () => {
    assertConformance(
      await checkAttack(ead(small), {
        model: linear,
        x: xLinear,
        labels: labelsLinear,
        epsilons: [0.05, 0.2, 1],
        minSuccess: 1,
        minTargetedSuccess: 1,
      }),
    );
  });

  it('passes the conformance suite on a nonlinear network', async () => {
    assertConformance(
      await checkAttack(ead(small), { model: net, x: xNet, labels: labelsNet, epsilons: [0.1, 0.5, 3], minSuccess: 1, minTargetedSuccess: 0.75 }),
    );
  });

  it('one binary-search step equals a float64 reference of the paper’s FISTA iteration', async () => {
    const cases = [
      { row: 1, c: 1, rule: 'l1' as const },
      { row: 3, c: 2, rule: 'en' as const },
      { row: 0, c: 5, rule: 'l1' as const },
    ];
    for (const { row, c, rule } of cases) {
      const xs = xsLinear[row] as number[];
      const y = argmax(logitsOf(xs));
      const opts = { c, steps: 40, alpha: 0.05, beta: 0.01, rule };
      const ref = referenceFista(xs, y, opts);
      expect(ref.best, `row ${row}: the reference finds an adversarial`).toBeDefined();
      const x = tf.tensor2d([xs]);
      const labels = tf.tensor1d([y], 'int32');
      const r = await ead({ steps: 40, binarySearchSteps: 1, initialConst: c, learningRate: 0.05, beta: 0.01, decisionRule: rule, abortEarly: false }).run(
        linear,
        x,
        { labels },
      );
      const [got] = await rows(r.raw);
      (got as number[]).forEach((v, j) => expect(v).toBeCloseTo((ref.best as number[])[j] as number, 4));
      expect(r.distances[0]).toBeCloseTo(
        (ref.best as number[]).reduce((s, v, j) => s + Math.abs(v - (xs[j] as number)), 0),
        4,
      );
      tf.dispose([x, labels]);
      r.dispose();
    }
  });

  it('reaches the exact minimal L1 distance of a linear model within 3 % (and never goes below it)', async () => {
    const r = await ead({ steps: 100, binarySearchSteps: 6, initialConst: 0.1, decisionRule: 'l1' }).run(linear, xLinear, { labels: labelsLinear });
    xsLinear.forEach((row, i) => {
      const { exact, runnerUp, inside } = l1BoundaryDistances(row);
      expect(inside, `row ${i}: the closed form needs the moved coordinate inside the bounds`).toBe(true);
      const d = r.distances[i] as number;
      // The minimal distance is a lower bound for any adversarial.
      expect(d).toBeGreaterThanOrEqual(exact - 1e-5);
      // f uses the largest other logit, so the iterates approach the boundary of the class that is the
      // runner-up at x: the global minimum where that boundary is also the closest in L1 (rows 1, 2, 3, 5),
      // a local one otherwise (row 0: runner-up 2 at 0.35, closest 3 at 0.3; row 4: runner-up 1 at 0.2,
      // closest 3 at 0.1667).
      expect(d).toBeLessThanOrEqual(runnerUp * 1.03);
      if (i !== 0 && i !== 4) expect(d).toBeLessThanOrEqual(exact * 1.03);
    });
    r.dispose();
  });

  it("decision rules: 'l1' keeps the iterate of smallest L1, 'en' of smallest elastic-net distance", async () => {
    // Both rules see the same iterates (the rule only selects among them), so each wins on its own measure.
    const beta = 0.01;
    const options = { steps: 100, binarySearchSteps: 5, beta };
    const byL1 = await ead({ ...options, decisionRule: 'l1' }).run(net, xNet, { labels: labelsNet });
    const byEn = await ead({ ...options, decisionRule: 'en' }).run(net, xNet, { labels: labelsNet });
    const p1 = await perturbations(byL1.raw, xNet);
    const pe = await perturbations(byEn.raw, xNet);
    const en = (p: { l1: number[]; l2sq: number[] }, i: number) => (p.l2sq[i] as number) + beta * (p.l1[i] as number);
    let differ = 0;
    for (let i = 0; i < 8; i++) {
      expect(p1.l1[i]).toBeLessThanOrEqual((pe.l1[i] as number) + 1e-6);
      expect(en(pe, i)).toBeLessThanOrEqual(en(p1, i) + 1e-6);
      if ((pe.l1[i] as number) > (p1.l1[i] as number) + 1e-4) differ++;
    }
    expect(differ).toBeGreaterThan(0);
    byL1.dispose();
    byEn.dispose();
  });

  it('finds smaller L1 perturbations than C&W-L2 on a nonlinear network (median), which are sparser', async () => {
    const e = await ead({ steps: 100, binarySearchSteps: 9 }).run(net, xNet, { labels: labelsNet });
    const cw = await carliniWagnerL2({ steps: 100, binarySearchSteps: 9 }).run(net, xNet, { labels: labelsNet });
    const pe = await perturbations(e.raw, xNet);
    const pc = await perturbations(cw.raw, xNet);
    expect(Array.from(e.distances).every(Number.isFinite)).toBe(true);
    expect(Array.from(cw.distances).every(Number.isFinite)).toBe(true);
    pe.l1.forEach((d, i) => expect(e.distances[i]).toBeCloseTo(d, 4));
    // Measured: EAD median L1 0.444, C&W-L2 0.555 (same budget); C&W changes all 16 coordinates of every sample.
    expect(median(pe.l1)).toBeLessThan(median(pc.l1) * 0.9);
    expect(pe.nonzero.reduce((s, v) => s + v, 0)).toBeLessThan(pc.nonzero.reduce((s, v) => s + v, 0) * 0.75);
    e.dispose();
    cw.dispose();
  });

  it('a larger β gives sparser perturbations (fewer changed coordinates)', async () => {
    const options = { steps: 100, binarySearchSteps: 9 };
    const counts: number[] = [];
    for (const beta of [0.001, 0.1]) {
      const r = await ead({ ...options, beta }).run(net, xNet, { labels: labelsNet });
      expect(Array.from(r.distances).every(Number.isFinite)).toBe(true);
      counts.push((await perturbations(r.raw, xNet)).nonzero.reduce((s, v) => s + v, 0));
      r.dispose();
    }
    // Measured: 97 changed coordinates of 128 at β = 0.001, 42 at β = 0.1.
    expect(counts[1]).toBeLessThan((counts[0] as number) * 0.6);
  });

  it('a batch gives the same result as each row alone', async () => {
    const options = { steps: 50, binarySearchSteps: 4 };
    const all = await ead(options).run(net, xNet, { labels: labelsNet });
    for (let i = 0; i < 8; i += 3) {
      const xi = tf.slice(xNet, i, 1);
      const li = tf.slice(labelsNet, i, 1);
      const one = await ead(options).run(net, xi, { labels: li });
      const rowOfAll = tf.slice(all.raw, i, 1);
      expect(await maxDiff(one.raw, rowOfAll)).toBeLessThanOrEqual(1e-6);
      expect(one.distances[0]).toBeCloseTo(all.distances[i] as number, 5);
      tf.dispose([xi, li, rowOfAll]);
      one.dispose();
    }
    all.dispose();
  });

  it('targeted: reaches every target on a nonlinear network, with a margin of at least κ', async () => {
    // Target: the class with the third-largest clean logit (not the runner-up that an untargeted run would find).
    const targets = tf.tidy(() => tf.cast(tf.reshape(tf.slice(tf.topk(net.logits(xNet), 3).indices, [0, 2], [-1, 1]), [-1]), 'int32') as tf.Tensor1D);
    const t = Array.from(await targets.data());
    const kappa = 0.1;
    const r = await ead({ steps: 100, binarySearchSteps: 5, initialConst: 0.1, confidence: kappa }).run(
      net,
      xNet,
      { targets, labels: labelsNet },
      { epsilons: [10] },
    );
    const z = (await tf.tidy(() => net.logits(r.raw)).array()) as number[][];
    z.forEach((row, i) => {
      const ti = t[i] as number;
      expect((row[ti] as number) - Math.max(...row.filter((_, c) => c !== ti))).toBeGreaterThanOrEqual(kappa - 1e-4);
    });
    expect(r.success[0]?.every(Boolean)).toBe(true);
    expect(Array.from(r.distances).every(Number.isFinite)).toBe(true);
    tf.dispose(targets);
    r.dispose();
  });

  it('rejects invalid options with INVALID_OPTION and other norms with UNSUPPORTED_NORM', () => {
    expect(errorCode(() => ead({ steps: 0 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ steps: 2.5 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ binarySearchSteps: 0 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ initialConst: 0 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ learningRate: 0 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ learningRate: Infinity }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ beta: -0.01 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ beta: Number.NaN }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ confidence: -1 }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ decisionRule: 'l2' as unknown as 'en' }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ abortEarly: 1 as unknown as boolean }))).toBe('INVALID_OPTION');
    expect(errorCode(() => ead({ norm: 'l2' as never }))).toBe('UNSUPPORTED_NORM');
    expect(errorCode(() => ead({ norm: 'linf' as never }))).toBe('UNSUPPORTED_NORM');
    expect(ead().options).toMatchObject({
      norm: 'l1',
      steps: 1000,
      binarySearchSteps: 9,
      initialConst: 1e-3,
      learningRate: 0.01,
      beta: 0.01,
      confidence: 0,
      decisionRule: 'en',
      abortEarly: true,
    });
  });
});
