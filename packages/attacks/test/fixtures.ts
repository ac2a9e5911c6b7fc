/**
 * Fixtures shared by the attack tests: small seeded models whose answers are known or checkable.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

import { fromFunction, isAdvxError, Rng, type AdvxErrorCode, type Model, type NormName } from '@advx/core';
import { linearModel, mlpModel, selfLabeledData } from '@advx/core/testing';

/** A 16 → 12 → 4 ReLU network with seeded weights and 8 inputs labelled by it (clean accuracy 100 %). */
export const net = mlpModel({ seed: 2, inputs: 16, hidden: 12, classes: 4 });
export const netData = selfLabeledData(net, 2, 8) as { x: tf.Tensor2D; labels: tf.Tensor1D };

/** Binary logistic regression `z = w·x + b` as logits `[−z/2, z/2]` (class 1 ⇔ z > 0). */
export const logisticRegression = (() => {
  const w = [0.8, -1.2, 0.5, -0.3, 1.5, -0.7];
  const b = 0.1;
  return {
    w,
    b,
    model: linearModel({ weights: [w.map((v) => -v / 2), w.map((v) => v / 2)], bias: [-b / 2, b / 2] }),
    /** The logit `z` of a sample. */
    z: (row: readonly number[]) => row.reduce((s, v, j) => s + v * (w[j] as number), b),
    wL1: w.reduce((s, v) => s + Math.abs(v), 0),
    wL2: Math.sqrt(w.reduce((s, v) => s + v * v, 0)),
  };
})();

/**
 * JSMA's closed-form case (src/jsma.test.ts works out its saliency pairs by hand): a 6-feature,
 * 3-class linear model on [0, 1] whose class 0 needs 4 raised features from x = 0, and the four
 * inputs of its conformance run.
 */
export const jsmaLinear = (() => {
  const weights = [
    [2, 1, 0.5, 3, 1.5, 0],
    [-1, 0, -1, 1, -2, 0.5],
    [0, -1, 0, 0.5, 0, -1],
  ];
  const bias = [-4, 1, 0.5];
  return {
    weights,
    bias,
    model: linearModel({ weights, bias }),
    conformanceRows: [
      [0, 0, 0, 0, 0, 0],
      [0.1, 0, 0.2, 0, 0, 0.1],
      [0, 0.1, 0, 0.1, 0, 0],
      [0.2, 0.2, 0, 0, 0.1, 0],
    ],
  };
})();

/** The index of the largest value of `z` (the first one on ties). */
export function argmax(z: readonly number[]): number {
  return z.reduce((best, v, i) => (v > (z[best] as number) ? i : best), 0);
}

/** The class of the largest logit of `z` other than class `y`; with `y` the predicted class (the default), the runner-up. */
export function runnerUp(z: readonly number[], y = argmax(z)): number {
  return argmax(z.map((v, k) => (k === y ? -Infinity : v)));
}

/**
 * The closed-form case of the minimization attacks (the tests of C&W-L2, DDN, DeepFool, EAD, FAB and
 * FMN): a 6-input, 4-class linear model on [0, 1] without bias, and six points (one or more per class)
 * whose minimal perturbations stay inside the bounds (`inside` checks it), so that the closed-form
 * distances below apply. Distances are in the attack norm; `row` is one sample as a plain array.
 */
