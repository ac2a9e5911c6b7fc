/**
 * Patch attacks against the bounded leaky ReLU, on wasm: the zoo's mnist-cnn (ReLU) against
 * mnist-cnn-blrelu (the same architecture with every ReLU replaced by a BoundedLeakyReLU layer,
 * slope 0.01, trainable bounds, naturally trained). Every patch is optimised white-box against the
 * model it is evaluated on (the layer is differentiable, so this is the adaptive attack); the
 * patches of mnist-cnn applied to mnist-cnn-blrelu give the non-adaptive (transfer) number.
 * Training images (the first 200 of the shipped evaluation set) and held-out images (from 500 on)
 * are disjoint. The printed table is the one in the package README.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type Model } from '@advx/core';
import { adversarialPatch, evaluatePatch, trainPatch } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { loadDataset, loadModel, type Dataset, type ZooModel } from '@advx/models-zoo';

import { BoundedLeakyReLU } from '../src/index.js';
import { registerInCommonJsTfjs } from './fixtures.js';

registerInCommonJsTfjs(BoundedLeakyReLU);

const TARGET = 3;
const UNIVERSAL_SIZES = [12, 16] as const;
const STICKER_SIZES = [6, 8, 10] as const;
const STICKER_IMAGES = 20;

let relu: ZooModel;
let bounded: ZooModel;
let train: Dataset;
let held: Dataset;
const table: string[] = [];
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

async function accuracy(model: Model, x: tf.Tensor, y: tf.Tensor1D): Promise<number> {
  const t = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.cast(tf.argMax(model.logits(x), 1), 'int32'), y), 'float32')));
  const [v] = await t.data();
  t.dispose();
  return v as number;
}

/** Smallest and largest entry of `t`. */
async function range(t: tf.Tensor): Promise<[number, number]> {
  const r = tf.tidy(() => tf.stack([tf.min(t), tf.max(t)]));
  const [lo, hi] = await r.data();
  r.dispose();
  return [lo as number, hi as number];
}

/** Per image of `adv` (`[n, 28, 28, 1]`): height and width of the box around the pixels that differ from `x`. */
async function changedBoxes(x: tf.Tensor, adv: tf.Tensor): Promise<Array<[number, number]>> {
  const [a, b] = [(await x.data()) as Float32Array, (await adv.data()) as Float32Array];
  const n = x.shape[0] as number;
  return Array.from({ length: n }, (_, i) => {
    let [r0, r1, c0, c1] = [28, -1, 28, -1];
    for (let p = 0; p < 784; p++) {
      if (a[i * 784 + p] !== b[i * 784 + p]) {
        const [r, c] = [Math.floor(p / 28), p % 28];
        [r0, r1, c0, c1] = [Math.min(r0, r), Math.max(r1, r), Math.min(c0, c), Math.max(c1, c)];
      }
    }
    return r1 < 0 ? [0, 0] : [r1 - r0 + 1, c1 - c0 + 1];
  });
}

beforeAll(async () => {
  await useWasm();
  relu = await loadModel('mnist-cnn');
  bounded = await loadModel('mnist-cnn-blrelu');
  train = await loadDataset('mnist', { count: 200, source: 'shipped' });
  held = await loadDataset('mnist', { offset: 500, count: 200, source: 'shipped' });
  const layers = bounded.layers.layers.filter((l): l is BoundedLeakyReLU => l instanceof BoundedLeakyReLU);
  const bounds = await Promise.all(layers.map(async (l) => (await l.readBound()).toFixed(2)));
  table.push(
    `clean accuracy on the ${held.x.shape[0]} held-out images: mnist-cnn ${pct(await accuracy(relu.model, held.x, held.y))}, mnist-cnn-blrelu ${pct(await accuracy(bounded.model, held.x, held.y))} (learned bounds ${bounds.join(', ')})`,
    '| attack | size | mnist-cnn (ReLU) | mnist-cnn-blrelu (white-box) | ReLU patch on blrelu (transfer) |',
    '|---|---|---|---|---|',
  );
});
afterAll(() => {
  console.info(table.join('\n'));
  tf.dispose([train.x, train.y, held.x, held.y]);
  relu.layers.dispose();
  bounded.layers.dispose();
});

