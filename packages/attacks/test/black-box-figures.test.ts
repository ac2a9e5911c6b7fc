/**
 * Black-box attacks on the zoo's naturally trained `mnist-cnn` with the shipped MNIST evaluation set,
 * on wasm (with the @advx/backend-wasm kernels). The model is only queried, through `toQueryModel`,
 * so every query is counted; the papers' figures are the reference.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { toQueryModel } from '@advx/core';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { hopSkipJump, square } from '../src/index.js';

let x: tf.Tensor4D;
let y: tf.Tensor1D;
let cnn: ZooModel;

const median = (v: readonly number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};
const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const report = (line: string) => console.info(line);

beforeAll(async () => {
  await useWasm();
  ({ x, y } = await loadDataset('mnist', { count: 100, source: 'shipped' }));
  cnn = await loadModel('mnist-cnn');
});
afterAll(() => {
  tf.dispose([x, y]);
  cnn.layers.dispose();
});

describe('Andriushchenko et al. 2020: Square Attack Linf ε = 0.3 on MNIST', () => {
  it('robust accuracy of mnist-cnn ≤ 10 % within 5,000 queries per sample (paper, p = 0.8)', { timeout: 600_000 }, async () => {
    const n = 100;
    const maxQueries = 5000;
    const oracle = toQueryModel(cnn.model, { output: 'scores' });
    const t0 = Date.now();
    const r = await square({ maxQueries, pInit: 0.8 }).run(oracle, x, { labels: y }, { epsilons: [0.3], seed: 0 });
    const ok = r.success[0] ?? [];
    const queries = Array.from(r.queries ?? []);
    r.dispose();
    const robust = ok.filter((s) => !s).length / n;
    // The attack's own queries: the base adds one clean and one final check per sample.
    const own = queries.map((q) => q - 2);
    const fooled = own.filter((q, i) => ok[i] && q > 0);
    report(
      `Square Linf ε=0.3 on mnist-cnn (n=${n}, ≤${maxQueries} queries): robust accuracy ${(100 * robust).toFixed(1)} %, ` +
        `queries of the successful samples mean ${mean(fooled).toFixed(1)}, median ${median(fooled).toFixed(1)}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    expect(queries.reduce((a, b) => a + b, 0)).toBe(oracle.queries);
    expect(Math.max(...own)).toBeLessThanOrEqual(maxQueries);
    expect(robust).toBeLessThanOrEqual(0.1);
  });
});

describe('Chen et al. 2020: HopSkipJump L2 on MNIST from labels only', () => {
  it('succeeds on ≥ 90 % of mnist-cnn samples with median L2 < 3.0 within 1,500 label queries', { timeout: 600_000 }, async () => {
    const n = 10;
    const maxQueries = 1500;
    const xs = tf.slice(x, 0, n);
    const ys = tf.slice(y, 0, n);
    const oracle = toQueryModel(cnn.model, { output: 'label' });
    const t0 = Date.now();
    const r = await hopSkipJump({ maxQueries }).run(oracle, xs, { labels: ys }, { seed: 0 });
    const found = Array.from(r.distances).filter(Number.isFinite);
    const queries = Array.from(r.queries ?? []);
    r.dispose();
    tf.dispose([xs, ys]);
    report(
      `HopSkipJump L2 on mnist-cnn (n=${n}, ≤${maxQueries} label queries): success ${found.length}/${n}, ` +
        `median L2 ${median(found).toFixed(3)}, mean ${mean(found).toFixed(3)}; ${((Date.now() - t0) / 1000).toFixed(0)} s`,
    );
    expect(queries.reduce((a, b) => a + b, 0)).toBe(oracle.queries);
    // The base adds one clean and one final check per sample.
    expect(Math.max(...queries)).toBeLessThanOrEqual(maxQueries + 2);
    expect(found.length / n).toBeGreaterThanOrEqual(0.9);
    expect(median(found)).toBeLessThan(3);
  });
});
