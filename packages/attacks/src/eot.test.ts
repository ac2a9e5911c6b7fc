import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { fromFunction, isAdvxError, toQueryModel, type AdvxError } from '@advx/core';
import { assertConformance, checkAttack, selfLabeledData } from '@advx/core/testing';

import { brightnessModel, expectCode, imageMlp, maxDiff } from '../test/fixtures.js';

import { eot, evaluateUnderTransforms, sampleTransforms, transformImages, type TransformParams } from './eot.js';
import { pgd } from './pgd.js';

const identity: TransformParams = { rotation: 0, scale: 1, translation: [0, 0], blur: 0, contrast: 1, brightness: 0, noise: 0, noiseSeed: 0 };

/** A `[1, H, W, 1]` image with pixel (i, j) = (i·W + j + 1) / (H·W + 1). */
function ramp(H: number, W: number): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.reshape(tf.range(1, H * W + 1), [1, H, W, 1]), H * W + 1) as tf.Tensor4D);
}

async function grid(t: tf.Tensor): Promise<number[][]> {
  const g = tf.squeeze(t);
  const out = (await g.array()) as number[][];
  g.dispose();
  return out;
}

const { flat, model: imageNet } = imageMlp;

describe('transformImages: each transformation against its closed form', () => {
  it('the identity returns x exactly', async () => {
    const x = ramp(5, 5);
    const y = transformImages(x, identity);
    expect(await maxDiff(x, y)).toBe(0);
    tf.dispose([x, y]);
  });

  it('rotation by 90°: out(i, j) = in(j, 2c − i) about the centre c', async () => {
    const x = ramp(5, 5);
    const out = await grid(transformImages(x, { ...identity, rotation: 90 }));
    const src = await grid(x);
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) expect(out[i]?.[j]).toBeCloseTo(src[j]?.[4 - i] as number, 5);
    x.dispose();
  });

  it('integer translation shifts; uncovered pixels take the lower bound', async () => {
    const x = tf.tidy(() => tf.add(tf.mul(ramp(4, 5), 2), -1)); // bounds [−1, 1]
    const out = await grid(transformImages(x, { ...identity, translation: [1, -2] }, [-1, 1]));
    const src = await grid(x);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 5; j++) {
        const [r, c] = [i - 1, j + 2];
        expect(out[i]?.[j]).toBeCloseTo(r >= 0 && c < 5 ? (src[r]?.[c] as number) : -1, 5);
      }
    }
    x.dispose();
  });

  it('scale 2 about the centre samples bilinearly at c + (p − c)/2', async () => {
    const x = ramp(5, 5);
    const out = await grid(transformImages(x, { ...identity, scale: 2 }));
    const src = await grid(x);
    expect(out[2]?.[2]).toBeCloseTo(src[2]?.[2] as number, 6);
    // (3, 3) → (2.5, 2.5): the mean of the four neighbours.
    expect(out[3]?.[3]).toBeCloseTo(((src[2]?.[2] as number) + (src[2]?.[3] as number) + (src[3]?.[2] as number) + (src[3]?.[3] as number)) / 4, 6);
    // (2, 4) → (2, 3).
    expect(out[2]?.[4]).toBeCloseTo(src[2]?.[3] as number, 6);
    x.dispose();
  });

  it('blur σ = 1 of a centred impulse is the outer product of the normalised Gaussian taps (radius 3)', async () => {
    const x = tf.tidy(() => tf.reshape(tf.oneHot(40, 81), [1, 9, 9, 1]));
    const out = await grid(transformImages(tf.cast(x, 'float32'), { ...identity, blur: 1 }));
    const taps = [-3, -2, -1, 0, 1, 2, 3].map((k) => Math.exp(-(k * k) / 2));
    const sum = taps.reduce((s, v) => s + v, 0);
    for (let i = 0; i < 9; i++) {
      for (let j = 0; j < 9; j++) {
        const [di, dj] = [i - 4, j - 4];
        const expected = Math.abs(di) <= 3 && Math.abs(dj) <= 3 ? ((taps[di + 3] as number) * (taps[dj + 3] as number)) / (sum * sum) : 0;
        expect(out[i]?.[j]).toBeCloseTo(expected, 6);
      }
    }
    x.dispose();
  });

  it('contrast around the image mean, then brightness, clipped to the bounds; noise is a fixed seeded pattern', async () => {
    const x = ramp(4, 4);
    const src = (await grid(x)).flat();
    const mean = src.reduce((s, v) => s + v, 0) / src.length;
    const out = (await grid(transformImages(x, { ...identity, contrast: 1.5, brightness: 0.1 }))).flat();
    out.forEach((v, k) => expect(v).toBeCloseTo(Math.min(1, Math.max(0, 1.5 * ((src[k] as number) - mean) + mean + 0.1)), 5));
    const gray = tf.fill([2, 4, 4, 1], 0.5);
    const a = transformImages(gray, { ...identity, noise: 0.1, noiseSeed: 3 });
    const b = transformImages(gray, { ...identity, noise: 0.1, noiseSeed: 3 });
    const c = transformImages(gray, { ...identity, noise: 0.1, noiseSeed: 4 });
    expect(await maxDiff(a, b)).toBe(0);
    expect(await maxDiff(a, c)).toBeGreaterThan(0.01);
    const rows = (await a.array()) as number[][][][];
    expect(rows[0]).toEqual(rows[1]); // one pattern for the whole batch
    tf.dispose([x, gray, a, b, c]);
  });

  it('is differentiable: the gradient of Σ rot90(x) is all ones (a permutation)', async () => {
    const x = ramp(5, 5);
    const g = tf.grad((v: tf.Tensor) => tf.sum(transformImages(v, { ...identity, rotation: 90 })))(x);
    (await g.data()).forEach((v) => expect(v).toBeCloseTo(1, 5));
    tf.dispose([x, g]);
  });
});

