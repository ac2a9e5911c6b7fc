import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { fromFunction, isAdvxError } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { logisticRegression, net, netData, rows } from '../test/fixtures.js';

import { bim } from './bim.js';
import { miFgsm } from './mi-fgsm.js';

const { w, z, wL1, wL2, model: logistic } = logisticRegression;

/**
 * A nonlinear two-class model on [−1, 1]^4 with a hand gradient: logits `[0, f(x)]`,
 * `f(x) = Σ aᵢ(xᵢ − cᵢ)² + f₀`. For label 1 the cross-entropy is softplus(−f), whose gradient
 * `−σ(−f)·2a⊙(x − c)` points toward `c`: iterates overshoot `c`, so the gradient signs flip and
 * the momentum term changes the path.
 */
const qa = [1, 2, 0.5, 1.5];
const qc = [0.03, 0.13, 0.21, -0.37];
const f0 = 0.1;
const qaT = tf.tensor1d(qa);
const qcT = tf.tensor1d(qc);
const quadratic = fromFunction(
  (x) => {
    const f = tf.add(tf.sum(tf.mul(qaT, tf.square(tf.sub(x, qcT))), 1, true), f0);
    return tf.concat([tf.zerosLike(f), f], 1) as tf.Tensor2D;
  },
  { inputShape: [4], numClasses: 2, bounds: [-1, 1], output: 'logits' },
);

/** MI-FGSM on the quadratic model in float64, straight from Dong et al.'s Algorithm 1 (and its L2 variant). */
function referenceMiFgsm(x0: readonly number[], eps: number, steps: number, mu: number, norm: 'linf' | 'l2'): { x: number[]; margin: number } {
  const alpha = eps / steps;
  let x = [...x0];
  let g = x.map(() => 0);
  let margin = Infinity; // how far every sign decision stays from a tie
  for (let t = 0; t < steps; t++) {
    const f = x.reduce((s, v, i) => s + (qa[i] as number) * (v - (qc[i] as number)) ** 2, f0);
    const sig = 1 / (1 + Math.exp(f));
    const grad = x.map((v, i) => -sig * 2 * (qa[i] as number) * (v - (qc[i] as number)));
    const n1 = grad.reduce((s, v) => s + Math.abs(v), 0);
    g = g.map((v, i) => mu * v + (grad[i] as number) / n1);
    margin = Math.min(margin, ...g.map(Math.abs), ...x.map((v, i) => Math.abs(v - (qc[i] as number))));
    let step: number[];
    if (norm === 'linf') step = g.map((v) => alpha * Math.sign(v));
    else {
      const n2 = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
      step = g.map((v) => (alpha * v) / n2);
    }
    let delta = x.map((v, i) => v + (step[i] as number) - (x0[i] as number));
    if (norm === 'linf') delta = delta.map((d) => Math.max(-eps, Math.min(eps, d)));
    else {
      const n = Math.sqrt(delta.reduce((s, d) => s + d * d, 0));
      if (n > eps) delta = delta.map((d) => (d * eps) / n);
    }
    x = delta.map((d, i) => Math.max(-1, Math.min(1, (x0[i] as number) + d)));
  }
  return { x, margin };
}

describe('mi-fgsm: conformance', () => {
  it('linf on an MLP (untargeted and targeted)', async () => {
    assertConformance(await checkAttack(miFgsm(), { model: net, ...netData, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }));
  });
  it('l2 on an MLP', async () => {
    assertConformance(await checkAttack(miFgsm({ norm: 'l2' }), { model: net, ...netData, epsilons: [0.1, 0.5, 1.5], minSuccess: 0.75 }));
  });
});

