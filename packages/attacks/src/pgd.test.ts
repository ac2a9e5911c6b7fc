import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { crossEntropy, isAdvxError, Rng, type Model, type Progress } from '@advx/core';
import { assertConformance, checkAttack, linearModel, selfLabeledData } from '@advx/core/testing';

import { logisticRegression, net, netData } from '../test/fixtures.js';

import { keepBest } from './internal/gradient-steps.js';
import { pgd } from './pgd.js';

/** A linear model with normal weights and biases that make every class tie at the centre of [0, 1]^d. */
function randomLinear(seed: number, d: number, c: number): Model {
  const rng = new Rng(seed);
  const weights = Array.from({ length: c }, () => Array.from({ length: d }, () => rng.normal()));
  return linearModel({ weights, bias: weights.map((wc) => -0.5 * wc.reduce((s, v) => s + v, 0)) });
}

const lin = randomLinear(5, 16, 3);
const linData = selfLabeledData(lin, 4, 8);

const { w, z, wL1, wL2, model: logistic } = logisticRegression;

async function rows(t: tf.Tensor): Promise<number[][]> {
  return (await t.array()) as number[][];
}

async function expectCode(code: string, fn: () => unknown): Promise<void> {
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(isAdvxError(caught), String(caught)).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

describe('pgd: conformance', () => {
  it('linf on a linear model and an MLP (untargeted and targeted)', async () => {
    assertConformance(await checkAttack(pgd({ steps: 10, relStepSize: 0.2 }), { model: lin, ...linData, epsilons: [0.02, 0.1, 0.3], minSuccess: 1 }));
    assertConformance(await checkAttack(pgd({ steps: 10, relStepSize: 0.2 }), { model: net, ...netData, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.9 }));
  });
  it('l2 on an MLP', async () => {
    assertConformance(
      await checkAttack(pgd({ norm: 'l2', steps: 10, relStepSize: 0.2 }), { model: net, ...netData, epsilons: [0.1, 0.5, 1.5], minSuccess: 0.9 }),
    );
  });
  it('l1 on an MLP', async () => {
    assertConformance(await checkAttack(pgd({ norm: 'l1', steps: 10, relStepSize: 0.2 }), { model: net, ...netData, epsilons: [0.5, 2, 6], minSuccess: 0.9 }));
  });
  it('margin loss with restarts', async () => {
    assertConformance(
      await checkAttack(pgd({ steps: 10, relStepSize: 0.2, loss: 'margin', restarts: 2 }), { model: net, ...netData, epsilons: [0.05, 0.3], minSuccess: 0.9 }),
    );
  });
});

describe('pgd: closed forms on linear models', () => {
  // Positive-class samples away from the bounds: z > 0 for each.
  const xs = [
    [0.6, 0.3, 0.5, 0.4, 0.5, 0.4],
    [0.5, 0.4, 0.6, 0.5, 0.6, 0.5],
  ];
  const ones = tf.tensor1d([1, 1], 'int32');

  it('linf without random start: x − min(T·α, ε)·sign(w), the CE gradient sign of a logistic model', async () => {
    expect(xs.every((r) => z(r) > 0)).toBe(true);
    const x = tf.tensor2d(xs);
    for (const [steps, expectedShift] of [
      [2, 0.06],
      [5, 0.1],
    ] as const) {
      const r = await pgd({ steps, stepSize: 0.03, randomStart: false, earlyStop: false }).run(logistic, x, { labels: ones }, { epsilons: [0.1] });
      const out = await rows(r.clipped[0] as tf.Tensor);
      xs.forEach((row, i) => row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v - expectedShift * Math.sign(w[j] as number), 6)));
      r.dispose();
    }
    x.dispose();
  });

  it('l2 without random start: x − min(T·α, ε)·w/‖w‖₂', async () => {
    const x = tf.tensor2d(xs);
    for (const [steps, expectedShift] of [
      [2, 0.1],
      [6, 0.25],
    ] as const) {
      const r = await pgd({ norm: 'l2', steps, stepSize: 0.05, randomStart: false, earlyStop: false }).run(logistic, x, { labels: ones }, { epsilons: [0.25] });
      const out = await rows(r.clipped[0] as tf.Tensor);
      xs.forEach((row, i) => row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v - (expectedShift * (w[j] as number)) / wL2, 6)));
      r.dispose();
    }
    x.dispose();
  });

  it('early stop keeps the first adversarial iterate: linf distance k·α with k the first step that crosses z = 0', async () => {
    const near = [
      [0.4, 0.45, 0.5, 0.5, 0.5, 0.5],
      [0.5, 0.45, 0.4, 0.5, 0.45, 0.5],
    ];
    const alpha = 0.01;
    const expectedK = near.map((row) => {
      let k = 0;
      while (z(row) - k * alpha * wL1 >= 0) k++;
      return k;
    });
    // Guard the fixture: a crossing well away from a step boundary, and several steps away.
    near.forEach((row, i) => {
      expect(z(row)).toBeGreaterThan(0);
      expect(Math.abs(z(row) / (alpha * wL1) - Math.round(z(row) / (alpha * wL1)))).toBeGreaterThan(0.1);
      expect(expectedK[i]).toBeGreaterThan(2);
    });
    const x = tf.tensor2d(near);
    const r = await pgd({ steps: 40, stepSize: alpha, randomStart: false }).run(logistic, x, { labels: ones }, { epsilons: [0.3] });
    expect(r.success[0]).toEqual([true, true]);
    Array.from(r.distances).forEach((dist, i) => expect(dist).toBeCloseTo((expectedK[i] as number) * alpha, 6));
    r.dispose();
    x.dispose();
  });

  it("margin loss steps along sign(w_j − w_y), j the runner-up (untargeted), and sign(w_t − w_j') (targeted)", async () => {
    const W = [
      [1, -1, 0.5, 0, 0.3, -0.2],
      [-1, 1, 0, 0.5, -0.4, 0.6],
      [0.2, 0.1, -0.5, -0.5, 0.7, 0.9],
    ];
    const model = linearModel({ weights: W });
    const x0 = [[0.6, 0.4, 0.5, 0.5, 0.5, 0.4]];
    const logits = W.map((wc) => wc.reduce((s, v, j) => s + v * (x0[0]?.[j] as number), 0));
    const y = logits.indexOf(Math.max(...logits));
    const others = [0, 1, 2].filter((c) => c !== y);
    const j = others.reduce((a, c) => ((logits[c] as number) > (logits[a] as number) ? c : a));
    const t = others.find((c) => c !== j) as number;
    const jt = [0, 1, 2].filter((c) => c !== t).reduce((a, c) => ((logits[c] as number) > (logits[a] as number) ? c : a));
    const alpha = 0.05;
    const x = tf.tensor2d(x0);
    const label = tf.tensor1d([y], 'int32');
    const target = tf.tensor1d([t], 'int32');
    const attack = pgd({ steps: 1, stepSize: alpha, randomStart: false, loss: 'margin', earlyStop: false });
    const u = await attack.run(model, x, { labels: label }, { epsilons: [0.2] });
    const tg = await attack.run(model, x, { targets: target, labels: label }, { epsilons: [0.2] });
    const [uo] = await rows(u.clipped[0] as tf.Tensor);
    const [to] = await rows(tg.clipped[0] as tf.Tensor);
    x0[0]?.forEach((v, k) => {
      const wk = (c: number) => W[c]?.[k] as number;
      expect(uo?.[k]).toBeCloseTo(v + alpha * Math.sign(wk(j) - wk(y)), 6);
      expect(to?.[k]).toBeCloseTo(v + alpha * Math.sign(wk(t) - wk(jt)), 6);
    });
    tf.dispose([x, label, target]);
    u.dispose();
    tg.dispose();
  });

  it('l1 (SLIDE) moves the top-k coordinates by α/k along sign(g), skipping coordinates blocked by a bound', async () => {
    const wb = [2.0, -1.5, 1.2, 0.9, -0.6, 0.4, 0.3, -0.2];
    const model = linearModel({ weights: [wb.map((v) => -v / 2), wb.map((v) => v / 2)] });
    // Class 1 (z > 0); CE gradient of a class-1 sample is −σ(−z)·w, so the ascent sign is −sign(w).
    const free = [0.5, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5];
    const blocked = [0, 0.3, 0.5, 0.5, 0.5, 0.5, 0.5, 0.9]; // coordinate 0 sits at the lower bound, its step −sign(2) points out
    const x = tf.tensor2d([free, blocked]);
    const alpha = 0.2;
    // l1Sparsity 0.75 on 8 coordinates: k = 2.
    const r = await pgd({ norm: 'l1', steps: 1, stepSize: alpha, randomStart: false, l1Sparsity: 0.75, earlyStop: false }).run(
      model,
      x,
      { labels: tf.tensor1d([1, 1], 'int32') },
      { epsilons: [1] },
    );
    const out = await rows(r.clipped[0] as tf.Tensor);
    const expectedFree = free.map((v, j) => (j <= 1 ? v - (alpha / 2) * Math.sign(wb[j] as number) : v));
    const expectedBlocked = blocked.map((v, j) => (j === 1 || j === 2 ? v - (alpha / 2) * Math.sign(wb[j] as number) : v));
    out[0]?.forEach((v, j) => expect(v).toBeCloseTo(expectedFree[j] as number, 6));
    out[1]?.forEach((v, j) => expect(v).toBeCloseTo(expectedBlocked[j] as number, 6));
    r.dispose();
    x.dispose();
  });

  it('l1 results stay in the L1 ball and are sparse: at most one coordinate per step (top 1 % of 64)', async () => {
    const model = randomLinear(5, 64, 3);
    const { x, labels } = selfLabeledData(model, 6, 6);
    const eps = 2;
    const steps = 10;
    for (const randomStart of [false, true]) {
      const r = await pgd({ norm: 'l1', steps, relStepSize: 0.2, randomStart, earlyStop: false }).run(model, x, { labels }, { epsilons: [eps] });
      const delta = await rows(tf.sub(r.clipped[0] as tf.Tensor, x));
      delta.forEach((row) => {
        const l1 = row.reduce((s, v) => s + Math.abs(v), 0);
        expect(l1).toBeLessThanOrEqual(eps * (1 + 1e-5));
        expect(l1).toBeGreaterThan(0.5 * eps);
        if (!randomStart) expect(row.filter((v) => v !== 0).length).toBeLessThanOrEqual(steps);
      });
      r.dispose();
    }
    tf.dispose([x, labels]);
  });
});

