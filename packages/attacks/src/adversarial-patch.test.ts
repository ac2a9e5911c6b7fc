import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { assertConformance, checkAttack, linearModel, selfLabeledData } from '@advx/core/testing';

import { brightnessModel, expectCode, imageMlp, maxDiff, rows } from '../test/fixtures.js';

import { adversarialPatch } from './adversarial-patch.js';
import { applyPatch } from './patch-geometry.js';
import { evaluatePatch, trainPatch } from './train-patch.js';

const { flat, model: imageNet } = imageMlp;
const imageData = selfLabeledData(imageNet, 4, 8) as { x: tf.Tensor4D; labels: tf.Tensor1D };

/** Logistic regression on 6×6 gray images, `z = Σ w·x + b`, logits `[−z/2, z/2]`. */
const w6 = Array.from({ length: 36 }, (_, i) => Math.sin(1.7 * i + 0.3));
const logistic6 = linearModel({ weights: [w6.map((v) => -v / 2), w6.map((v) => v / 2)], bias: [0, 0], inputShape: [6, 6, 1] });

/** Pixels of sample `i` (flattened) that differ from the clean image. */
async function changed(adv: tf.Tensor, x: tf.Tensor): Promise<number[][]> {
  const a = await rows(adv);
  const b = await rows(x);
  return a.map((r, i) => r.flatMap((v, j) => (Math.abs(v - (b[i]?.[j] as number)) > 0 ? [j] : [])));
}

describe('adversarial-patch: conformance', () => {
  it('untargeted and targeted on an image MLP (budgets of 2×2, 4×4 and 6×6 stickers)', async () => {
    assertConformance(
      await checkAttack(adversarialPatch({ steps: 20, restarts: 2 }), {
        model: imageNet,
        x: imageData.x,
        labels: imageData.labels,
        epsilons: [4, 16, 36],
        minSuccess: 0.9,
      }),
    );
  });
  it('two stickers', async () => {
    assertConformance(
      await checkAttack(adversarialPatch({ steps: 20, stickers: 2 }), {
        model: imageNet,
        x: imageData.x,
        labels: imageData.labels,
        epsilons: [8, 32, 50],
        minSuccess: 0.9,
      }),
    );
  });
});

