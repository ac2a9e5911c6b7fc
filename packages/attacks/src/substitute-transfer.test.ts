import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { predictClasses, toQueryModel } from '@advx/core';
import { assertConformance, checkAttack } from '@advx/core/testing';

import { expectCode, maxDiff, substituteOracle, uniformBatch } from '../test/fixtures.js';

import { fgsm } from './fgsm.js';
import { trainSubstitute } from './substitute-training.js';
import { substituteTransfer } from './substitute-transfer.js';

const { model: oracleModel } = substituteOracle;

const SETTINGS = { hidden: [32], rounds: 3, epochs: 20, learningRate: 0.01 } as const;

describe('substituteTransfer: the substitute transfer attack as a registered dataset-level attack', () => {
  const x = uniformBatch(1, 16);

  it("is FGSM on trainSubstitute's substitute of the run's samples, checked on the oracle", async () => {
    const before = tf.memory().numTensors;
    const labels = tf.tensor1d(await predictClasses(oracleModel, x), 'int32');
    const oracle = toQueryModel(oracleModel, { output: 'label' });
    const r = await substituteTransfer(SETTINGS).run(oracle, x, { labels }, { epsilons: [0.2], seed: 7 });
    const sub = await trainSubstitute(oracleModel, x, { ...SETTINGS, seed: 7 });
    const direct = await fgsm({ earlyStop: false }).run(sub.model, x, { labels }, { epsilons: [0.2] });
    expect(await maxDiff(r.clipped[0]!, direct.clipped[0]!)).toBeLessThanOrEqual(1e-6);
    const pred = await predictClasses(oracleModel, direct.clipped[0]!);
    const clean = await labels.data();
    expect(r.success[0]).toEqual(Array.from(pred, (p, i) => p !== clean[i]));
    expect(r.success[0]!.filter(Boolean).length).toBeGreaterThan(4);
    [r, direct].forEach((t) => t.dispose());
    sub.dispose();
    labels.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('charges each label query to the sample its synthetic input descends from: 2^(ρ−1) per sample and ε', async () => {
    const labels = tf.tensor1d(await predictClasses(oracleModel, x), 'int32');
    const run = async (rounds: number) => {
      const r = await substituteTransfer({ ...SETTINGS, rounds, epochs: 2 }).run(
        toQueryModel(oracleModel, { output: 'label' }),
        x,
        { labels },
        { epsilons: [0.1, 0.2], seed: 1 },
      );
      const q = Array.from(r.queries!);
      r.dispose();
      return q;
    };
    const [one, three] = [await run(1), await run(3)];
    // Rounds 1 → 3 add 1 + 2 label queries per sample at each of the 2 epsilons; the base's own checks are the same.
    expect(three.map((q, i) => q - (one[i] as number))).toEqual(new Array(16).fill(2 * 3));
    labels.dispose();
  });

  it('passes the attack conformance suite on a label-only oracle (one batch, maxPasses refused)', async () => {
    const labels = tf.tensor1d(await predictClasses(oracleModel, x), 'int32');
    assertConformance(
      await checkAttack(substituteTransfer(SETTINGS), { model: toQueryModel(oracleModel, { output: 'label' }), x, labels, epsilons: [0.1, 0.3] }),
    );
    assertConformance(
      await checkAttack(substituteTransfer({ ...SETTINGS, transfer: 'pgd', transferSteps: 5, norm: 'l2' }), {
        model: oracleModel,
        x,
        labels,
        epsilons: [0.3, 1],
      }),
    );
    labels.dispose();
  });

  it('is listed as a dataset-level decision attack and rejects bad options before any work', async () => {
    expect(substituteTransfer.meta).toMatchObject({ name: 'substitute-transfer', scope: 'dataset', threat: 'decision', goals: ['untargeted'] });
    await expectCode('INVALID_OPTION', async () => substituteTransfer({ rounds: 0 }));
    await expectCode('INVALID_OPTION', async () => substituteTransfer({ transfer: 'cw' as never }));
    await expectCode('INVALID_OPTION', async () => substituteTransfer({ hidden: [0] }));
  });
});
