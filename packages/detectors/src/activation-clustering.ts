import {
  checkNumber,
  defineFactory,
  deriveSeed,
  option,
  Rng,
  type Inspection,
  type Inspector,
  type LabeledData,
  type Model,
  type FactoryOptions,
} from '@advx/core';

import { INSPECTOR_OPTIONS, inspectData } from './internal/activations.js';
import { byClass, pca, rankDescending } from './internal/linalg.js';

const ACTIVATION_CLUSTERING_OPTIONS = {
  ...INSPECTOR_OPTIONS,
  dims: option.integer(10, 'dimensions kept by PCA before clustering (10: as in the paper)', { min: 1 }),
  maxRelativeSize: option.number(0.35, 'a class is poisoned when its smaller cluster holds at most this fraction of it', { min: 0, max: 0.5 }),
  minSilhouette: option.number(0.15, '...and the 2-means split has at least this mean silhouette', { min: -1, max: 1 }),
  restarts: option.integer(5, 'k-means runs from seeded k-means++ starts; the lowest inertia is kept', { min: 1 }),
};

const dist2 = (a: readonly number[], b: readonly number[]) => a.reduce((s, v, j) => s + (v - (b[j] as number)) ** 2, 0);

/** 2-means (Lloyd) from a k-means++ start; returns assignments, centroids and inertia. */
function twoMeans(z: readonly (readonly number[])[], rng: Rng): { assign: Int32Array; centroids: number[][]; inertia: number } {
  const n = z.length;
  const first = z[rng.int(n)] as number[];
  const d0 = z.map((r) => dist2(r, first));
  const total = d0.reduce((s, v) => s + v, 0);
  let pick = rng.uniform() * total;
  let second = 0;
  while (second < n - 1 && pick >= (d0[second] as number)) pick -= d0[second++] as number;
  let centroids = [[...first], [...(z[second] as number[])]];
  const assign = new Int32Array(n);
  for (let iter = 0; iter < 100; iter++) {
    let changed = iter === 0;
    z.forEach((r, i) => {
      const a = dist2(r, centroids[0] as number[]) <= dist2(r, centroids[1] as number[]) ? 0 : 1;
      if (a !== assign[i]) changed = true;
      assign[i] = a;
    });
    const sums = [0, 1].map(() => new Array<number>(z[0]?.length ?? 0).fill(0));
    const counts = [0, 0];
    z.forEach((r, i) => {
      const a = assign[i] as number;
      counts[a] = (counts[a] as number) + 1;
      r.forEach((v, j) => ((sums[a] as number[])[j] = ((sums[a] as number[])[j] as number) + v));
    });
    centroids = centroids.map((c, a) => ((counts[a] as number) > 0 ? (sums[a] as number[]).map((v) => v / (counts[a] as number)) : c));
    if (!changed) break;
  }
  const inertia = z.reduce((s, r, i) => s + dist2(r, centroids[assign[i] as number] as number[]), 0);
  return { assign, centroids, inertia };
}

/** Mean silhouette of a 2-cluster assignment (Rousseeuw 1987). */
function silhouette(z: readonly (readonly number[])[], assign: Int32Array): number {
  const n = z.length;
  let total = 0;
  const size = [0, 0];
  for (const a of assign) size[a] = (size[a] as number) + 1;
  if (!size[0] || !size[1]) return 0;
  for (let i = 0; i < n; i++) {
    const sum = [0, 0];
    for (let j = 0; j < n; j++)
      if (j !== i) sum[assign[j] as number] = (sum[assign[j] as number] as number) + Math.sqrt(dist2(z[i] as number[], z[j] as number[]));
    const own = assign[i] as number;
    if ((size[own] as number) <= 1) continue;
    const a = (sum[own] as number) / ((size[own] as number) - 1);
    const b = (sum[1 - own] as number) / (size[1 - own] as number);
    total += (b - a) / Math.max(a, b, 1e-12);
  }
  return total / n;
}