describe('adversarial-patch: placement and math', () => {
  it('changes only a ⌊√ε⌋ square, at the fixed position (moved in so it fits)', async () => {
    const { x, labels } = imageData;
    const r = await adversarialPatch({ steps: 5, positions: [[1, 6]], restarts: 1, earlyStop: false }).run(imageNet, x, { labels }, { epsilons: [9, 20] });
    // ε = 9 → side 3 at (1, min(6, 8 − 3) = 5); ε = 20 → side 4 at (1, 4).
    const square = (r0: number, c0: number, side: number) => Array.from({ length: side * side }, (_, k) => (r0 + Math.floor(k / side)) * 8 + c0 + (k % side));
    const expected = [square(1, 5, 3), square(1, 4, 4)];
    for (let e = 0; e < 2; e++) {
      for (const pixels of await changed(r.clipped[e] as tf.Tensor, x)) {
        expect(pixels.every((p) => expected[e]?.includes(p))).toBe(true);
        expect(pixels.length).toBeGreaterThan(0.8 * (expected[e]?.length ?? 0));
      }
    }
    r.dispose();
  });

  it('random placements: the changed pixels of each sample fit in one side × side square; samples differ in place', async () => {
    const { x, labels } = imageData;
    const r = await adversarialPatch({ steps: 3, restarts: 1, placement: 'random', earlyStop: false }).run(imageNet, x, { labels }, { epsilons: [16] });
    const corners = new Set<string>();
    for (const pixels of await changed(r.clipped[0] as tf.Tensor, x)) {
      const rs = pixels.map((p) => Math.floor(p / 8));
      const cs = pixels.map((p) => p % 8);
      expect(Math.max(...rs) - Math.min(...rs)).toBeLessThan(4);
      expect(Math.max(...cs) - Math.min(...cs)).toBeLessThan(4);
      corners.add(`${Math.min(...rs)},${Math.min(...cs)}`);
    }
    expect(corners.size).toBeGreaterThan(2);
    r.dispose();
  });

  it('channels share the budget: ε = 18 on 2-channel 6×6 images gives 3×3 stickers over both channels', async () => {
    const w = Array.from({ length: 72 }, (_, i) => Math.cos(0.9 * i));
    const model = linearModel({ weights: [w.map((v) => -v), w], inputShape: [6, 6, 2] });
    const { x, labels } = selfLabeledData(model, 1, 4);
    const r = await adversarialPatch({ steps: 2, positions: [[2, 2]], restarts: 1, earlyStop: false }).run(model, x, { labels }, { epsilons: [18, 17.9] });
    const inSquare = (p: number) => {
      const pix = Math.floor(p / 2);
      return Math.floor(pix / 6) >= 2 && Math.floor(pix / 6) < 5 && pix % 6 >= 2 && pix % 6 < 5;
    };
    for (const pixels of await changed(r.clipped[0] as tf.Tensor, x)) expect(pixels.length > 12 && pixels.every(inSquare)).toBe(true);
    // 17.9 entries → ⌊√(17 / 2)⌋ = 2: a 2×2 sticker.
    for (const pixels of await changed(r.clipped[1] as tf.Tensor, x)) expect(pixels.length).toBeLessThanOrEqual(8);
    r.dispose();
    tf.dispose([x, labels]);
  });

  it('saliency placement: the first sticker covers the window of largest Σ|∇| = Σ|w| on a linear model; a second one the next free window', async () => {
    // |w| is 1 on the 3×3 block at rows 3–5, cols 0–2, 0.5 on the block at rows 0–2, cols 3–5, 0.01 elsewhere.
    const w = Array.from({ length: 36 }, (_, j) => {
      const [r, c] = [Math.floor(j / 6), j % 6];
      const sign = j % 2 === 0 ? 1 : -1;
      return sign * (r >= 3 && c < 3 ? 1 : r < 3 && c >= 3 ? 0.5 : 0.01);
    });
    const model = linearModel({ weights: [w.map((v) => -v / 2), w.map((v) => v / 2)], inputShape: [6, 6, 1] });
    const { x, labels } = selfLabeledData(model, 2, 3);
    const one = await adversarialPatch({ steps: 1, restarts: 1, earlyStop: false }).run(model, x, { labels }, { epsilons: [9] });
    const two = await adversarialPatch({ steps: 1, restarts: 1, stickers: 2, earlyStop: false }).run(model, x, { labels }, { epsilons: [18] });
    const block = (r0: number, c0: number) => Array.from({ length: 9 }, (_, k) => (r0 + Math.floor(k / 3)) * 6 + c0 + (k % 3));
    for (const pixels of await changed(one.clipped[0] as tf.Tensor, x)) expect(pixels.every((p) => block(3, 0).includes(p)) && pixels.length > 6).toBe(true);
    for (const pixels of await changed(two.clipped[0] as tf.Tensor, x)) {
      expect(pixels.every((p) => block(3, 0).includes(p) || block(0, 3).includes(p))).toBe(true);
      expect(pixels.filter((p) => block(0, 3).includes(p)).length).toBeGreaterThan(6);
    }
    one.dispose();
    two.dispose();
    tf.dispose([x, labels]);
  });

  it('one step from the image on logistic regression: x + α·m ⊙ sign(∇), with sign(∇) = −sign(w) for class 1', async () => {
    const x = tf.tidy(() => tf.add(0.5, tf.mul(0.3, tf.sin(tf.reshape(tf.range(0, 72), [2, 6, 6, 1])))));
    const z = tf.tidy(() => tf.sum(tf.mul(tf.reshape(x, [2, 36]), tf.tensor1d(w6)), 1));
    const labels = tf.tidy(() => tf.cast(tf.greater(z, 0), 'int32') as tf.Tensor1D);
    const r = await adversarialPatch({ steps: 1, stepSize: 0.05, positions: [[1, 2]], restarts: 1, randomInit: false, earlyStop: false }).run(
      logistic6,
      x,
      { labels },
      { epsilons: [9] },
    );
    const out = await rows(r.clipped[0] as tf.Tensor);
    const clean = await rows(x);
    const y = Array.from(await labels.data());
    clean.forEach((row, i) =>
      row.forEach((v, j) => {
        const inside = Math.floor(j / 6) >= 1 && Math.floor(j / 6) < 4 && j % 6 >= 2 && j % 6 < 5;
        const dir = (y[i] === 1 ? -1 : 1) * Math.sign(w6[j] as number);
        expect(out[i]?.[j]).toBeCloseTo(inside ? Math.min(1, Math.max(0, v + 0.05 * dir)) : v, 6);
      }),
    );
    r.dispose();
    tf.dispose([x, z, labels]);
  });

  it('more placements (restarts) never lower the success and raise it here', async () => {
    const { x, labels } = imageData;
    const counts: boolean[][] = [];
    for (const restarts of [1, 4]) {
      const r = await adversarialPatch({ steps: 10, restarts, placement: 'random' }).run(imageNet, x, { labels }, { epsilons: [4], seed: 5 });
      counts.push([...(r.success[0] as boolean[])]);
      r.dispose();
    }
    counts[0]?.forEach((ok, i) => ok && expect(counts[1]?.[i]).toBe(true));
    expect(counts[1]?.filter(Boolean).length).toBeGreaterThan(counts[0]?.filter(Boolean).length ?? 0);
  });

  it('rejects bad options and non-image models before any work', async () => {
    for (const bad of [
      { steps: 0 },
      { stepSize: 0 },
      { stepSize: 2 },
      { stickers: 0 },
      { restarts: 0 },
      { positions: [[1, 2]], restarts: 2 },
      { positions: [[1, 2]], stickers: 2 },
      { positions: [[-1, 0]] },
      { positions: [[0.5, 0]] },
      { loss: 'dlr' },
      { placement: 'center' },
      { randomInit: 1 },
      { size: 3 },
    ]) {
      await expectCode('INVALID_OPTION', () => adversarialPatch(bad as never));
    }
    await expectCode('UNSUPPORTED_NORM', () => adversarialPatch({ norm: 'linf' as never }));
    const flatData = selfLabeledData(flat, 1, 2);
    await expectCode('UNSUPPORTED_MODEL', () => adversarialPatch().run(flat, flatData.x, { labels: flatData.labels }, { epsilons: [4] }));
    tf.dispose([flatData.x, flatData.labels]);
  });
});