describe('sampleTransforms', () => {
  it('draws inside the ranges, deterministically under a seed', () => {
    const d = { rotation: 10, scale: [0.9, 1.1] as const, translation: 2, brightness: 0.1, contrast: [0.8, 1.2] as const, noise: 0.05, blur: 1 };
    const a = sampleTransforms(d, 50, { seed: 1, bounds: [-1, 1] });
    expect(sampleTransforms(d, 50, { seed: 1, bounds: [-1, 1] })).toEqual(a);
    expect(sampleTransforms(d, 50, { seed: 2, bounds: [-1, 1] })).not.toEqual(a);
    for (const p of a) {
      expect(Math.abs(p.rotation)).toBeLessThanOrEqual(10);
      expect(p.scale >= 0.9 && p.scale <= 1.1).toBe(true);
      expect(Math.max(...p.translation.map(Math.abs))).toBeLessThanOrEqual(2);
      expect(Math.abs(p.brightness)).toBeLessThanOrEqual(0.2); // 0.1 × width 2
      expect(p.noise).toBeCloseTo(0.1, 9);
      expect(p.blur >= 0 && p.blur <= 1 && p.contrast >= 0.8 && p.contrast <= 1.2).toBe(true);
    }
    expect(Math.max(...a.map((p) => p.rotation)) - Math.min(...a.map((p) => p.rotation))).toBeGreaterThan(15);
  });
});