export const fourClassLinear = (() => {
  const weights = [
    [1, 0, 0, -0.5, 0, 0.5],
    [0, 1, 0, 0, -0.5, 0],
    [0, 0, 1, 0.5, 0, -0.5],
    [-0.5, 0, 0, 1, 0.5, 0],
  ];
  const xs = [
    [0.7, 0.4, 0.45, 0.4, 0.5, 0.5],
    [0.4, 0.8, 0.5, 0.45, 0.35, 0.5],
    [0.45, 0.4, 0.7, 0.5, 0.5, 0.4],
    [0.4, 0.45, 0.5, 0.7, 0.45, 0.5],
    [0.6, 0.75, 0.4, 0.45, 0.55, 0.6],
    [0.45, 0.5, 0.6, 0.55, 0.5, 0.4],
  ];
  const logits = (row: readonly number[]) => weights.map((w) => w.reduce((s, wj, j) => s + wj * (row[j] as number), 0));
  const label = (row: readonly number[]) => argmax(logits(row));
  /** w_a − w_b. */
  const diff = (a: number, b: number) => (weights[a] as number[]).map((v, j) => v - (weights[b] as number[])[j]!);

  /**
   * The smallest perturbation of `row` (in `norm`, inside [0, 1]^6) that makes class a's logit reach
   * class b's, 0 where it already does: the margin m = max(0, z_b − z_a) must be covered by Σ_j |u_j|·t_j
   * with u = w_a − w_b and t_j ≤ c_j, the room of coordinate j in the direction sign(u_j).
   * - l2: m/‖u‖₂ along u (the box must not bind: checked by `inside`).
   * - linf: m/‖u‖₁ with every moved coordinate at ±t; throws where the box binds (t > c_j).
   * - l1: a fractional knapsack — fill the coordinates in order of |u_j| (exact with the box).
   * - l0: the fewest coordinates, each moved to its bound, in order of |u_j|·c_j, whose gains exceed m.
   */
  function halfSpace(row: readonly number[], a: number, b: number, norm: NormName): number {
    const z = logits(row);
    const m = Math.max(0, (z[b] as number) - (z[a] as number));
    const u = diff(a, b);
    const room = u.map((v, j) => (v > 0 ? 1 - (row[j] as number) : (row[j] as number)));
    if (norm === 'l2') return m / Math.hypot(...u);
    if (norm === 'linf') {
      const t = m / u.reduce((s, v) => s + Math.abs(v), 0);
      u.forEach((v, j) => {
        if (v !== 0 && t > (room[j] as number)) throw new Error(`the box binds for row ${row.join()}, classes ${a} and ${b}`);
      });
      return t;
    }
    const order = u.map((_, j) => j).filter((j) => u[j] !== 0);
    if (norm === 'l1') {
      order.sort((p, q) => Math.abs(u[q] as number) - Math.abs(u[p] as number));
      let left = m;
      let cost = 0;
      for (const j of order) {
        const t = Math.min(room[j] as number, left / Math.abs(u[j] as number));
        cost += t;
        left -= t * Math.abs(u[j] as number);
        if (left <= 1e-12) return cost;
      }
      return Infinity;
    }
    const gains = order.map((j) => Math.abs(u[j] as number) * (room[j] as number)).sort((p, q) => q - p);
    let total = 0;
    for (let c = 0; c < gains.length; c++) {
      total += gains[c] as number;
      if (total > m) return c + 1;
    }
    return Infinity;
  }
  /** The smallest perturbation of `row` that makes class k's logit reach the predicted class's (see `halfSpace`). */
  const toClass = (row: readonly number[], k: number, norm: NormName) => halfSpace(row, k, label(row), norm);
  /** Distances of `row` to every other class (`Infinity` for its own class). */
  const perClass = (row: readonly number[], norm: NormName) => {
    const y = label(row);
    return weights.map((_, k) => (k === y ? Infinity : toClass(row, k, norm)));
  };
  /** The exact minimal distance of `row` to a misclassification: the closest other class. */
  const exactDistance = (row: readonly number[], norm: NormName) => Math.min(...perClass(row, norm));
  /**
   * Whether the minimal step of `row` towards class k without the box, lengthened by `scale`, stays
   * inside [0, 1]: l2 along u = w_k − w_y, linf ±t on every coordinate with u_j ≠ 0, l1 only the
   * (first) coordinate of the largest |u_j|, where the l1 distance is then m/‖u‖_∞.
   */
  function inside(row: readonly number[], k: number, norm: 'l2' | 'linf' | 'l1', scale = 1): boolean {
    const u = diff(k, label(row));
    const t = toClass(row, k, norm) * scale;
    const top = Math.max(...u.map(Math.abs));
    const moved = u.findIndex((v) => Math.abs(v) === top);
    const step = u.map((v, j) => (norm === 'l2' ? (t * v) / Math.hypot(...u) : norm === 'linf' || j === moved ? t * Math.sign(v) : 0));
    return row.every((v, j) => v + (step[j] as number) >= 0 && v + (step[j] as number) <= 1);
  }
  return {
    weights,
    xs,
    model: linearModel({ weights }),
    /** The six points as a tensor, and the labels the model gives them. */
    x: tf.tensor2d(xs),
    labels: tf.tensor1d(xs.map(label), 'int32'),
    /** The logits of a sample, in float64. */
    logits,
    /** The predicted class of a sample. */
    label,
    halfSpace,
    toClass,
    perClass,
    exactDistance,
    inside,
  };
})();

/** A 2-layer ReLU network 16 → 32 → 5 with seeded weights; `scale` multiplies its logits. */
export function seededMlp(seed: number, scale = 1): Model {
  const rng = new Rng(seed);
  const normals = (k: number, s: number) => Array.from({ length: k }, () => rng.normal() * s);
  const w1 = tf.keep(tf.tensor2d(normals(16 * 32, 1.5), [16, 32]));
  const b1 = tf.keep(tf.tensor1d(normals(32, 0.5)));
  const w2 = tf.keep(tf.tensor2d(normals(32 * 5, scale), [32, 5]));
  return fromFunction((x) => tf.matMul(tf.relu(tf.add(tf.matMul(x as tf.Tensor2D, w1), b1)), w2) as tf.Tensor2D, {
    inputShape: [16],
    numClasses: 5,
    bounds: [0, 1],
    output: 'logits',
  });
}

/** 12 seeded inputs labelled by `model`, except row 11, which gets a wrong label (adversarial without perturbation). */
export function mislabelledBatch(model: Model): { x: tf.Tensor2D; labels: tf.Tensor1D } {
  const rng = new Rng(7);
  const x = tf.tensor2d(
    Array.from({ length: 12 * 16 }, () => rng.uniform()),
    [12, 16],
  );
  const labels = tf.tidy(() => {
    const pred = tf.argMax(model.logits(x), 1);
    return tf.where(tf.equal(tf.range(0, 12, 1, 'int32'), 11), tf.fill([12], 0, 'int32'), tf.cast(pred, 'int32')) as tf.Tensor1D;
  });
  return { x, labels };
}

