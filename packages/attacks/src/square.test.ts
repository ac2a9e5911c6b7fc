import { describe, expect, it } from 'vitest';

import { Rng, toQueryModel } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { checkQueryAccounting, imageNet, imageNetData, strictQueryModel } from '../test/black-box-fixtures.js';
import { expectCode, net, netData, rows } from '../test/fixtures.js';

import { square, squareBump, squareSchedule } from './square.js';

const { x, labels } = imageNetData;

describe('square: conformance', () => {
  it('linf on a scores query model and on a white-box model (untargeted and targeted)', async () => {
    const oracle = toQueryModel(imageNet, { output: 'scores' });
    assertConformance(await checkAttack(square({ maxQueries: 200, pInit: 0.5 }), { model: oracle, x, labels, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.9 }));
    assertConformance(await checkAttack(square({ maxQueries: 200, pInit: 0.5 }), { model: imageNet, x, labels, epsilons: [0.1, 0.3], minSuccess: 0.9 }));
  });
  it('l2 on a scores query model', async () => {
    const oracle = toQueryModel(imageNet, { output: 'scores' });
    assertConformance(
      await checkAttack(square({ norm: 'l2', maxQueries: 200, pInit: 0.5 }), { model: oracle, x, labels, epsilons: [0.1, 0.5, 1.5], minSuccess: 0.9 }),
    );
  });
});

describe('square: the paper’s schedule and perturbations', () => {
  it('p is halved after 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000 of 10,000 iterations', () => {
    const at = (it: number) => squareSchedule(0.8, it, 10_000);
    expect([0, 10, 11, 50, 51, 200, 201, 500, 501, 1000, 1001, 2000, 2001, 4001, 6001, 8001, 9999].map(at)).toEqual([
      0.8,
      0.8,
      0.4,
      0.4,
      0.2,
      0.2,
      0.1,
      0.1,
      0.05,
      0.05,
      0.025,
      0.025,
      0.0125,
      0.8 / 128,
      0.8 / 256,
      0.8 / 512,
      0.8 / 512,
    ]);
    // The schedule is relative to the budget: iteration 2 of 1,000 is iteration 20 of 10,000.
    expect(squareSchedule(0.8, 2, 1000)).toBe(0.4);
  });

  it('the L2 window is a unit-norm pair of bumps, positive above and negative below (or transposed)', () => {
    const rng = new Rng(1);
    for (const s of [3, 5, 7]) {
      for (let trial = 0; trial < 4; trial++) {
        const b = squareBump(s, rng);
        expect(b.reduce((a, v) => a + v * v, 0)).toBeCloseTo(1, 10);
        const transposed = (b[0] as number) > 0 && (b[s - 1] as number) < 0;
        const half = Math.floor(s / 2);
        for (let r = 0; r < s; r++) {
          for (let c = 0; c < s; c++) {
            const v = transposed ? (b[c * s + r] as number) : (b[r * s + c] as number);
            expect(Math.sign(v)).toBe(r < half ? 1 : -1);
            // Symmetric across the vertical axis of each half.
            expect(v).toBeCloseTo(transposed ? (b[(s - 1 - c) * s + r] as number) : (b[r * s + (s - 1 - c)] as number), 12);
          }
        }
      }
    }
  });

  it('linf: every coordinate of the output moves by exactly ±ε (a vertex of the ball)', async () => {
    const eps = 0.05;
    const r = await square({ maxQueries: 50, pInit: 0.5, earlyStop: false }).run(imageNet, x, { labels }, { epsilons: [eps], seed: 3 });
    const out = await rows(r.raw);
    const clean = await rows(x);
    out.forEach((row, i) => row.forEach((v, j) => expect(Math.abs(Math.abs(v - (clean[i]?.[j] as number)) - eps)).toBeLessThan(1e-6)));
    r.dispose();
  });

  it('l2: the perturbation has norm exactly ε when no pixel is clipped', async () => {
    const eps = 0.15;
    const r = await square({ norm: 'l2', maxQueries: 50, pInit: 0.5, earlyStop: false }).run(imageNet, x, { labels }, { epsilons: [eps], seed: 3 });
    const out = await rows(r.raw);
    const clean = await rows(x);
    out.forEach((row, i) => {
      const d = Math.sqrt(row.reduce((s, v, j) => s + (v - (clean[i]?.[j] as number)) ** 2, 0));
      expect(d).toBeCloseTo(eps, 5);
    });
    r.dispose();
  });
});