describe('eot', () => {
  it('logits are the mean of the logits over the drawn transformations', async () => {
    const before = tf.memory().numTensors;
    const m = eot(imageNet, { transforms: { rotation: 20, translation: 1.5, blur: 0.8, noise: 0.02 }, samples: 3, seed: 5 });
    const { x, labels } = selfLabeledData(imageNet, 1, 4);
    const z = m.logits(x);
    const manual = tf.tidy(() => tf.div(tf.addN(m.transformations.map((p) => imageNet.logits(transformImages(x, p)))), 3));
    expect(await maxDiff(z, manual)).toBeLessThan(1e-5);
    const again = eot(imageNet, { transforms: { rotation: 20, translation: 1.5, blur: 0.8, noise: 0.02 }, samples: 3, seed: 5 });
    expect(again.transformations).toEqual(m.transformations);
    tf.dispose([z, manual, x, labels]);
    m.dispose();
    again.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an empty distribution gives the model itself', async () => {
    const m = eot(imageNet, { transforms: {}, samples: 2 });
    const { x, labels } = selfLabeledData(imageNet, 1, 3);
    const [a, b] = [m.logits(x), imageNet.logits(x)];
    expect(await maxDiff(a, b)).toBeLessThan(1e-6);
    tf.dispose([a, b, x, labels]);
    m.dispose();
  });

  it('an EOT-wrapped model is attacked like any model: PGD passes the conformance suite on it', async () => {
    const m = eot(imageNet, { transforms: { rotation: 10, translation: 1 }, samples: 4, seed: 1 });
    const { x, labels } = selfLabeledData(m, 3, 8);
    assertConformance(await checkAttack(pgd({ steps: 10, relStepSize: 0.2 }), { model: m, x, labels, epsilons: [0.05, 0.3], minSuccess: 0.9 }));
    tf.dispose([x, labels]);
    m.dispose();
  });

  it('rejects bad models and options before any work', async () => {
    await expectCode('UNSUPPORTED_MODEL', () => eot(flat, { transforms: { rotation: 5 } }));
    const big = fromFunction((x) => tf.zeros([x.shape[0] as number, 2]) as tf.Tensor2D, {
      inputShape: [65, 64, 1],
      numClasses: 2,
      bounds: [0, 1],
      output: 'logits',
    });
    await expectCode('UNSUPPORTED_MODEL', () => eot(big, { transforms: { rotation: 5 } }));
    await expectCode('UNSUPPORTED_MODEL', () => eot(toQueryModel(imageNet, { output: 'scores' }) as never, { transforms: { rotation: 5 } }));
    for (const bad of [
      {},
      { transforms: { spin: 3 } },
      { transforms: { rotation: -1 } },
      { transforms: { scale: [1.2, 1.1] } },
      { transforms: { scale: [0, 1] } },
      { transforms: { rotation: 1 }, samples: 0 },
      { transforms: { rotation: 1 }, extra: 1 },
      { transforms: {}, transformations: [identity] },
      { transformations: [] },
      { transformations: [{ ...identity, scale: 0 }] },
    ]) {
      await expectCode('INVALID_OPTION', () => eot(imageNet, bad as never));
    }
  });

  it('names the offending option in schema messages; keeps the either-or and required constraints', () => {
    const fail = (options: unknown): AdvxError => {
      try {
        eot(imageNet, options as never).dispose();
      } catch (e) {
        if (isAdvxError(e, 'INVALID_OPTION')) return e;
        throw e;
      }
      throw new Error(`expected INVALID_OPTION for ${JSON.stringify(options)}`);
    };
    const unknown = fail({ transforms: { rotation: 5, spin: 3 } });
    expect(unknown.message).toMatch(
      /^\[INVALID_OPTION\] transforms: unknown option 'spin'\. Known options: rotation, scale, translation, brightness, contrast, noise, blur\.$/,
    );
    expect(unknown.details).toMatchObject({ option: 'spin' });
    expect(fail({ transforms: { rotation: 181 } }).message).toMatch(/transforms: rotation must be a finite number in \[0, 180\], got 181/);
    expect(fail({ transforms: { scale: [0, 1] } }).message).toMatch(/transforms: scale must be \[min, max\] with 0 < min ≤ max, got \[0,1\]/);
    expect(fail({ transforms: { contrast: [1.2, 1.1] } }).message).toMatch(/transforms: contrast must be \[min, max\] with 0 ≤ min ≤ max/);
    expect(fail({ transforms: { blur: -1 } }).message).toMatch(/transforms: blur must be a finite number in \[0, ∞\)/);
    expect(fail({ transforms: { rotation: 1 }, extra: 1 }).message).toMatch(
      /^\[INVALID_OPTION\] eot: unknown option 'extra'\. Known options: transforms, samples, seed, transformations\.$/,
    );
    expect(fail({ transforms: { rotation: 1 }, samples: 0 }).message).toMatch(/eot: samples must be an integer in \[1, ∞\), got 0/);
    expect(fail({ transforms: { rotation: 1 }, seed: NaN }).message).toMatch(/eot: seed must be a finite number/);
    expect(fail({ transforms: 3 }).message).toMatch(/eot: transforms must be a TransformDistribution/);
    expect(fail({ transformations: [] }).message).toMatch(/eot: transformations must be a non-empty array of TransformParams/);
    expect(fail({ transforms: {}, transformations: [identity] }).message).toMatch(
      /eot: give either transforms \(a distribution\) or transformations \(explicit\), not both/,
    );
    expect(fail({}).message).toMatch(/eot: transforms \(a TransformDistribution\) is required/);
    expect(() => sampleTransforms({ spin: 3 } as never, 2)).toThrow(/transforms: unknown option 'spin'/);
    expect(() => sampleTransforms({}, 0)).toThrow(/sampleTransforms: count must be an integer/);
    expect(() => sampleTransforms({}, 2, { seed: Infinity })).toThrow(/sampleTransforms: seed must be a finite number/);
    expect(() => sampleTransforms(undefined as never, 2)).toThrow(/transforms must be an object/);
  });

  it('explicit transformations are used as given; defaults fill the rest', () => {
    const m = eot(imageNet, { transformations: [identity, { ...identity, rotation: 90 }] });
    expect(m.transformations).toEqual([identity, { ...identity, rotation: 90 }]);
    m.dispose();
    const d = sampleTransforms({}, 3, { seed: 4 });
    expect(d.every((p) => p.rotation === 0 && p.scale === 1 && p.contrast === 1 && p.blur === 0 && p.noise === 0 && p.brightness === 0)).toBe(true);
    const m2 = eot(imageNet, { transforms: { rotation: 3 } });
    expect(m2.transformations).toEqual(sampleTransforms({ rotation: 3 }, 10, { seed: 0, bounds: imageNet.bounds }));
    m2.dispose();
  });
});