describe('mi-fgsm: hand checks', () => {
  it('follows Algorithm 1 step by step where the momentum changes the path (linf and l2, μ = 1 and 0.5)', async () => {
    const x0 = [0.3, -0.2, 0.5, -0.6];
    const x = tf.tensor2d([x0]);
    const labels = tf.tensor1d([1], 'int32');
    const eps = 0.5;
    for (const norm of ['linf', 'l2'] as const) {
      const outs: number[][] = [];
      for (const decay of [1, 0.5, 0]) {
        const ref = referenceMiFgsm(x0, eps, 10, decay, norm);
        expect(ref.margin).toBeGreaterThan(1e-3); // no sign decision of the reference is a near-tie
        const r = await miFgsm({ norm, decay, earlyStop: false }).run(quadratic, x, { labels }, { epsilons: [eps] });
        const [out] = await rows(r.clipped[0] as tf.Tensor);
        ref.x.forEach((v, i) => expect(out?.[i], `${norm} μ=${decay} [${i}]`).toBeCloseTo(v, 5));
        outs.push(out as number[]);
        r.dispose();
      }
      // The fixture is one where momentum matters: μ = 1 and μ = 0 end at different points.
      expect(Math.max(...(outs[0] as number[]).map((v, i) => Math.abs(v - (outs[2]?.[i] as number))))).toBeGreaterThan(0.01);
    }
    tf.dispose([x, labels]);
  });

  it('decay 0 is BIM with α = ε/T: identical to bim({ steps: T, stepSize: ε/T }) on an MLP (linf and l2)', async () => {
    for (const [norm, eps] of [
      ['linf', 0.1],
      ['l2', 0.5],
    ] as const) {
      const m = await miFgsm({ norm, steps: 6, decay: 0 }).run(net, netData.x, { labels: netData.labels }, { epsilons: [eps] });
      const bb = await bim({ norm, steps: 6, stepSize: eps / 6 }).run(net, netData.x, { labels: netData.labels }, { epsilons: [eps] });
      const a = (await rows(m.clipped[0] as tf.Tensor)).flat();
      const c = (await rows(bb.clipped[0] as tf.Tensor)).flat();
      // linf: sign(∇/‖∇‖₁) = sign(∇) exactly; l2: (∇/‖∇‖₁)/‖·‖₂ = ∇/‖∇‖₂ up to float32 rounding.
      const worst = Math.max(...a.map((v, i) => Math.abs(v - (c[i] as number))));
      expect(worst, norm).toBeLessThanOrEqual(norm === 'linf' ? 0 : 1e-6);
      expect(m.success).toEqual(bb.success);
      m.dispose();
      bb.dispose();
    }
  });

  it('decay 0 on a logistic model: T sign steps of ε/T give −ε·sign(w); with early stop, k·ε/T to the first crossing', async () => {
    const near = [
      [0.4, 0.45, 0.5, 0.5, 0.5, 0.5],
      [0.51, 0.45, 0.4, 0.5, 0.45, 0.5],
    ];
    const x = tf.tensor2d(near);
    const labels = tf.tensor1d([1, 1], 'int32');
    const eps = 0.3;
    const steps = 8;
    const full = await miFgsm({ steps, decay: 0, earlyStop: false }).run(logistic, x, { labels }, { epsilons: [eps] });
    const out = await rows(full.clipped[0] as tf.Tensor);
    near.forEach((row, i) => row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v - eps * Math.sign(w[j] as number), 6)));
    full.dispose();
    const alpha = eps / steps;
    const early = await miFgsm({ steps, decay: 0 }).run(logistic, x, { labels }, { epsilons: [eps] });
    near.forEach((row, i) => {
      let k = 0;
      while (z(row) - k * alpha * wL1 >= 0) k++;
      expect(k).toBeLessThan(steps);
      expect(early.distances[i]).toBeCloseTo(k * alpha, 6);
    });
    early.dispose();
    tf.dispose([x, labels]);
  });

  it('l2 on a logistic model: every step is along −w/‖w‖₂, so T steps of ε/T give −ε·w/‖w‖₂ (μ = 1)', async () => {
    const row = [0.6, 0.3, 0.5, 0.4, 0.5, 0.4];
    const x = tf.tensor2d([row]);
    const labels = tf.tensor1d([1], 'int32');
    const r = await miFgsm({ norm: 'l2', earlyStop: false }).run(logistic, x, { labels }, { epsilons: [0.2] });
    const [out] = await rows(r.clipped[0] as tf.Tensor);
    row.forEach((v, j) => expect(out?.[j]).toBeCloseTo(v - (0.2 * (w[j] as number)) / wL2, 6));
    r.dispose();
    tf.dispose([x, labels]);
  });
});

describe('mi-fgsm: options', () => {
  it('has the documented defaults and meta', () => {
    expect(miFgsm.defaults).toEqual({ norm: 'linf', earlyStop: true, steps: 10, decay: 1 });
    expect(miFgsm.meta).toMatchObject({ name: 'mi-fgsm', kind: 'fixed-epsilon', norms: ['linf', 'l2'], threat: 'white-box', randomized: false });
    expect(miFgsm.meta.paper).toContain('arxiv.org/abs/1710.06081');
  });
  it('rejects invalid options', () => {
    for (const bad of [{ steps: 0 }, { steps: 2.5 }, { decay: -1 }, { decay: Number.POSITIVE_INFINITY }, { momentum: 1 }]) {
      expect(() => miFgsm(bad as never), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
    let caught: unknown;
    try {
      miFgsm({ norm: 'l1' as never });
    } catch (e) {
      caught = e;
    }
    expect(isAdvxError(caught, 'UNSUPPORTED_NORM')).toBe(true);
  });
});
