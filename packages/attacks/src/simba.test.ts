import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { Rng, toQueryModel } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { checkQueryAccounting, imageNet, imageNetData, strictQueryModel } from '../test/black-box-fixtures.js';
import { expectCode, logisticRegression, net, netData, rows } from '../test/fixtures.js';

import { dctOrder, simba } from './simba.js';

const { x, labels } = imageNetData;
const { w, z, model: logistic } = logisticRegression;

describe('simba: conformance', () => {
  it('pixel basis on a scores query model (untargeted and targeted) and on a white-box model', async () => {
    const oracle = toQueryModel(imageNet, { output: 'scores' });
    assertConformance(await checkAttack(simba({ stepSize: 0.3, maxQueries: 200 }), { model: oracle, x, labels, epsilons: [0.2, 1, 3], minSuccess: 0.9 }));
    assertConformance(
      await checkAttack(simba({ stepSize: 0.3, maxQueries: 200 }), { model: net, x: netData.x, labels: netData.labels, epsilons: [1, 3], minSuccess: 0.9 }),
    );
  });
  it('DCT basis on a scores query model', async () => {
    const oracle = toQueryModel(imageNet, { output: 'scores' });
    assertConformance(
      await checkAttack(simba({ basis: 'dct', stepSize: 0.3, maxQueries: 200 }), { model: oracle, x, labels, epsilons: [0.2, 1, 3], minSuccess: 0.9 }),
    );
  });
});

describe('simba: closed forms', () => {
  const xs = [
    [0.6, 0.3, 0.5, 0.4, 0.5, 0.4],
    [0.5, 0.4, 0.6, 0.5, 0.6, 0.5],
  ];
  it('on a logistic model every coordinate moves by −ε·sign(w_j), after one query where w_j < 0 and two where w_j > 0', async () => {
    expect(xs.every((r) => z(r) > 0)).toBe(true);
    const eps = 0.1;
    const x6 = tf.tensor2d(xs);
    const ones = tf.tensor1d([1, 1], 'int32');
    const r = await simba({ stepSize: eps, earlyStop: false }).run(toQueryModel(logistic, { output: 'scores' }), x6, { labels: ones });
    const out = await rows(r.raw);
    xs.forEach((row, i) => row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v - eps * Math.sign(w[j] as number), 6)));
    // +ε is tried first: 1 query where it lowers p(y = 1) (w_j < 0), 2 where it does not; plus the
    // attack's clean query and the base's clean and final checks.
    const own = w.reduce((s, wj) => s + (wj < 0 ? 1 : 2), 1);
    expect(Array.from(r.queries ?? [])).toEqual([own + 2, own + 2]);
    r.dispose();
    tf.dispose([x6, ones]);
  });

  it('pixel basis: every coordinate of δ is 0 or ±ε, and p(label) only drops', async () => {
    const eps = 0.05;
    const r = await simba({ stepSize: eps, maxQueries: 30, earlyStop: false }).run(imageNet, x, { labels }, { seed: 2 });
    const [out, clean] = [await rows(r.raw), await rows(x)];
    out.forEach((row, i) =>
      row.forEach((v, j) => expect(Math.min(...[0, eps, -eps].map((a) => Math.abs(v - (clean[i]?.[j] as number) - a)))).toBeLessThan(1e-6)),
    );
    const p = tf.tidy(() => tf.stack([tf.softmax(imageNet.logits(x)), tf.softmax(imageNet.logits(r.raw))]));
    const [p0, p1] = (await p.array()) as number[][][];
    const y = await labels.data();
    p0?.forEach((row, i) => expect(p1?.[i]?.[y[i] as number]).toBeLessThan(row[y[i] as number] as number));
    tf.dispose([p]);
    r.dispose();
  });

  it('the DCT directions are orthonormal, and the order is a permutation that starts with the lowest frequencies', () => {
    const dims = { h: 4, w: 4, c: 2 };
    const order = dctOrder(dims, 2, 1, new Rng(3));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 32 }, (_, i) => i));
    const ring = (index: number) => {
      const cell = Math.floor(index / 2);
      return Math.max(Math.floor(cell / 4), cell % 4);
    };
    const rings = Array.from(order, ring).map((m) => Math.max(m, 1));
    expect(rings).toEqual([...rings].sort((a, b) => a - b));
    expect(rings.slice(0, 8).every((m) => m === 1)).toBe(true);
  });

  it('DCT basis: δ has norm ε·√k for k accepted steps (orthonormal directions, nothing clipped)', async () => {
    const eps = 0.05;
    const r = await simba({ basis: 'dct', stepSize: eps, maxQueries: 20, earlyStop: false }).run(imageNet, x, { labels }, { seed: 2 });
    const [out, clean] = [await rows(r.raw), await rows(x)];
    out.forEach((row, i) => {
      const norm = Math.sqrt(row.reduce((s, v, j) => s + (v - (clean[i]?.[j] as number)) ** 2, 0));
      const k = Math.round((norm / eps) ** 2);
      expect(k).toBeGreaterThan(0);
      expect(norm).toBeCloseTo(eps * Math.sqrt(k), 5);
    });
    r.dispose();
  });
});

describe('simba: queries', () => {
  it('counts every query within maxQueries + the base’s clean and final checks', async () => {
    const maxQueries = 25;
    const epsilons = [0.5, 2];
    for (const basis of ['pixel', 'dct'] as const) {
      const { queries } = await checkQueryAccounting(
        simba({ basis, maxQueries, stepSize: 0.01 }),
        imageNet,
        'scores',
        x,
        { labels },
        { epsilons },
        maxQueries + 2 + epsilons.length,
      );
      expect(Math.max(...queries)).toBe(maxQueries + 2 + epsilons.length);
    }
  });
  it('touches nothing of a query model but query and its metadata', async () => {
    const oracle = strictQueryModel(imageNet, 'scores');
    const r = await simba({ basis: 'dct', maxQueries: 40 }).run(oracle, x, { labels });
    expect(r.raw.shape).toEqual(x.shape);
    r.dispose();
    expect(oracle.touched.has('query')).toBe(true);
  });
  it('refuses label-only models, DCT on non-images and bad options before any query', async () => {
    const labelOnly = toQueryModel(imageNet, { output: 'label' });
    await expectCode('UNSUPPORTED_MODEL', () => simba().run(labelOnly, x, { labels }));
    expect(labelOnly.queries).toBe(0);
    await expectCode('UNSUPPORTED_MODEL', () => simba({ basis: 'dct' }).run(net, netData.x, { labels: netData.labels }));
    await expectCode('INVALID_OPTION', () => simba({ stepSize: 0 }).run(imageNet, x, { labels }));
    await expectCode('INVALID_OPTION', () => simba({ basis: 'haar' as 'dct' }).run(imageNet, x, { labels }));
    await expectCode('INVALID_OPTION', () => simba({ freqFraction: 0 }).run(imageNet, x, { labels }));
  });
});
