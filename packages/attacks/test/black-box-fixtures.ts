/**
 * Fixtures of the score- and decision-based attack tests: an image-shaped seeded network, a query
 * model that refuses every access but `query` and its metadata, and the query-accounting check.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

import { fromFunction, toQueryModel, type Attack, type Goal, type Model, type QueryModel, type QueryOutput, type RunOptions } from '@advx/core';

import { net, netData } from './fixtures.js';

/** The 16 → 12 → 4 network of `fixtures.ts` taking 4×4×1 images. */
export const imageNet: Model = fromFunction((x) => net.logits(tf.reshape(x, [-1, 16])), {
  inputShape: [4, 4, 1],
  numClasses: 4,
  bounds: [0, 1],
  output: 'logits',
});
/** `netData` as 4×4×1 images (labelled by the network). */
export const imageNetData = { x: tf.reshape(netData.x, [8, 4, 4, 1]) as tf.Tensor4D, labels: netData.labels };

const ALLOWED = new Set<PropertyKey>(['kind', 'inputShape', 'numClasses', 'bounds', 'output', 'budget', 'queries', 'query']);

/**
 * A query model over `model` that throws on any property access other than `query` and the
 * metadata (`kind`, `inputShape`, `numClasses`, `bounds`, `output`, `budget`, `queries`): an attack
 * that reaches for logits or gradients fails.
 */
export function strictQueryModel(model: Model, output: QueryOutput, budget = Infinity): QueryModel & { readonly touched: ReadonlySet<PropertyKey> } {
  const inner = toQueryModel(model, { output, budget });
  const touched = new Set<PropertyKey>();
  const proxy = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'touched') return touched;
      touched.add(key);
      if (!ALLOWED.has(key)) throw new Error(`black-box attack accessed '${String(key)}' of a query-only model`);
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  return proxy as unknown as QueryModel & { readonly touched: ReadonlySet<PropertyKey> };
}

/**
 * Runs `attack` on a budgeted query model and checks the accounting: the result's per-sample counts
 * sum to the model's own count, no sample exceeds `perSampleLimit`, and the budget holds. Returns
 * the result (the caller disposes it) and the counts.
 */
export async function checkQueryAccounting(
  attack: Attack,
  model: Model,
  output: QueryOutput,
  x: tf.Tensor,
  goal: Goal,
  run: RunOptions,
  perSampleLimit: number,
): Promise<{ queries: Int32Array; total: number }> {
  const n = x.shape[0] as number;
  const budget = n * perSampleLimit;
  const oracle = toQueryModel(model, { output, budget });
  const before = tf.memory().numTensors;
  const result = await attack.run(oracle, x, goal, run);
  const queries = Int32Array.from(result.queries ?? []);
  result.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(queries.length).toBe(n);
  const total = queries.reduce((s, q) => s + q, 0);
  expect(total).toBe(oracle.queries);
  expect(oracle.queries).toBeLessThanOrEqual(budget);
  for (const q of queries) expect(q).toBeLessThanOrEqual(perSampleLimit);
  return { queries, total };
}