const brightness = brightnessModel;

describe('evaluateUnderTransforms', () => {
  it('counts (image, transformation) pairs exactly: class 1 iff 36·(v + b) > 18 for a constant image v under brightness b', async () => {
    const values = [0.3, 0.45, 0.49, 0.55, 0.7];
    const x = tf.tidy(() => tf.mul(tf.ones([5, 6, 6, 1]), tf.reshape(tf.tensor1d(values), [5, 1, 1, 1])));
    const labels = tf.zeros([5], 'int32') as tf.Tensor1D;
    const transforms = { brightness: 0.1 };
    const draws = sampleTransforms(transforms, 16, { seed: 9 });
    const r = await evaluateUnderTransforms(brightness, x, { labels }, { transforms, samples: 16, seed: 9 });
    const expected = values.map((v) => draws.filter((p) => Math.min(1, Math.max(0, v + p.brightness)) > 0.5).length / 16);
    Array.from(r.perSample).forEach((f, i) => expect(f).toBeCloseTo(expected[i] as number, 6));
    expect(r.successRate).toBeCloseTo(expected.reduce((s, v) => s + v, 0) / 5, 6);
    expect(expected.some((e) => e > 0 && e < 1)).toBe(true);
    const t = await evaluateUnderTransforms(brightness, x, { targets: tf.ones([5], 'int32') as tf.Tensor1D }, { transforms, samples: 16, seed: 9 });
    expect(Array.from(t.perSample)).toEqual(Array.from(r.perSample));
    tf.dispose([x, labels]);
  });

  it('rejects bad input and leaks nothing', async () => {
    const x = tf.fill([2, 6, 6, 1], 2);
    const labels = tf.zeros([2], 'int32') as tf.Tensor1D;
    await expectCode('OUT_OF_BOUNDS', () => evaluateUnderTransforms(brightness, x, { labels }, { transforms: { rotation: 5 } }));
    await expectCode('INVALID_OPTION', () => evaluateUnderTransforms(brightness, x, { labels }, {} as never));
    tf.dispose([x, labels]);
  });
});
