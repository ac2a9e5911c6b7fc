import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { isAdvxError, type Model, type Progress } from '@advx/core';
import { assertConformance, checkAttack, linearModel } from '@advx/core/testing';

import { logisticRegression, net, netData, rows } from '../test/fixtures.js';

import { bim } from './bim.js';
import { pgd } from './pgd.js';

const { w, b, z, wL1, wL2, model: logistic } = logisticRegression;

/** The logistic model rescaled to bounds [lo, lo + width]: same decision function on x' = lo + width·x. */
function logisticOn(lo: number, width: number): Model {
  const ws = w.map((v) => v / width);
  const bs = b - ws.reduce((s, v) => s + v * lo, 0);
  return linearModel({ weights: [ws.map((v) => -v / 2), ws.map((v) => v / 2)], bias: [-bs / 2, bs / 2], bounds: [lo, lo + width] });
}

/** Number of iterations a run performs (from its progress reports), with early stop off. */
async function stepsRun(model: Model, x: tf.Tensor, eps: number, options: Parameters<typeof bim>[0] = {}): Promise<number> {
  const seen: Progress[] = [];
  const labels = tf.tensor1d(new Array<number>(x.shape[0]).fill(1), 'int32');
  const r = await bim({ ...options, earlyStop: false }).run(model, x, { labels }, { epsilons: [eps], onProgress: (p) => seen.push(p) });
  r.dispose();
  labels.dispose();
  return Math.max(...seen.map((p) => p.steps));
}

const pos = [[0.6, 0.3, 0.5, 0.4, 0.5, 0.4]];

describe('bim: conformance', () => {
  it("linf with Kurakin et al.'s schedule on an MLP (untargeted and targeted)", async () => {
    assertConformance(await checkAttack(bim(), { model: net, ...netData, epsilons: [0.02, 0.1, 0.2] }));
  });
  it('l2 on an MLP', async () => {
    assertConformance(await checkAttack(bim({ norm: 'l2' }), { model: net, ...netData, epsilons: [0.1, 0.5, 1.5], minSuccess: 0.75 }));
  });
});

