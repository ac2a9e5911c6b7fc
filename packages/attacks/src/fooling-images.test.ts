import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { BatchRng, fromFunction, Rng, toQueryModel, type Model, type Progress } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { expectCode } from '../test/fixtures.js';

import { foolingImages, type FoolingImagesOptions } from './fooling-images.js';

// A 4-input, 3-class linear model on [−1, 1]. With u = 2x₀ − 2x₁ + x₂ − x₃: z = [u, −u, 1].
// For target 0, ∇x log softmax₀ = p₁(w₀ − w₁) + p₂(w₀ − w₂) = (2p₁ + p₂)·[2, −2, 1, −1]: its sign is
// always s = [1, −1, 1, −1], so every step moves x by 0.02·s (clipped), u never decreases and p₀
// rises monotonically, up to 1/(1 + e⁻¹² + e⁻⁵) ≈ 0.9933 at the corner s (u = 6). Target 1 is the
// mirror image (sign −s). Target 2 is unreachable at 0.9: p₂ = e/(e + e^u + e^−u) ≤ e/(e + 2) ≈ 0.5761.
const W = [
  [2, -2, 1, -1],
  [-2, 2, -1, 1],
  [0, 0, 0, 0],
];
const bias = [0, 0, 1];
const linear = linearModel({ weights: W, bias, bounds: [-1, 1] });
const P2_MAX = Math.E / (Math.E + 2);

function softmaxOf(row: readonly number[], t: number): number {
  const z = W.map((w, c) => w.reduce((s, wj, j) => s + wj * row[j]!, bias[c]!));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  return e[t]! / e.reduce((s, v) => s + v, 0);
}

/** A 2-layer ReLU MLP with fixed seeded weights: 16 inputs on [0, 1], 4 classes. */
function mlp(seed: number): Model {
  const d = 16;
  const h = 16;
  const c = 4;
  const rng = new Rng(seed);
  const w1 = tf.keep(
    tf.tensor2d(
      Array.from({ length: d * h }, () => rng.normal()),
      [d, h],
    ),
  );
  const w2 = tf.keep(
    tf.tensor2d(
      Array.from({ length: h * c }, () => rng.normal()),
      [h, c],
    ),
  );
  return fromFunction((x) => tf.matMul(tf.relu(tf.matMul(x as tf.Tensor2D, w1)), w2) as tf.Tensor2D, {
    inputShape: [d],
    numClasses: c,
    bounds: [0, 1],
    output: 'logits',
  });
}

const targets = tf.tensor1d([0, 1, 0, 1, 2], 'int32');
afterAll(() => targets.dispose());

async function grow(model: Model, options: FoolingImagesOptions) {
  const r = await foolingImages(model, options);
  const images = (await tf.reshape(r.images, [r.images.shape[0] as number, -1]).array()) as number[][];
  r.dispose();
  return { ...r, images };
}