/**
 * Activation clustering: per class, the features are reduced to `dims` dimensions (PCA) and split
 * by 2-means. A backdoored class mixes two populations (genuine samples and relabelled triggered
 * ones), so it splits into a large and a small, well separated cluster; a clean class splits into
 * two comparable halves. A class is declared poisoned when its smaller cluster holds at most
 * `maxRelativeSize` of it and the split's mean silhouette is at least `minSilhouette`; the samples
 * of that small cluster are flagged. Each sample's score is its relative closeness to its class's
 * smaller centroid, `(d_large − d_small)/(d_large + d_small)` in [−1, 1] (positive: in the small
 * cluster).
 *
 * Paper: Bryant Chen, Wilka Carvalho, Nathalie Baracaldo, Heiko Ludwig, Benjamin Edwards, Taesung
 * Lee, Ian Molloy, Biplav Srivastava (2018), "Detecting Backdoor Attacks on Deep Neural Networks by
 * Activation Clustering", {@link https://arxiv.org/abs/1811.03728}. The paper reduces with ICA;
 * this implementation uses PCA.
 *
 * Threat model: dataset inspection of a model trained on possibly poisoned data (white-box features).
 *
 * Options: {@link activationClustering}.schema (each declared once, with its default, range and
 * doc). The k-means starts follow `inspect`'s `seed` (default 0).
 *
 * <!-- options:activation-clustering -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `features` | a function x → [n, d] | null | features to inspect, x → [n, d] (or any shape, flattened per sample): the paper's choice is the model's penultimate-layer activations, e.g. layerFeatures(layersModel, 'dense2') (none: the model's logits (weaker: a backdoor is usually far clearer in the penultimate layer)) |
 * | `batchSize` | integer in [1, ∞) | 256 | samples per forward pass |
 * | `dims` | integer in [1, ∞) | 10 | dimensions kept by PCA before clustering (10: as in the paper) |
 * | `maxRelativeSize` | number in [0, 0.5] | 0.35 | a class is poisoned when its smaller cluster holds at most this fraction of it |
 * | `minSilhouette` | number in [-1, 1] | 0.15 | ...and the 2-means split has at least this mean silhouette |
 * | `restarts` | integer in [1, ∞) | 5 | k-means runs from seeded k-means++ starts; the lowest inertia is kept |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * const inspector = activationClustering({ features: layerFeatures(layers, 'dense2') });
 * const { flagged } = await inspector.inspect(model, { x, y }, { seed: 0 });
 * ```
 * @public
 */
export const activationClustering = defineFactory('activationClustering', ACTIVATION_CLUSTERING_OPTIONS, (options): Inspector => {
  const { dims, maxRelativeSize, minSilhouette, restarts } = options;
  return Object.freeze({
    name: 'activation-clustering',
    async inspect(model: Model, data: LabeledData, inspectOptions: { seed?: number } = {}): Promise<Inspection> {
      const seed = checkNumber('activationClustering: seed', inspectOptions?.seed ?? 0, -Infinity, Infinity);
      const { labels, features } = await inspectData('activationClustering', model, data, options);
      const scores = new Float32Array(labels.length);
      const flagged: number[] = [];
      for (const [label, members] of byClass(labels)) {
        if (members.length < 3) continue;
        const z = pca(
          members.map((i) => features[i] as number[]),
          Math.min(dims, members.length - 1),
        );
        let best: ReturnType<typeof twoMeans> | undefined;
        for (let r = 0; r < restarts; r++) {
          const run = twoMeans(z, new Rng(deriveSeed(seed, label, r)));
          if (!best || run.inertia < best.inertia) best = run;
        }
        const { assign, centroids } = best as ReturnType<typeof twoMeans>;
        const ones = assign.reduce((s, a) => s + a, 0);
        const small = ones <= members.length - ones ? 1 : 0;
        const relativeSize = Math.min(ones, members.length - ones) / members.length;
        members.forEach((i, m) => {
          const ds = Math.sqrt(dist2(z[m] as number[], centroids[small] as number[]));
          const dl = Math.sqrt(dist2(z[m] as number[], centroids[1 - small] as number[]));
          scores[i] = (dl - ds) / Math.max(dl + ds, 1e-12);
        });
        if (relativeSize > maxRelativeSize || relativeSize === 0) continue;
        if (silhouette(z, assign) < minSilhouette) continue;
        members.forEach((i, m) => assign[m] === small && flagged.push(i));
      }
      return { scores, flagged: rankDescending(scores, flagged) };
    },
  });
});

/**
 * Options of {@link activationClustering}.
 *
 * @public
 */
export type ActivationClusteringOptions = FactoryOptions<typeof activationClustering>;