describe('pgd: steps, restarts and seeds', () => {
  const { x, labels } = netData;
  const eps = [0.1];
  const count = (s: boolean[] | undefined) => (s ?? []).filter(Boolean).length;

  it('more steps never lower the success on the fixture (same seed), and do raise it here', async () => {
    const sets: boolean[][] = [];
    for (const steps of [5, 10, 20, 40]) {
      const r = await pgd({ steps }).run(net, x, { labels }, { epsilons: eps, seed: 7 });
      sets.push([...(r.success[0] as boolean[])]);
      r.dispose();
    }
    for (let k = 1; k < sets.length; k++) {
      (sets[k - 1] as boolean[]).forEach((ok, i) => {
        if (ok) expect(sets[k]?.[i], `steps index ${k}, sample ${i}`).toBe(true);
      });
    }
    expect(count(sets[sets.length - 1])).toBeGreaterThan(count(sets[0]));
  });

  it('more restarts never lower the success (same seed), and do raise it here', async () => {
    const sets: boolean[][] = [];
    for (const restarts of [1, 2, 4]) {
      const r = await pgd({ steps: 10, restarts }).run(net, x, { labels }, { epsilons: eps, seed: 7 });
      sets.push([...(r.success[0] as boolean[])]);
      r.dispose();
    }
    for (let k = 1; k < sets.length; k++) {
      (sets[k - 1] as boolean[]).forEach((ok, i) => {
        if (ok) expect(sets[k]?.[i]).toBe(true);
      });
    }
    expect(count(sets[sets.length - 1])).toBeGreaterThan(count(sets[0]));
  });

  for (const earlyStop of [false, true]) {
    it(`restarts keep per sample the first successful run, else the highest loss (earlyStop ${earlyStop})`, async () => {
      const one = await pgd({ steps: 10, earlyStop }).run(net, x, { labels }, { epsilons: eps, seed: 11 });
      const four = await pgd({ steps: 10, restarts: 4, earlyStop }).run(net, x, { labels }, { epsilons: eps, seed: 11 });
      const o1 = await rows(one.clipped[0] as tf.Tensor);
      const o4 = await rows(four.clipped[0] as tf.Tensor);
      const ce = async (t: tf.Tensor) => Array.from(await tf.tidy(() => crossEntropy(net.logits(t), labels)).data());
      const l1 = await ce(one.clipped[0] as tf.Tensor);
      const l4 = await ce(four.clipped[0] as tf.Tensor);
      const s1 = one.success[0] as boolean[];
      const s4 = four.success[0] as boolean[];
      // The fixture has samples of both kinds, so both rules are exercised.
      expect(s1.some((ok) => !ok)).toBe(true);
      expect(s1.some((ok) => ok)).toBe(true);
      s1.forEach((ok, i) => {
        if (ok) {
          expect(s4[i]).toBe(true);
          expect(o4[i]).toEqual(o1[i]); // the first run already succeeded: it is kept
        } else {
          expect(l4[i] as number).toBeGreaterThanOrEqual((l1[i] as number) - 1e-6);
        }
      });
      one.dispose();
      four.dispose();
    });
  }

  it('keepBest: the first successful restart wins, else the highest objective', async () => {
    const best = {
      bestX: tf.tensor2d([[0], [1], [2], [3]]),
      bestValue: tf.tensor1d([5, 1, 1, 9]),
      bestOk: tf.tensor1d([1, 0, 0, 0]),
    };
    const next = keepBest(best, tf.tensor2d([[10], [11], [12], [13]]), tf.tensor1d([9, 0, 2, 8]), tf.tensor1d([true, true, false, false], 'bool'));
    expect(Array.from(await next.bestX.data())).toEqual([0, 11, 12, 3]);
    expect(Array.from(await next.bestValue.data())).toEqual([5, 0, 2, 9]);
    expect(Array.from(await next.bestOk.data())).toEqual([1, 1, 0, 0]);
  });

  it('random start: the same seed gives identical results, batch = singles, another seed differs', async () => {
    const attack = pgd({ steps: 5, restarts: 2, earlyStop: false });
    const a = await attack.run(net, x, { labels }, { epsilons: [0.05, 0.1], seed: 3 });
    const again = await attack.run(net, x, { labels }, { epsilons: [0.05, 0.1], seed: 3 });
    const singles = await attack.run(net, x, { labels }, { epsilons: [0.05, 0.1], seed: 3, batchSize: 1 });
    const other = await attack.run(net, x, { labels }, { epsilons: [0.05, 0.1], seed: 4 });
    for (let e = 0; e < 2; e++) {
      const ref = a.clipped[e] as tf.Tensor;
      expect(await rows(again.clipped[e] as tf.Tensor)).toEqual(await rows(ref));
      const diff = async (t: tf.Tensor) => (await tf.tidy(() => tf.max(tf.abs(tf.sub(t, ref)))).data())[0] as number;
      expect(await diff(singles.clipped[e] as tf.Tensor)).toBeLessThanOrEqual(1e-6);
      expect(await diff(other.clipped[e] as tf.Tensor)).toBeGreaterThan(1e-3);
    }
    tf.dispose([a, again, singles, other].map((r) => [r.raw, ...r.clipped]).flat());
  });

  it('stepSize overrides relStepSize', async () => {
    const a = await pgd({ steps: 5, stepSize: 0.02, relStepSize: 0.9 }).run(net, x, { labels }, { epsilons: [0.1], seed: 1 });
    const c = await pgd({ steps: 5, relStepSize: 0.2 }).run(net, x, { labels }, { epsilons: [0.1], seed: 1 });
    expect(await rows(a.clipped[0] as tf.Tensor)).toEqual(await rows(c.clipped[0] as tf.Tensor));
    a.dispose();
    c.dispose();
  });

  it('progress covers steps × restarts monotonically in one loop', async () => {
    const seen: Progress[] = [];
    const r = await pgd({ steps: 4, restarts: 3, earlyStop: false }).run(net, x, { labels }, { epsilons: [0.05], onProgress: (p) => seen.push(p) });
    r.dispose();
    expect(Math.max(...seen.map((p) => p.steps))).toBe(12);
    expect(seen.filter((p) => p.steps === 12).map((p) => p.step)).toEqual([...Array(12).keys()]);
    expect(seen.every((p, i) => i === 0 || p.fraction >= (seen[i - 1] as Progress).fraction)).toBe(true);
  });
});