describe('foolingImages on a linear model (closed form)', () => {
  it('starts from seeded uniform noise in the bounds (per-sample streams of BatchRng)', async () => {
    const r = await grow(linear, { targets, steps: 0, seed: 4 });
    const noise = new BatchRng(4, 0, 5).uniform([5, 4], -1, 1);
    expect(r.images).toEqual(await noise.array());
    noise.dispose();
    r.images.forEach((row, i) => expect(r.confidence[i]).toBeCloseTo(softmaxOf(row, targets.arraySync()[i]!), 5));
    expect(Array.from(r.steps)).toEqual([0, 0, 0, 0, 0]);
  });

  it('one step moves every element by stepSize·(high − low)·sign(∇ log softmax_t), clipped', async () => {
    const r0 = await grow(linear, { targets, steps: 0, seed: 1 });
    const r1 = await grow(linear, { targets, steps: 1, seed: 1, stepSize: 0.05 });
    const s = [1, -1, 1, -1];
    [0, 1, 2, 3].forEach((i) => {
      const dir = targets.arraySync()[i] === 0 ? 1 : -1;
      r1.images[i]!.forEach((v, j) => expect(v).toBeCloseTo(Math.min(1, Math.max(-1, r0.images[i]![j]! + 0.1 * dir * s[j]!)), 6));
    });
    expect(Array.from(r1.steps)).toEqual([1, 1, 1, 1, 1]);
  });

  it('the target confidence rises monotonically, step by step, for targets 0 and 1', async () => {
    const trace: number[][] = [];
    for (let k = 0; k <= 12; k++) {
      const r = await grow(linear, { targets, steps: k, seed: 2, stepSize: 0.02, confidence: 1 });
      trace.push(Array.from(r.confidence));
    }
    for (let i = 0; i < 4; i++) {
      for (let k = 1; k < trace.length; k++) expect(trace[k]![i]!).toBeGreaterThan(trace[k - 1]![i]!);
    }
  });

  it('reaches the requested confidence for reachable targets and stops there; the unreachable one runs all steps', async () => {
    const r = await grow(linear, { targets, steps: 150, stepSize: 0.01, confidence: 0.9, seed: 3 });
    expect(r.reached).toEqual([true, true, true, true, false]);
    for (let i = 0; i < 4; i++) {
      expect(r.confidence[i]).toBeGreaterThanOrEqual(0.9);
      expect(r.steps[i]).toBeGreaterThan(0);
      expect(r.steps[i]).toBeLessThan(150);
      expect(r.confidence[i]).toBeCloseTo(softmaxOf(r.images[i]!, targets.arraySync()[i]!), 5);
    }
    expect(r.confidence[4]).toBeLessThanOrEqual(P2_MAX + 1e-6);
    expect(r.steps[4]).toBe(150);
    // It stops at the first step that reaches 0.9 (one step fewer is below) and stays there: the
    // image is the steps[0]-th iterate of an unstopped run.
    const before = await grow(linear, { targets, steps: r.steps[0]! - 1, stepSize: 0.01, confidence: 0.9, seed: 3 });
    expect(before.confidence[0]).toBeLessThan(0.9);
    const unstopped = await grow(linear, { targets, steps: r.steps[0]!, stepSize: 0.01, confidence: 1, seed: 3 });
    expect(r.images[0]).toEqual(unstopped.images[0]);
    expect(before.images.flat().every((v) => v >= -1 && v <= 1)).toBe(true);
    expect(r.images.flat().every((v) => v >= -1 && v <= 1)).toBe(true);
  });

  it('is deterministic under a seed, differs across seeds, and does not depend on how many images are grown', async () => {
    const a = await grow(linear, { targets, steps: 20, seed: 9 });
    const b = await grow(linear, { targets, steps: 20, seed: 9 });
    const c = await grow(linear, { targets, steps: 20, seed: 10 });
    expect(b.images).toEqual(a.images);
    expect(Array.from(b.confidence)).toEqual(Array.from(a.confidence));
    expect(c.images).not.toEqual(a.images);
    const first = tf.tensor1d([0, 1], 'int32');
    const two = await grow(linear, { targets: first, steps: 20, seed: 9 });
    first.dispose();
    expect(two.images).toEqual(a.images.slice(0, 2));
  });

  it('grows from a given start, leaving it alive', async () => {
    const start = tf.tensor2d([
      [0, 0, 0, 0],
      [0.5, -0.5, 0.2, 0.1],
    ]);
    const t = tf.tensor1d([0, 1], 'int32');
    const r = await grow(linear, { targets: t, start, steps: 1, stepSize: 0.1 });
    expect(r.images[0]!.map((v) => +v.toFixed(6))).toEqual([0.2, -0.2, 0.2, -0.2]);
    expect(r.images[1]!.map((v) => +v.toFixed(6))).toEqual([0.3, -0.3, 0, 0.3]);
    expect(start.isDisposed).toBe(false);
    tf.dispose([start, t]);
  });
});

describe('foolingImages on a 2-layer MLP', () => {
  it('reaches 0.9 for every class from noise', async () => {
    const net = mlp(5);
    const all = tf.tensor1d([0, 1, 2, 3], 'int32');
    const noise = await grow(net, { targets: all, steps: 0 });
    const r = await grow(net, { targets: all, steps: 200, stepSize: 0.01, confidence: 0.9 });
    all.dispose();
    expect(Math.max(...noise.confidence)).toBeLessThan(0.9);
    expect(r.reached).toEqual([true, true, true, true]);
    r.confidence.forEach((p, i) => expect(p).toBeGreaterThan(noise.confidence[i]!));
    expect(r.images.flat().every((v) => v >= 0 && v <= 1)).toBe(true);
  });
});

