import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';

import { expectCode, registerInCommonJsTfjs } from '../test/fixtures.js';

import { BoundedLeakyReLU, boundedLeakyRelu, withBoundedLeakyReLU } from './bounded-leaky-relu.js';

registerInCommonJsTfjs(BoundedLeakyReLU);

const close = (got: ArrayLike<number>, want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));

describe('BoundedLeakyReLU', () => {
  it('computes s·x, x, b − s·(x − b) on the three pieces, with exact gradients in x and b (hand-computed)', async () => {
    const x = tf.tensor1d([-2, -0.5, 0, 0.3, 1, 1.5, 4]);
    const b = tf.scalar(1);
    const s = 0.1;
    close(await boundedLeakyRelu(x, b, s).data(), [-0.2, -0.05, 0, 0.3, 1, 0.95, 0.7]);
    const [gx, gb] = tf.grads((xi: tf.Tensor, bi: tf.Tensor) => tf.sum(boundedLeakyRelu(xi, bi, s)))([x, b]);
    // At the kink x = 0 tfjs takes the left derivative of min(x, 0): s.
    close(await gx!.data(), [0.1, 0.1, 0.1, 1, 1, -0.1, -0.1]);
    // d/db: 1 + s for each x > b (two of them).
    expect((await gb!.data())[0]).toBeCloseTo(2 * (1 + s), 6);
    tf.dispose([x, b, gx!, gb!]);
  });

  it('is a layer with a trainable bound that survives a save/load round trip', async () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.dense({ inputShape: [3], units: 4, kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }) }),
        new BoundedLeakyReLU({ bound: 0.5, slope: 0.2 }),
      ],
    });
    expect(model.trainableWeights.map((w) => w.name)).toEqual(expect.arrayContaining([expect.stringMatching(/bound/)]));
    const layer = model.layers[1] as BoundedLeakyReLU;
    layer.setWeights([tf.scalar(0.7)]);
    expect(await layer.readBound()).toBeCloseTo(0.7, 6);
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
    const again = await tfl.loadLayersModel(tf.io.fromMemory(saved!));
    expect(again.layers[1]).toBeInstanceOf(BoundedLeakyReLU);
    expect((again.layers[1] as BoundedLeakyReLU).slope).toBe(0.2);
    expect(await (again.layers[1] as BoundedLeakyReLU).readBound()).toBeCloseTo(0.7, 6);
    const x = tf.tensor2d([
      [1, -2, 3],
      [0.5, 0.5, -1],
    ]);
    const [a, c] = [model.predict(x) as tf.Tensor, again.predict(x) as tf.Tensor];
    expect(Array.from(await a.data())).toEqual(Array.from(await c.data()));
    tf.dispose([x, a, c]);
    model.dispose();
    again.dispose();
  });

  it('withBoundedLeakyReLU replaces every ReLU; with slope 0 and a large bound it computes the original model', async () => {
    const g = (k: number) => tfl.initializers.glorotUniform({ seed: k });
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu', kernelInitializer: g(1) }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 5, kernelInitializer: g(2) }),
        tfl.layers.reLU(),
        tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: g(3) }),
      ],
    });
    const same = withBoundedLeakyReLU(model, { slope: 0, bound: 1e6 });
    expect(same.layers.map((l) => l.getClassName())).toEqual(['Conv2D', 'BoundedLeakyReLU', 'Flatten', 'Dense', 'BoundedLeakyReLU', 'Dense']);
    const x = tf.randomUniform([4, 6, 6, 1], 0, 1, 'float32', 3);
    const [a, b] = [model.predict(x) as tf.Tensor, same.predict(x) as tf.Tensor];
    const diff = tf.max(tf.abs(tf.sub(a, b)));
    expect((await diff.data())[0]).toBeLessThan(1e-6);
    const tight = withBoundedLeakyReLU(model, { slope: 0.01, bound: 0.01 });
    const c = tight.predict(x) as tf.Tensor;
    const moved = tf.max(tf.abs(tf.sub(a, c)));
    expect((await moved.data())[0]).toBeGreaterThan(1e-3);
    tf.dispose([x, a, b, c, diff, moved]);
    [model, same, tight].forEach((m) => m.dispose());
  });

  it('rejects bad options, functional models and reading an unbuilt bound with a clear AdvxError', async () => {
    for (const bad of [{ slope: -1 }, { bound: 0 }, { bound: Number.NaN }, { trainableBound: 1 as unknown as boolean }]) {
      await expectCode('INVALID_OPTION', () => new BoundedLeakyReLU(bad));
    }
    const input = tfl.input({ shape: [2] });
    const functional = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(input) as tfl.SymbolicTensor });
    await expectCode('UNSUPPORTED_MODEL', () => withBoundedLeakyReLU(functional));
    functional.dispose();
    await expectCode('INVALID_MODEL', () => new BoundedLeakyReLU().readBound());
  });
});