describe('applyPatch', () => {
  it('pastes the patch at each position: (1 − m) ⊙ x + m ⊙ p', async () => {
    const x = tf.tidy(() => tf.reshape(tf.range(0, 2 * 4 * 4 * 2), [2, 4, 4, 2]) as tf.Tensor4D);
    const patch = tf.tensor3d([-1, -2, -3, -4, -5, -6, -7, -8], [2, 2, 2]);
    const out = applyPatch(x, patch, [
      [0, 0],
      [2, 1],
    ]);
    const v = (await out.array()) as number[][][][];
    const xs = (await x.array()) as number[][][][];
    const p = (await patch.array()) as number[][][];
    const corners = [
      [0, 0],
      [2, 1],
    ] as const;
    for (let i = 0; i < 2; i++) {
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) {
          const [r0, c0] = corners[i] as readonly [number, number];
          const inside = r >= r0 && r < r0 + 2 && c >= c0 && c < c0 + 2;
          expect(v[i]?.[r]?.[c]).toEqual(inside ? p[r - r0]?.[c - c0] : xs[i]?.[r]?.[c]);
        }
      }
    }
    // Per-sample patches
    const both = tf.stack([patch, tf.neg(patch)]) as tf.Tensor4D;
    const out2 = applyPatch(x, both, [
      [1, 1],
      [1, 1],
    ]);
    const v2 = (await out2.array()) as number[][][][];
    expect(v2[1]?.[1]?.[1]).toEqual([1, 2]);
    expect(v2[0]?.[1]?.[1]).toEqual([-1, -2]);
    tf.dispose([x, patch, out, both, out2]);
  });

  it('is differentiable w.r.t. the patch: the gradient of Σ x′ is the number of images', async () => {
    const x = tf.zeros([3, 5, 5, 1]) as tf.Tensor4D;
    const patch = tf.zeros([2, 2, 1]) as tf.Tensor3D;
    const g = tf.grad((p: tf.Tensor) =>
      tf.sum(
        applyPatch(x, p as tf.Tensor3D, [
          [0, 0],
          [3, 3],
          [1, 2],
        ]),
      ),
    )(patch);
    expect(Array.from(await g.data())).toEqual([3, 3, 3, 3]);
    tf.dispose([x, patch, g]);
  });

  it('rejects patches outside the image, wrong channel counts and position counts', async () => {
    const x = tf.zeros([2, 5, 5, 1]) as tf.Tensor4D;
    const patch = tf.zeros([2, 2, 1]) as tf.Tensor3D;
    const rgb = tf.zeros([2, 2, 3]) as tf.Tensor3D;
    await expectCode('INVALID_SHAPE', () =>
      applyPatch(x, patch, [
        [0, 0],
        [4, 0],
      ]),
    );
    await expectCode('INVALID_SHAPE', () => applyPatch(x, patch, [[0, 0]]));
    await expectCode('INVALID_SHAPE', () =>
      applyPatch(x, rgb, [
        [0, 0],
        [0, 0],
      ]),
    );
    await expectCode('INVALID_SHAPE', () =>
      applyPatch(x, patch, [
        [0, 0],
        [1.5, 0],
      ]),
    );
    tf.dispose([x, patch, rgb]);
  });
});