describe('square: queries', () => {
  it('counts every query: the per-sample counts sum to the model’s own count and stay within 1 + E·(maxQueries + 1)', async () => {
    const maxQueries = 40;
    for (const norm of ['linf', 'l2'] as const) {
      const eps = norm === 'linf' ? [0.02, 0.3] : [0.1, 1.5];
      const { queries } = await checkQueryAccounting(
        square({ norm, maxQueries, pInit: 0.5 }),
        imageNet,
        'scores',
        x,
        { labels },
        { epsilons: eps, seed: 0 },
        1 + 2 * (maxQueries + 1),
      );
      // At the small epsilon the samples that resist spend the whole budget; at the large one they stop early.
      expect(Math.max(...queries)).toBeGreaterThan(maxQueries);
      expect(Math.min(...queries)).toBeLessThan(1 + 2 * (maxQueries + 1));
    }
  });

  it('on a white-box model reports its own queries: at most maxQueries per sample and epsilon', async () => {
    const r = await square({ maxQueries: 30, pInit: 0.5 }).run(imageNet, x, { labels }, { epsilons: [0.001, 0.3] });
    const q = Array.from(r.queries ?? []);
    expect(q.length).toBe(8);
    // At ε = 0.001 no sample breaks: the whole budget; at ε = 0.3 at least the initial point.
    for (const v of q) expect(v).toBeGreaterThanOrEqual(31);
    for (const v of q) expect(v).toBeLessThanOrEqual(60);
    r.dispose();
  });
  it('touches nothing of a query model but query and its metadata', async () => {
    const oracle = strictQueryModel(imageNet, 'scores');
    const r = await square({ maxQueries: 30, pInit: 0.5 }).run(oracle, x, { labels }, { epsilons: [0.3] });
    expect(r.success[0]?.some(Boolean)).toBe(true);
    r.dispose();
    expect(oracle.touched.has('query')).toBe(true);
  });

  it('stops a sample as soon as it is adversarial: with a huge ε every sample needs one or two queries', async () => {
    const r = await square({ maxQueries: 100, pInit: 0.5 }).run(toQueryModel(imageNet, { output: 'scores' }), x, { labels }, { epsilons: [1] });
    // Clean check + initial point (+ at most a couple of tries) + final check.
    expect(Math.max(...(r.queries ?? []))).toBeLessThanOrEqual(5);
    expect(r.success[0]?.every(Boolean)).toBe(true);
    r.dispose();
  });

  it('rejects an exhausted budget with QUERY_BUDGET_EXHAUSTED and leaks nothing', async () => {
    await expectCode('QUERY_BUDGET_EXHAUSTED', () =>
      square({ maxQueries: 100 }).run(toQueryModel(imageNet, { output: 'scores', budget: 20 }), x, { labels }, { epsilons: [0.01] }),
    );
  });
});

describe('square: bad input', () => {
  it('refuses label-only models, non-image inputs and bad options before any query', async () => {
    const labelOnly = toQueryModel(imageNet, { output: 'label' });
    await expectCode('UNSUPPORTED_MODEL', () => square().run(labelOnly, x, { labels }, { epsilons: [0.1] }));
    expect(labelOnly.queries).toBe(0);
    await expectCode('UNSUPPORTED_MODEL', () => square().run(net, netData.x, { labels: netData.labels }, { epsilons: [0.1] }));
    await expectCode('INVALID_OPTION', () => square({ maxQueries: 0 }).run(imageNet, x, { labels }, { epsilons: [0.1] }));
    await expectCode('INVALID_OPTION', () => square({ pInit: 0 }).run(imageNet, x, { labels }, { epsilons: [0.1] }));
    await expectCode('INVALID_OPTION', () => square({ pInit: 1.5 }).run(imageNet, x, { labels }, { epsilons: [0.1] }));
    await expectCode('UNSUPPORTED_NORM', () => square({ norm: 'l1' as 'l2' }).run(imageNet, x, { labels }, { epsilons: [0.1] }));
  });
});