describe('foolingImages contract', () => {
  it('leaks no tensor', async () => {
    await grow(linear, { targets, steps: 3 });
    const before = tf.memory().numTensors;
    const r = await foolingImages(linear, { targets, steps: 30 });
    expect(tf.memory().numTensors).toBe(before + 1);
    r.dispose();
    r.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('aborts with ABORTED, before and during the run, leaking nothing', async () => {
    const pre = new AbortController();
    pre.abort();
    await expectCode('ABORTED', () => foolingImages(linear, { targets, signal: pre.signal }));
    const mid = new AbortController();
    const seen: Progress[] = [];
    await expectCode('ABORTED', () =>
      foolingImages(linear, {
        targets,
        steps: 50,
        confidence: 1,
        signal: mid.signal,
        onProgress: (p) => {
          seen.push(p);
          if (p.step === 3) mid.abort();
        },
      }),
    );
    expect(seen.map((p) => p.step)).toEqual([0, 1, 2, 3]);
  });

  it('reports progress up to 1', async () => {
    const seen: number[] = [];
    await grow(linear, { targets, steps: 5, confidence: 1, onProgress: (p) => seen.push(p.fraction) });
    expect(seen).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('rejects bad targets, options, starts and models with AdvxError codes', async () => {
    const outOfRange = tf.tensor1d([0, 3], 'int32');
    const negative = tf.tensor1d([-1], 'int32');
    const fractional = tf.tensor1d([0.5]);
    const matrix = tf.tensor2d([[0]], [1, 1], 'int32');
    const start = tf.zeros([2, 4]);
    const outside = tf.fill([1, 4], 2);
    const one = tf.tensor1d([0], 'int32');
    try {
      await expectCode('LABEL_OUT_OF_RANGE', () => foolingImages(linear, { targets: outOfRange }));
      await expectCode('LABEL_OUT_OF_RANGE', () => foolingImages(linear, { targets: negative }));
      await expectCode('LABEL_OUT_OF_RANGE', () => foolingImages(linear, { targets: fractional as tf.Tensor1D }));
      await expectCode('INVALID_SHAPE', () => foolingImages(linear, { targets: matrix as unknown as tf.Tensor1D }));
      await expectCode('BATCH_MISMATCH', () => foolingImages(linear, { targets: one, start }));
      await expectCode('OUT_OF_BOUNDS', () => foolingImages(linear, { targets: one, start: outside }));
      await expectCode('INVALID_OPTION', () => foolingImages(linear, { targets: one, steps: -1 }));
      await expectCode('INVALID_OPTION', () => foolingImages(linear, { targets: one, stepSize: 0 }));
      await expectCode('INVALID_OPTION', () => foolingImages(linear, { targets: one, confidence: 1.5 }));
      await expectCode('INVALID_OPTION', () => foolingImages(linear, { targets: one, seed: Number.NaN }));
      await expectCode('INVALID_OPTION', () => foolingImages(linear, { targets: one, epsilon: 1 } as FoolingImagesOptions));
      await expect(foolingImages(linear, { targets: one, steps: -1 })).rejects.toThrow('foolingImages: steps must be an integer in [0, ∞), got -1.');
      await expect(foolingImages(linear, { targets: one, stepSize: 0 })).rejects.toThrow('foolingImages: stepSize must be a finite number in (0, 1], got 0.');
      await expect(foolingImages(linear, { targets: one, epsilon: 1 } as FoolingImagesOptions)).rejects.toThrow("foolingImages: unknown option 'epsilon'.");
      await expect(foolingImages(linear, {} as FoolingImagesOptions)).rejects.toThrow("foolingImages: option 'targets' is required");
      await expectCode('UNSUPPORTED_MODEL', () => foolingImages(toQueryModel(linear, { output: 'scores' }) as unknown as Model, { targets: one }));
    } finally {
      tf.dispose([outOfRange, negative, fractional, matrix, start, outside, one]);
    }
  });
});