// The seed of this feature claimed patch attacks succeed on 91 % of images against ReLU and on 0 %
// against bounded activations. Measured here, white-box patches succeed about as often against
// mnist-cnn-blrelu as against mnist-cnn (no ordering is asserted: it flips between sizes within the
// noise of these sample sizes); what is asserted is that the adaptive attack is far from 0 %.
describe('bounded leaky ReLU against patch attacks on MNIST (each patch optimised on the model it is evaluated on)', () => {
  it(
    `universal targeted patch → "${TARGET}", trained with EOT over random positions, on held-out images at fresh random positions`,
    { timeout: 600_000 },
    async () => {
      for (const size of UNIVERSAL_SIZES) {
        const rates: number[] = [];
        let transfer = NaN;
        for (const m of [relu.model, bounded.model]) {
          const before = tf.memory().numTensors;
          const trained = await trainPatch(m, train, { size, target: TARGET, steps: 50, imagesPerStep: 16, stepSize: 0.3, seed: 0 });
          expect(trained.patch.shape).toEqual([size, size, 1]);
          const [lo, hi] = await range(trained.patch);
          expect(lo).toBeGreaterThanOrEqual(0);
          expect(hi).toBeLessThanOrEqual(1);
          const own = await evaluatePatch(m, held, trained.patch, { target: TARGET, placements: 2, seed: 1 });
          rates.push(own.successRate);
          if (m === relu.model) transfer = (await evaluatePatch(bounded.model, held, trained.patch, { target: TARGET, placements: 2, seed: 1 })).successRate;
          trained.dispose();
          expect(tf.memory().numTensors).toBe(before);
        }
        for (const r of [...rates, transfer]) {
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(1);
        }
        table.push(
          `| universal patch → "${TARGET}" (50 Adam steps × 16 images, random position) | ${size}×${size} | ${pct(rates[0]!)} | ${pct(rates[1]!)} | ${pct(transfer)} |`,
        );
        // Measured at 16×16: 64 % (ReLU) and 66 % (BL-ReLU, white-box) of held-out images.
        if (size === 16) {
          expect(rates[0]!).toBeGreaterThanOrEqual(0.3);
          expect(rates[1]!).toBeGreaterThanOrEqual(0.3);
        }
      }
    },
  );

  it(
    'per-image stickers (untargeted, saliency placement, 20 signed-gradient steps) on held-out images both models classify correctly',
    { timeout: 600_000 },
    async () => {
      const ok = tf.tidy(() => {
        const label = (m: Model) => tf.equal(tf.cast(tf.argMax(m.logits(held.x), 1), 'int32'), held.y);
        return tf.logicalAnd(label(relu.model), label(bounded.model));
      });
      const indices = Array.from(await ok.data())
        .flatMap((v, i) => (v ? [i] : []))
        .slice(0, STICKER_IMAGES);
      ok.dispose();
      expect(indices).toHaveLength(STICKER_IMAGES);
      const idx = tf.tensor1d(indices, 'int32');
      const [xs, ys] = [tf.gather(held.x, idx), tf.gather(held.y, idx) as tf.Tensor1D];
      const epsilons = STICKER_SIZES.map((s) => s * s);
      const attack = adversarialPatch({ steps: 20, restarts: 1 });
      const runs = [];
      for (const m of [relu.model, bounded.model]) runs.push(await attack.run(m, xs, { labels: ys }, { epsilons, seed: 0 }));
      const [onRelu, onBounded] = runs as [(typeof runs)[0], (typeof runs)[0]];
      const rate = (flags: readonly boolean[]) => flags.filter(Boolean).length / flags.length;
      for (const [k, side] of STICKER_SIZES.entries()) {
        for (const r of runs) {
          for (const [h, w] of await changedBoxes(xs, r.clipped[k]!)) {
            expect(h).toBeLessThanOrEqual(side);
            expect(w).toBeLessThanOrEqual(side);
          }
          const [lo, hi] = await range(r.clipped[k]!);
          expect(lo).toBeGreaterThanOrEqual(0);
          expect(hi).toBeLessThanOrEqual(1);
        }
        const transfer = 1 - (await accuracy(bounded.model, onRelu.clipped[k]!, ys));
        const [a, b] = [rate(onRelu.success[k]!), rate(onBounded.success[k]!)];
        for (const r of [a, b, transfer]) {
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(1);
        }
        table.push(`| per-image sticker, untargeted (n = ${STICKER_IMAGES}) | ${side}×${side} | ${pct(a)} | ${pct(b)} | ${pct(transfer)} |`);
        // Measured at 10×10: 95 % (ReLU) and 90 % (BL-ReLU, white-box).
        if (side === 10) {
          expect(a).toBeGreaterThanOrEqual(0.5);
          expect(b).toBeGreaterThanOrEqual(0.5);
        }
      }
      runs.forEach((r) => r.dispose());
      tf.dispose([idx, xs, ys]);
    },
  );
});
