/**
 * Checks shared by the estimated-gradient attack tests: the estimate of a quadratic's gradient, and
 * conformance plus query accounting of an attack on the seeded network.
 */
import { expect } from 'vitest';

import { Rng, toQueryModel, type Attack } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { gradientProbes, type EstimatorKind } from '../src/internal/estimated-steps.js';

import { checkQueryAccounting, strictQueryModel } from './black-box-fixtures.js';
import { net, netData } from './fixtures.js';

/** f(x) = Σ a_i x_i² + b_i x_i with seeded a, b on d = 10 coordinates, its gradient 2a_i x_i + b_i. */
const rng = new Rng(11);
const d = 10;
const a = Array.from({ length: d }, () => rng.normal());
const b = Array.from({ length: d }, () => rng.normal());
const x0 = Float32Array.from({ length: d }, () => 0.2 + 0.6 * rng.uniform());
const quadratic = (v: Float32Array) => v.reduce((s, vi, i) => s + (a[i] as number) * vi * vi + (b[i] as number) * vi, 0);
export const quadraticGradient = Array.from(x0, (xi, i) => 2 * (a[i] as number) * xi + (b[i] as number));

/** One estimate of the quadratic's gradient at x0 by `kind` with `samples` and radius `delta`. */
export function estimateQuadratic(kind: EstimatorKind, samples: number, delta: number, seed = 0): Float64Array {
  const probes = gradientProbes({ kind, samples, delta }, x0, [0, 1], new Rng(seed));
  expect(probes.points.length).toBe(2 * Math.min(samples, kind === 'finite-differences' ? d : Infinity));
  return probes.combine(probes.points.map(quadratic));
}

/** Cosine similarity of an estimate with the true gradient. */
export function cosineToTruth(g: ArrayLike<number>): number {
  let dot = 0;
  let gg = 0;
  let tt = 0;
  quadraticGradient.forEach((t, i) => {
    dot += t * (g[i] as number);
    gg += (g[i] as number) ** 2;
    tt += t * t;
  });
  return dot / Math.sqrt(gg * tt);
}

/**
 * Conformance (Linf on a scores query model; with `withL2`, also L2 on the white-box network — the
 * engine is shared, so one attack covers its L2 path), query accounting, and no logits access.
 */
export async function checkEstimatorAttack(make: (o: { norm: 'linf' | 'l2'; maxQueries: number }) => Attack, perStep: number, withL2 = false): Promise<void> {
  const { x, labels } = netData;
  const oracle = toQueryModel(net, { output: 'scores' });
  assertConformance(await checkAttack(make({ norm: 'linf', maxQueries: 800 }), { model: oracle, x, labels, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.9 }));
  if (withL2)
    assertConformance(await checkAttack(make({ norm: 'l2', maxQueries: 800 }), { model: net, x, labels, epsilons: [0.1, 0.5, 1.5], minSuccess: 0.9 }));
  const maxQueries = 3 * perStep + 1;
  const epsilons = [0.01, 0.3];
  const { queries } = await checkQueryAccounting(
    make({ norm: 'linf', maxQueries }),
    net,
    'scores',
    x,
    { labels },
    { epsilons },
    1 + epsilons.length * (maxQueries + 1),
  );
  // At ε = 0.01 no sample is broken: three whole steps there, and at least one step at ε = 0.3.
  for (const q of queries) expect(q).toBeGreaterThanOrEqual(1 + 3 * perStep + 1 + perStep + 1);
  const strict = strictQueryModel(net, 'scores');
  const r = await make({ norm: 'linf', maxQueries: 200 }).run(strict, x, { labels }, { epsilons: [0.3] });
  expect(r.success[0]?.some(Boolean)).toBe(true);
  r.dispose();
}
