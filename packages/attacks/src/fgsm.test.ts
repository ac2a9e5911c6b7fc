import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { fromFunction, isAdvxError } from '@advx/core';
import { assertConformance, checkAttack, linearModel } from '@advx/core/testing';

import { logisticRegression, net, netData, rows } from '../test/fixtures.js';

import { fgsm } from './fgsm.js';

const { w, z, wL1, model: logistic } = logisticRegression;

/** A 3-class softmax (linear) model with hand-chosen weights. */
const W = [
  [1, -1, 0.5, 0, 0.3, -0.2],
  [-1, 1, 0, 0.5, -0.4, 0.6],
  [0.2, 0.1, -0.5, -0.5, 0.7, 0.9],
];
const B = [0, 0.1, -0.2];
const softmaxModel = linearModel({ weights: W, bias: B });
const xs = [
  [0.6, 0.4, 0.5, 0.5, 0.5, 0.4],
  [0.3, 0.7, 0.4, 0.6, 0.5, 0.5],
  [0.5, 0.5, 0.3, 0.3, 0.6, 0.7],
];

/** Hand gradient of the cross-entropy of class `y` for the softmax model: Σ_k (p_k − [k = y])·w_k. */
function ceGradient(row: readonly number[], y: number): number[] {
  const logits = W.map((wc, c) => wc.reduce((s, v, j) => s + v * (row[j] as number), B[c] as number));
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const sum = e.reduce((s, v) => s + v, 0);
  const p = e.map((v) => v / sum);
  return row.map((_, j) => W.reduce((s, wc, k) => s + ((p[k] as number) - (k === y ? 1 : 0)) * (wc[j] as number), 0));
}

function argmaxLogit(row: readonly number[]): number {
  const logits = W.map((wc, c) => wc.reduce((s, v, j) => s + v * (row[j] as number), B[c] as number));
  return logits.indexOf(Math.max(...logits));
}

describe('fgsm: conformance', () => {
  it('linf on an MLP (untargeted and targeted)', async () => {
    assertConformance(await checkAttack(fgsm(), { model: net, ...netData, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }));
  });
  it('l2 (FGM) on an MLP', async () => {
    assertConformance(await checkAttack(fgsm({ norm: 'l2' }), { model: net, ...netData, epsilons: [0.1, 0.5, 1.5], minSuccess: 0.75 }));
  });
  it('l1 (FGM) on an MLP', async () => {
    assertConformance(await checkAttack(fgsm({ norm: 'l1' }), { model: net, ...netData, epsilons: [0.5, 2, 6], minSuccess: 0.5 }));
  });
});