/** A 2-layer ReLU network `x − ½ → relu(W₁·+b₁) → W₂·` with 1/√fan-in weights drawn from `new Rng(seed)`. */
export function unitScaleMlp(seed: number, d: number, h: number, c: number): Model {
  const rng = new Rng(seed);
  const w1 = tf.keep(
    tf.tensor2d(
      Array.from({ length: d * h }, () => rng.normal() / Math.sqrt(d)),
      [d, h],
    ),
  );
  const b1 = tf.keep(tf.tensor1d(Array.from({ length: h }, () => rng.normal() * 0.2)));
  const w2 = tf.keep(
    tf.tensor2d(
      Array.from({ length: h * c }, () => rng.normal() / Math.sqrt(h)),
      [h, c],
    ),
  );
  return fromFunction((x) => tf.matMul(tf.relu(tf.add(tf.matMul(tf.sub(tf.reshape(x, [-1, d]), 0.5), w1), b1)), w2) as tf.Tensor2D, {
    inputShape: [d],
    numClasses: c,
    bounds: [0, 1],
    output: 'logits',
  });
}

/** `n` rows drawn uniformly from [0, 1]^d by `new Rng(seed)`. */
export function uniformRows(seed: number, n: number, d: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.uniform()));
}

/**
 * The minimum-norm attacks' nonlinear case: {@link unitScaleMlp}(3, 16, 16, 4) and eight uniform inputs
 * (`uniformRows(7, 8, 16)`) labelled by it.
 */
export const reluNet = (() => {
  const model = unitScaleMlp(3, 16, 16, 4);
  const x = tf.tensor2d(uniformRows(7, 8, 16));
  const labels = tf.tidy(() => tf.cast(tf.argMax(model.logits(x), 1), 'int32') as tf.Tensor1D);
  return { model, x, labels };
})();

/** The median of `values` (the mean of the two middle ones for an even count). */
export function median(values: ArrayLike<number>): number {
  const s = Array.from(values).sort((a, b) => a - b);
  return ((s[(s.length - 1) >> 1] as number) + (s[s.length >> 1] as number)) / 2;
}

/** The AdvxError code `f` throws (`'no error'` if none; the message of any other error). */
export function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return isAdvxError(e) ? e.code : String(e);
  }
  return 'no error';
}

/** Rows of a tensor as plain arrays, each sample flattened. */
export async function rows(t: tf.Tensor): Promise<number[][]> {
  const flat = tf.reshape(t, [t.shape[0] ?? 1, -1]);
  const out = (await flat.array()) as number[][];
  flat.dispose();
  return out;
}

/** Largest absolute difference between two tensors. */
export async function maxDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const [v] = await d.data();
  d.dispose();
  return v as number;
}

/** Expects `fn` to throw an AdvxError with `code` (disposing any result it returns) and to leak no tensor. */
export async function expectCode(code: AdvxErrorCode, fn: () => unknown): Promise<void> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    ((await fn()) as { dispose?: () => void } | undefined)?.dispose?.();
  } catch (e) {
    caught = e;
  }
  expect(isAdvxError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
}

/** A seeded ReLU network on 8×8 gray images (64 → 24 → 4), and the flat network behind it. */
export const imageMlp = (() => {
  const flat = mlpModel({ seed: 3, inputs: 64, hidden: 24, classes: 4 });
  const model = fromFunction((x) => flat.logits(tf.reshape(x, [-1, 64])), { inputShape: [8, 8, 1], numClasses: 4, bounds: [0, 1], output: 'logits' });
  return { flat, model };
})();

/** Two classes on 6×6 images in [0, 1]: class 1 scores the sum of the pixels minus 18, class 0 scores 0. */
export const brightnessModel = fromFunction(
  (x) => tf.concat([tf.zeros([x.shape[0] as number, 1]), tf.sub(tf.sum(tf.reshape(x, [-1, 36]), 1, true), 18)], 1) as tf.Tensor2D,
  { inputShape: [6, 6, 1], numClasses: 2, bounds: [0, 1], output: 'logits' },
);

/** A 3-class linear oracle on [0, 1]^8 whose classes tie at the centre (the substitute-training tests' oracle). */
export const substituteOracle = (() => {
  const weights = Array.from({ length: 3 }, (_, c) => Array.from({ length: 8 }, (_, j) => Math.sin(1.3 * (c + 1) * (j + 1))));
  return { weights, model: linearModel({ weights, bias: weights.map((w) => -0.5 * w.reduce((sum, v) => sum + v, 0)) }) };
})();

/** `n` seeded uniform rows of [0, 1]^8, for {@link substituteOracle}. */
export function uniformBatch(seed: number, n: number): tf.Tensor2D {
  const rng = new Rng(seed);
  return tf.tensor2d(
    Float32Array.from({ length: n * 8 }, () => rng.uniform()),
    [n, 8],
  );
}
