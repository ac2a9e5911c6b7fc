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

import { square } from '../src/index.js';

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