describe('pgd: options', () => {
  it('has the documented defaults and meta', () => {
    expect(pgd.defaults).toEqual({
      norm: 'linf',
      earlyStop: true,
      steps: 40,
      relStepSize: 0.01 / 0.3,
      stepSize: 0,
      randomStart: true,
      restarts: 1,
      loss: 'ce',
      l1Sparsity: 0.99,
    });
    expect(pgd.meta).toMatchObject({ name: 'pgd', kind: 'fixed-epsilon', norms: ['linf', 'l2', 'l1'], threat: 'white-box', randomized: true });
    expect(pgd.meta.paper).toContain('arxiv.org/abs/1706.06083');
  });
  it('rejects invalid options with INVALID_OPTION (or UNSUPPORTED_NORM) before any work', async () => {
    for (const bad of [
      { steps: 0 },
      { steps: 2.5 },
      { relStepSize: 0 },
      { stepSize: -1 },
      { restarts: 0 },
      { restarts: 2, randomStart: false },
      { loss: 'dlr' },
      { l1Sparsity: 1 },
      { l1Sparsity: -0.1 },
      { randomStart: 'yes' },
      { iterations: 10 },
    ]) {
      await expectCode('INVALID_OPTION', () => pgd(bad as never));
    }
    await expectCode('UNSUPPORTED_NORM', () => pgd({ norm: 'l0' as never }));
  });
});