const brightness = brightnessModel;

describe('trainPatch and evaluatePatch', () => {
  const dark = { x: tf.fill([10, 6, 6, 1], 0.2) as tf.Tensor4D, y: tf.zeros([10], 'int32') as tf.Tensor1D };

  it('targeted: every pixel’s gradient pushes toward white, so the patch is p₀ + T·α clipped to 1', async () => {
    const before = tf.memory().numTensors;
    const steps = 30;
    const r = await trainPatch(brightness, dark, { size: 3, target: 1, steps, optimizer: 'sign', stepSize: 0.02, imagesPerStep: 4, seed: 1 });
    const start = await trainPatch(brightness, dark, { size: 3, target: 1, steps: 1, optimizer: 'sign', stepSize: 0.02, imagesPerStep: 4, seed: 1 });
    const p0 = Array.from(await start.patch.data()).map((v) => v - 0.02);
    const p = Array.from(await r.patch.data());
    p.forEach((v, i) => expect(v).toBeCloseTo(Math.min(1, (p0[i] as number) + steps * 0.02), 5));
    expect(r.patch.shape).toEqual([3, 3, 1]);
    r.dispose();
    start.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('evaluatePatch counts exactly: a full-image patch decides every image; images of the target class are left out', async () => {
    const white = tf.ones([6, 6, 1]) as tf.Tensor3D;
    const gray = tf.fill([6, 6, 1], 0.45) as tf.Tensor3D; // sum 16.2 < 18 → class 0
    const mixed = { x: dark.x, y: tf.tensor1d([0, 0, 0, 1, 1, 0, 0, 0, 0, 0], 'int32') };
    const a = await evaluatePatch(brightness, mixed, white, { target: 1, placements: 3 });
    expect([a.successRate, a.images]).toEqual([1, 8]);
    const b = await evaluatePatch(brightness, mixed, gray, { target: 1 });
    expect([b.successRate, b.images]).toEqual([0, 8]);
    const c = await evaluatePatch(brightness, mixed, white);
    expect([c.successRate, c.images]).toEqual([0.8, 10]);
    tf.dispose([white, gray, mixed.y]);
  });

  it('a 3×3 white patch on 0.6-gray images: success iff 9·(1 − 0.6) pushes the sum over 18 — exactly; validation is reported', async () => {
    const x = tf.fill([6, 6, 6, 1], 0.48) as tf.Tensor4D; // sum 17.28; + 9·0.52 = 21.96 > 18
    const y = tf.zeros([6], 'int32') as tf.Tensor1D;
    const r = await trainPatch(brightness, { x, y }, { size: 3, target: 1, steps: 50, stepSize: 0.05, validation: { x, y }, placements: 2 });
    expect(r.validation?.successRate).toBe(1);
    expect(r.finalLoss).toBeLessThan(0.05);
    r.dispose();
    tf.dispose([x, y]);
  });

  it('is deterministic under a seed and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const a = await trainPatch(imageNet, { x: imageData.x, y: imageData.labels }, { size: 3, steps: 5, seed: 4 });
    const b = await trainPatch(imageNet, { x: imageData.x, y: imageData.labels }, { size: 3, steps: 5, seed: 4 });
    const c = await trainPatch(imageNet, { x: imageData.x, y: imageData.labels }, { size: 3, steps: 5, seed: 5 });
    expect(await maxDiff(a.patch, b.patch)).toBe(0);
    expect(await maxDiff(a.patch, c.patch)).toBeGreaterThan(0);
    [a, b, c].forEach((t) => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input before any work, leaking nothing; aborts', async () => {
    const d = { x: imageData.x, y: imageData.labels };
    const patch = tf.zeros([3, 3, 1]) as tf.Tensor3D;
    for (const bad of [
      { size: 0 },
      { size: 9 },
      { size: [2, 2.5] },
      { size: 3, target: 4 },
      { size: 3, steps: 0 },
      { size: 3, stepSize: 0 },
      { size: 3, loss: 'x' },
      { size: 3, optimizer: 'sgd' },
      { size: 3, epochs: 1 },
      { size: 3, placements: 0 },
    ]) {
      await expectCode('INVALID_OPTION', () => trainPatch(imageNet, d, bad as never));
    }
    const badY = tf.fill([8], 7, 'int32') as tf.Tensor1D;
    const smallX = tf.zeros([2, 7, 7, 1]);
    const twoChannel = tf.zeros([3, 3, 2]) as tf.Tensor3D;
    const bright = tf.fill([3, 3, 1], 2) as tf.Tensor3D;
    await expectCode('LABEL_OUT_OF_RANGE', () => trainPatch(imageNet, { x: d.x, y: badY }, { size: 3 }));
    await expectCode('INVALID_SHAPE', () => trainPatch(imageNet, { x: smallX, y: d.y }, { size: 3 }));
    await expectCode('UNSUPPORTED_MODEL', () => trainPatch(flat, d, { size: 3 }));
    await expectCode('INVALID_SHAPE', () => evaluatePatch(imageNet, d, twoChannel));
    await expectCode('OUT_OF_BOUNDS', () => evaluatePatch(imageNet, d, bright));
    await expectCode('INVALID_OPTION', () => evaluatePatch(imageNet, d, patch, { placements: 0 }));
    await expectCode('INVALID_OPTION', () => evaluatePatch(imageNet, d, patch, { target: -1 }));
    tf.dispose([badY, smallX, twoChannel, bright]);
    const ac = new AbortController();
    await expectCode('ABORTED', () => trainPatch(imageNet, d, { size: 3, steps: 50, signal: ac.signal, onProgress: (p) => p.step === 3 && ac.abort() }));
    patch.dispose();
  });
});
