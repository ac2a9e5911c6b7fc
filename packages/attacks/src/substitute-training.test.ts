import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { toQueryModel } from '@advx/core';

import { expectCode, maxDiff, substituteOracle, uniformBatch } from '../test/fixtures.js';

import { fgsm } from './fgsm.js';
import { trainSubstitute } from './substitute-training.js';

const { model: oracleModel } = substituteOracle;

async function agreement(a: tf.Tensor2D, b: tf.Tensor2D): Promise<number> {
  const t = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.argMax(a, 1), tf.argMax(b, 1)), 'float32')));
  const [v] = await t.data();
  t.dispose();
  return v as number;
}

describe('trainSubstitute (Papernot et al. 2017)', () => {
  const seeds = uniformBatch(1, 16);
  const held = uniformBatch(2, 200);

  it('spends seed size × 2^(ρ−1) label queries, imitates the oracle on held-out points, and FGSM on it transfers', async () => {
    const oracle = toQueryModel(oracleModel, { output: 'label', budget: 16 * 8 });
    const sub = await trainSubstitute(oracle, seeds, { hidden: [32], rounds: 4, epochs: 30, learningRate: 0.01, lambda: 0.1, seed: 0 });
    expect(sub.queries).toBe(16 * 8);
    expect(oracle.queries).toBe(16 * 8);
    expect(sub.trainingSetSize).toBe(128);
    const [zs, zo] = [sub.model.logits(held), oracleModel.logits(held)];
    const agree = await agreement(zs, zo);
    expect(agree).toBeGreaterThanOrEqual(0.65);
    const labels = tf.tidy(() => tf.cast(tf.argMax(zo, 1), 'int32') as tf.Tensor1D);
    const adv = await fgsm().run(sub.model, held, { labels }, { epsilons: [0.2] });
    const fooled = tf.tidy(() =>
      tf.mean(tf.cast(tf.notEqual(tf.cast(tf.argMax(oracleModel.logits(adv.clipped[0] as tf.Tensor), 1), 'int32'), labels), 'float32')),
    );
    expect((await fooled.data())[0]).toBeGreaterThan(0.5);
    tf.dispose([zs, zo, labels, fooled]);
    adv.dispose();
    sub.dispose();
  });

  it('Jacobian augmentation beats training on the seeds alone for the same number of epochs', async () => {
    const grown = await trainSubstitute(oracleModel, seeds, { hidden: [32], rounds: 4, epochs: 30, learningRate: 0.01, seed: 0 });
    const alone = await trainSubstitute(oracleModel, seeds, { hidden: [32], rounds: 1, epochs: 120, learningRate: 0.01, seed: 0 });
    const zo = oracleModel.logits(held);
    const [zg, za] = [grown.model.logits(held), alone.model.logits(held)];
    expect(await agreement(zg, zo)).toBeGreaterThan((await agreement(za, zo)) + 0.03);
    expect(alone.queries).toBe(16);
    tf.dispose([zo, zg, za]);
    grown.dispose();
    alone.dispose();
  });

  it('is deterministic under a seed and leaks nothing once disposed', async () => {
    const before = tf.memory().numTensors;
    const a = await trainSubstitute(oracleModel, seeds, { hidden: [8], rounds: 2, epochs: 2, seed: 5 });
    const b = await trainSubstitute(oracleModel, seeds, { hidden: [8], rounds: 2, epochs: 2, seed: 5 });
    const [za, zb] = [a.model.logits(held), b.model.logits(held)];
    expect(await maxDiff(za, zb)).toBe(0);
    tf.dispose([za, zb]);
    a.dispose();
    b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input before any query; a too-small budget fails with QUERY_BUDGET_EXHAUSTED and leaks nothing', async () => {
    const oracle = toQueryModel(oracleModel, { output: 'label', budget: 40 });
    for (const bad of [
      { rounds: 0 },
      { epochs: 0 },
      { hidden: [0] },
      { hidden: 3 },
      { lambda: -1 },
      { tau: 0 },
      { learningRate: 0 },
      { trainBatchSize: 0 },
      { steps: 3 },
    ]) {
      await expectCode('INVALID_OPTION', () => trainSubstitute(oracle, seeds, bad as never));
    }
    const outside = tf.fill([2, 8], 2);
    await expectCode('OUT_OF_BOUNDS', () => trainSubstitute(oracle, outside));
    expect(oracle.queries).toBe(0);
    await expectCode('QUERY_BUDGET_EXHAUSTED', () => trainSubstitute(oracle, seeds, { hidden: [4], rounds: 3, epochs: 1 }));
    const ac = new AbortController();
    await expectCode('ABORTED', () =>
      trainSubstitute(oracleModel, seeds, { hidden: [4], epochs: 5, signal: ac.signal, onProgress: (p) => p.step === 2 && ac.abort() }),
    );
    outside.dispose();
  });
});
