import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { describe, expect, it } from 'vitest';

import { layerFeatures } from './layer-features.js';

describe('layerFeatures', () => {
  it("returns the named layer's activations, relu(x·W + b) by hand, and rejects unknown names", async () => {
    const m = tfl.sequential();
    m.add(tfl.layers.dense({ inputShape: [2], units: 3, activation: 'relu', name: 'hidden' }));
    m.add(tfl.layers.dense({ units: 2, name: 'out' }));
    const [w, b] = m.getLayer('hidden').getWeights() as [tf.Tensor2D, tf.Tensor1D];
    const x = tf.tensor2d([
      [0.3, -0.7],
      [1, 2],
    ]);
    const f = layerFeatures(m, 'hidden')(x);
    const want = tf.relu(tf.add(tf.matMul(x, w), b));
    expect(Array.from(await f.data()).map((v) => +v.toFixed(5))).toEqual(Array.from(await want.data()).map((v) => +v.toFixed(5)));
    expect(() => layerFeatures(m, 'dense9')).toThrowError(/INVALID_OPTION.*hidden, out/);
    tf.dispose([x, f, want]);
    m.dispose();
  });
});