describe("bim: Kurakin et al.'s rule", () => {
  it("runs round(min(ε′ + 4, 1.25·ε′)) steps, ε′ = ε in 1/255 of the bounds' width", async () => {
    const x01 = tf.tensor2d(pos);
    expect(await stepsRun(logistic, x01, 8 / 255)).toBe(10); // min(12, 10)
    expect(await stepsRun(logistic, x01, 4 / 255)).toBe(5); // min(8, 5)
    expect(await stepsRun(logistic, x01, 32 / 255)).toBe(36); // min(36, 40)
    const x255 = tf.tensor2d(pos.map((r) => r.map((v) => 255 * v)));
    expect(await stepsRun(logisticOn(0, 255), x255, 8)).toBe(10);
    const xpm = tf.tensor2d(pos.map((r) => r.map((v) => -1 + 2 * v)));
    expect(await stepsRun(logisticOn(-1, 2), xpm, 16 / 255)).toBe(10); // 8 levels of (1 − (−1))/255
    tf.dispose([x01, x255, xpm]);
  });

  for (const [lo, width] of [
    [0, 1],
    [0, 255],
  ] as const) {
    it(`steps by one intensity level (width/255) on bounds [${lo}, ${lo + width}]: early stop at the first crossing, k levels away`, async () => {
      const near = [
        [0.4, 0.45, 0.5, 0.5, 0.5, 0.5],
        [0.51, 0.45, 0.4, 0.5, 0.45, 0.5],
      ];
      const level = 1 / 255; // in units of the [0, 1] model
      const expectedK = near.map((row) => {
        let k = 0;
        while (z(row) - k * level * wL1 >= 0) k++;
        return k;
      });
      near.forEach((row) => expect(Math.abs(z(row) / (level * wL1) - Math.round(z(row) / (level * wL1)))).toBeGreaterThan(0.1));
      const x = tf.tensor2d(near.map((r) => r.map((v) => lo + width * v)));
      const labels = tf.tensor1d([1, 1], 'int32');
      const r = await bim().run(logisticOn(lo, width), x, { labels }, { epsilons: [0.3 * width] });
      expect(r.success[0]).toEqual([true, true]);
      Array.from(r.distances).forEach((dist, i) => expect(dist / width).toBeCloseTo((expectedK[i] as number) * level, 6));
      r.dispose();
      tf.dispose([x, labels]);
    });
  }

  it('a user steps or stepSize replaces only its part of the rule', async () => {
    const x = tf.tensor2d(pos);
    const labels = tf.tensor1d([1], 'int32');
    const cases: [Parameters<typeof bim>[0], number][] = [
      [{ steps: 3, stepSize: 0.01 }, 0.03],
      [{ steps: 3 }, 3 / 255],
      [{ stepSize: 0.002 }, 16 * 0.002], // ε′ = 12.75: round(min(16.75, 15.94)) = 16 steps of 0.002
    ];
    for (const [options, shift] of cases) {
      const r = await bim({ ...options, earlyStop: false }).run(logistic, x, { labels }, { epsilons: [0.05] });
      const [out] = await rows(r.clipped[0] as tf.Tensor);
      pos[0]?.forEach((v, j) => expect(out?.[j]).toBeCloseTo(v - shift * Math.sign(w[j] as number), 6));
      r.dispose();
    }
    expect(await stepsRun(logistic, x, 0.05, { stepSize: 0.002 })).toBe(16);
    tf.dispose([x, labels]);
  });

  it('l2: 10 steps of 1.25·ε/10 by default (early stop reveals the step: k·α to the first crossing)', async () => {
    const near = [[0.4, 0.45, 0.5, 0.5, 0.5, 0.5]];
    const eps = 0.4;
    const alpha = (1.25 * eps) / 10;
    let k = 0;
    while (z(near[0] as number[]) - k * alpha * wL2 >= 0) k++;
    expect(k).toBeGreaterThan(1);
    const x = tf.tensor2d(near);
    const labels = tf.tensor1d([1], 'int32');
    expect(await stepsRun(logistic, x, eps, { norm: 'l2' })).toBe(10);
    const r = await bim({ norm: 'l2' }).run(logistic, x, { labels }, { epsilons: [eps] });
    expect(r.distances[0]).toBeCloseTo(k * alpha, 6);
    r.dispose();
    tf.dispose([x, labels]);
  });
});

describe('bim: the PGD engine without random start', () => {
  for (const norm of ['linf', 'l2'] as const) {
    it(`equals pgd({ randomStart: false }) with the same steps and step size (${norm})`, async () => {
      const eps = norm === 'linf' ? [0.05, 0.1] : [0.3, 0.6];
      const a = await bim({ norm, steps: 7, stepSize: (eps[0] as number) / 4 }).run(net, netData.x, { labels: netData.labels }, { epsilons: eps });
      const p = await pgd({ norm, steps: 7, stepSize: (eps[0] as number) / 4, randomStart: false }).run(
        net,
        netData.x,
        { labels: netData.labels },
        { epsilons: eps, seed: 9 },
      );
      for (let e = 0; e < eps.length; e++) expect(await rows(a.clipped[e] as tf.Tensor)).toEqual(await rows(p.clipped[e] as tf.Tensor));
      expect(a.success).toEqual(p.success);
      a.dispose();
      p.dispose();
    });
  }
});

describe('bim: options', () => {
  it('has the documented defaults and meta', () => {
    expect(bim.defaults).toEqual({ norm: 'linf', earlyStop: true, steps: 0, stepSize: 0 });
    expect(bim.meta).toMatchObject({ name: 'bim', kind: 'fixed-epsilon', norms: ['linf', 'l2'], threat: 'white-box', randomized: false });
    expect(bim.meta.paper).toContain('arxiv.org/abs/1607.02533');
  });
  it('rejects invalid options', () => {
    for (const bad of [{ steps: -1 }, { steps: 1.5 }, { stepSize: -0.1 }, { stepSize: Number.NaN }, { decay: 1 }]) {
      expect(() => bim(bad as never), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
    let caught: unknown;
    try {
      bim({ norm: 'l1' as never });
    } catch (e) {
      caught = e;
    }
    expect(isAdvxError(caught, 'UNSUPPORTED_NORM')).toBe(true);
  });
});