describe('fgsm: closed forms', () => {
  it('binary logistic regression: a positive sample moves by exactly −ε·sign(w) and its logit by −ε·‖w‖₁', async () => {
    const pos = [
      [0.6, 0.3, 0.5, 0.4, 0.5, 0.4],
      [0.5, 0.4, 0.6, 0.5, 0.6, 0.5],
      [0.7, 0.2, 0.3, 0.6, 0.8, 0.3],
    ];
    expect(pos.every((r) => z(r) > 0)).toBe(true);
    const eps = 0.05;
    const x = tf.tensor2d(pos);
    const labels = tf.tensor1d([1, 1, 1], 'int32');
    const r = await fgsm().run(logistic, x, { labels }, { epsilons: [eps] });
    const out = await rows(r.clipped[0] as tf.Tensor);
    const zOut = await rows(tf.tidy(() => logistic.logits(r.clipped[0] as tf.Tensor)));
    pos.forEach((row, i) => {
      row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v - eps * Math.sign(w[j] as number), 6));
      const zAdv = (zOut[i]?.[1] as number) - (zOut[i]?.[0] as number);
      expect(zAdv).toBeCloseTo(z(row) - eps * wL1, 5);
    });
    tf.dispose([x, labels]);
    r.dispose();
  });

  it('softmax model: the perturbation is ε·sign(Σ_k (p_k − y_k)·w_k), untargeted; −ε·sign of the target CE gradient, targeted', async () => {
    const eps = 0.04;
    const ys = xs.map(argmaxLogit);
    const ts = ys.map((y) => (y + 1) % 3);
    const x = tf.tensor2d(xs);
    const labels = tf.tensor1d(ys, 'int32');
    const targets = tf.tensor1d(ts, 'int32');
    const u = await fgsm().run(softmaxModel, x, { labels }, { epsilons: [eps] });
    const t = await fgsm().run(softmaxModel, x, { targets, labels }, { epsilons: [eps] });
    const uo = await rows(u.clipped[0] as tf.Tensor);
    const to = await rows(t.clipped[0] as tf.Tensor);
    xs.forEach((row, i) => {
      const gu = ceGradient(row, ys[i] as number);
      const gt = ceGradient(row, ts[i] as number);
      expect(Math.min(...gu.map(Math.abs), ...gt.map(Math.abs))).toBeGreaterThan(1e-3); // no sign is ambiguous
      row.forEach((v, j) => {
        expect(uo[i]?.[j]).toBeCloseTo(v + eps * Math.sign(gu[j] as number), 6);
        expect(to[i]?.[j]).toBeCloseTo(v - eps * Math.sign(gt[j] as number), 6);
      });
    });
    tf.dispose([x, labels, targets]);
    u.dispose();
    t.dispose();
  });

  it('FGM l2 moves by exactly ε in L2 along the gradient; FGM l1 by ε·g/‖g‖₁', async () => {
    const eps = 0.1;
    const ys = xs.map(argmaxLogit);
    const x = tf.tensor2d(xs);
    const labels = tf.tensor1d(ys, 'int32');
    const r2 = await fgsm({ norm: 'l2' }).run(softmaxModel, x, { labels }, { epsilons: [eps] });
    const r1 = await fgsm({ norm: 'l1' }).run(softmaxModel, x, { labels }, { epsilons: [eps] });
    const o2 = await rows(r2.clipped[0] as tf.Tensor);
    const o1 = await rows(r1.clipped[0] as tf.Tensor);
    xs.forEach((row, i) => {
      const g = ceGradient(row, ys[i] as number);
      const n2 = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
      const n1 = g.reduce((s, v) => s + Math.abs(v), 0);
      const d2 = row.map((v, j) => (o2[i]?.[j] as number) - v);
      expect(Math.sqrt(d2.reduce((s, v) => s + v * v, 0))).toBeCloseTo(eps, 5);
      row.forEach((v, j) => {
        expect(o2[i]?.[j]).toBeCloseTo(v + (eps * (g[j] as number)) / n2, 6);
        expect(o1[i]?.[j]).toBeCloseTo(v + (eps * (g[j] as number)) / n1, 6);
      });
    });
    tf.dispose([x, labels]);
    r1.dispose();
    r2.dispose();
  });

  it('clips to the bounds: coordinates at a bound pushed outward stay there, the others move by ε', async () => {
    const row = [0, 1, 1, 0, 1, 0];
    expect(z(row)).toBeGreaterThan(0);
    const x = tf.tensor2d([row]); // step −ε·sign(w): coordinates 0 and 1 are pushed out of [0, 1]
    const labels = tf.tensor1d([1], 'int32');
    const r = await fgsm().run(logistic, x, { labels }, { epsilons: [0.1] });
    const [out] = await rows(r.clipped[0] as tf.Tensor);
    [0, 1, 0.9, 0.1, 0.9, 0.1].forEach((v, j) => expect(out?.[j]).toBeCloseTo(v, 6));
    tf.dispose([x, labels]);
    r.dispose();
  });

  it('the TSDoc example: success [[false], [true]] at ε = 0.1 and 0.3', async () => {
    const wt = tf.tensor2d([
      [1, -1],
      [-1, 1],
      [0.5, -0.5],
    ]);
    const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, wt), { inputShape: [3], numClasses: 2, bounds: [0, 1], output: 'logits' });
    const x = tf.tensor2d([[0.6, 0.4, 0.5]]);
    const labels = tf.tensor1d([0], 'int32');
    const result = await fgsm().run(model, x, { labels }, { epsilons: [0.1, 0.3] });
    expect(result.success).toEqual([[false], [true]]);
    result.dispose();
    tf.dispose([wt, x, labels]);
  });
});

describe('fgsm: options', () => {
  it('has the documented defaults and meta', () => {
    expect(fgsm.defaults).toEqual({ norm: 'linf', earlyStop: true });
    expect(fgsm.meta).toMatchObject({ name: 'fgsm', kind: 'fixed-epsilon', norms: ['linf', 'l2', 'l1'], threat: 'white-box', randomized: false });
    expect(fgsm.meta.paper).toContain('arxiv.org/abs/1412.6572');
  });
  it('rejects unknown options and unsupported norms', () => {
    expect(() => fgsm({ steps: 3 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    let caught: unknown;
    try {
      fgsm({ norm: 'l0' as never });
    } catch (e) {
      caught = e;
    }
    expect(isAdvxError(caught, 'UNSUPPORTED_NORM')).toBe(true);
  });
});
