import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';

import { useWasm } from '@advx/backend-wasm';

import { loadDataset, loadModel } from '@advx/models-zoo';

import { BoundedLeakyReLU } from '../src/index.js';
import { registerInCommonJsTfjs } from './fixtures.js';

// The zoo checks every other model's card in its own tests; this one needs the BoundedLeakyReLU layer,
// which importing @advx/defenses registers with tfjs-layers; under vitest it goes into tfjs-layers'
// CommonJS copy of tfjs-core too.
registerInCommonJsTfjs(BoundedLeakyReLU);
// 1,000 images through a CNN: on the fastest backend.
beforeAll(() => useWasm());
describe('zoo mnist-cnn-blrelu with @advx/defenses imported', () => {
  it('checksums verify, every activation is a BoundedLeakyReLU and the shipped-set accuracy matches the card (±0.5 point)', { timeout: 120_000 }, async () => {
    const before = tf.memory().numTensors;
    const zoo = await loadModel('mnist-cnn-blrelu');
    const bl = zoo.layers.layers.filter((l): l is BoundedLeakyReLU => l instanceof BoundedLeakyReLU);
    expect(bl.map((l) => l.name)).toEqual(['blrelu1', 'blrelu2', 'blrelu3']);
    expect(zoo.layers.layers.some((l) => (l.getConfig() as { activation?: string }).activation === 'relu')).toBe(false);
    // The trained bounds: one trainable scalar per layer, moved away from its initial value 1.
    const bounds = await Promise.all(bl.map(async (l) => (await l.getWeights()[0]!.data())[0]!));
    for (const b of bounds) expect(b).toBeGreaterThan(0);
    expect(bounds.some((b) => Math.abs(b - 1) > 1e-3)).toBe(true);

    const { x, y } = await loadDataset('mnist', { source: 'shipped' });
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(zoo.model.logits(x), 1), y), 'int32')));
    const accuracy = (await hits.data())[0]! / x.shape[0];
    console.log(`mnist-cnn-blrelu: learned bounds ${bounds.map((b) => b.toFixed(3)).join(', ')}; shipped-set accuracy ${(100 * accuracy).toFixed(2)} %`);
    expect(Math.abs(accuracy - zoo.card.metrics.shippedEvalAccuracy)).toBeLessThanOrEqual(0.005);
    tf.dispose([x, y, hits]);
    zoo.layers.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
