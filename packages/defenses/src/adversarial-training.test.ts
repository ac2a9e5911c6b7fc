import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fromLayersModel, type EpochReport, type LabeledData } from '@advx/core';
import { fgsm, pgd } from '@advx/attacks';

import { expectCode, logreg, mnistSplit } from '../test/fixtures.js';

import { adversarialTraining } from './adversarial-training.js';

let train: LabeledData;
let validation: LabeledData;
let release: () => void;
beforeAll(async () => {
  ({ train, validation, dispose: release } = await mnistSplit());
});
afterAll(() => release());

const meanCe = (logits: tf.Tensor2D, y: tf.Tensor1D) =>
  tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.cast(y, 'int32'), 10), tf.logSoftmax(logits)), 1))));

describe('adversarialTraining', () => {
  it("reports Goodfellow's mixture α·J(x) + (1 − α)·J(x_adv) as its loss (one full batch, learning rate 0)", async () => {
    const model = logreg();
    const x = tf.slice(train.x, 0, 64);
    const y = tf.slice(train.y, 0, 64);
    const attack = fgsm();
    const advx = fromLayersModel(model, { bounds: [0, 1] });
    const adv = await attack.run(advx, x, { labels: y }, { epsilons: [0.1] });
    const [jClean, jAdv] = await Promise.all([meanCe(advx.logits(x), y).data(), meanCe(advx.logits(adv.clipped[0] as tf.Tensor), y).data()]);
    adv.dispose();
    for (const mix of [0, 0.3, 1]) {
      const { model: trained, history } = await adversarialTraining({ attack, epsilon: 0.1, mix, epochs: 1, batchSize: 64, learningRate: 0 }).fit(model, {
        x,
        y,
      });
      const want = mix * (jClean[0] as number) + (1 - mix) * (jAdv[0] as number);
      expect(history[0]!.loss, `mix ${mix}`).toBeCloseTo(want, 5);
      trained.dispose();
    }
    expect(Math.abs((jAdv[0] as number) - (jClean[0] as number))).toBeGreaterThan(0.01);
    tf.dispose([x, y]);
    model.dispose();
  });

  it(
    'FGSM-RS training (Wong et al.) raises FGSM ε = 0.1 robust accuracy of softmax regression on held-out MNIST; clean training does not',
    { timeout: 120_000 },
    async () => {
      const base = logreg();
      const evaluation = { attack: fgsm(), epsilon: 0.1, samples: 400 };
      const common = { epsilon: 0.1, epochs: 5, batchSize: 100, learningRate: 0.02, evaluation };
      const clean = await adversarialTraining({ ...common, attack: pgd({ steps: 1, relStepSize: 1.25 }), mix: 1 }).fit(base, train, { validation, seed: 1 });
      const reports: EpochReport[] = [];
      const checkpoints: number[] = [];
      const adv = await adversarialTraining({
        ...common,
        attack: pgd({ steps: 1, relStepSize: 1.25 }),
        onCheckpoint: (m, r) => {
          expect(m.layers.length).toBe(2);
          checkpoints.push(r.epoch);
        },
      }).fit(base, train, { validation, seed: 1, onEpoch: (r) => reports.push(r) });
      const last = (h: readonly EpochReport[]) => h[h.length - 1] as EpochReport;
      console.info(
        `softmax regression, 600 MNIST images, 5 epochs (cpu): clean training clean ${(100 * last(clean.history).cleanAccuracy!).toFixed(1)} % / FGSM ε=0.1 ${(100 * last(clean.history).robustAccuracy!).toFixed(1)} %; ` +
          `FGSM-RS training clean ${(100 * last(adv.history).cleanAccuracy!).toFixed(1)} % / FGSM ${(100 * last(adv.history).robustAccuracy!).toFixed(1)} % (n=400 held out)`,
      );
      expect(adv.history).toHaveLength(5);
      expect(reports).toEqual(adv.history);
      expect(checkpoints).toEqual([0, 1, 2, 3, 4]);
      expect(last(clean.history).cleanAccuracy).toBeGreaterThan(0.75);
      expect(last(adv.history).robustAccuracy!).toBeGreaterThan(last(clean.history).robustAccuracy! + 0.15);
      clean.model.dispose();
      adv.model.dispose();
      base.dispose();
    },
  );

  it('trains a copy, is seeded, stops early restoring the best weights, and leaks no tensor', { timeout: 120_000 }, async () => {
    const base = logreg();
    const before = base.getWeights().map((w) => w.dataSync().slice());
    const tensors = tf.memory().numTensors;
    const opts = { attack: pgd({ steps: 1, relStepSize: 1.25 }), epsilon: 0.1, epochs: 1, batchSize: 100, learningRate: 0.01 };
    const small = { x: tf.slice(train.x, 0, 200), y: tf.slice(train.y, 0, 200) };
    const a = await adversarialTraining(opts).fit(base, small, { seed: 3 });
    const b = await adversarialTraining(opts).fit(base, small, { seed: 3 });
    const c = await adversarialTraining(opts).fit(base, small, { seed: 4 });
    const w = (m: tfl.LayersModel) => Array.from(m.getWeights()[0]!.dataSync());
    expect(w(a.model)).toEqual(w(b.model));
    expect(w(a.model)).not.toEqual(w(c.model));
    expect(base.getWeights().map((t) => t.dataSync())).toEqual(before);
    // Descent in epoch 0, then ascent (a negative rate): accuracy falls, training stops after
    // `patience` + 1 worse epochs and the epoch-0 weights come back.
    const stopped = await adversarialTraining({
      ...opts,
      epochs: 6,
      learningRate: (e) => (e === 0 ? 0.01 : -0.05),
      earlyStopping: { patience: 1, monitor: 'cleanAccuracy' },
    }).fit(base, small, { validation, seed: 3 });
    expect(stopped.history).toHaveLength(3);
    const best = Math.max(...stopped.history.map((r) => r.cleanAccuracy!));
    expect(stopped.history[0]!.cleanAccuracy).toBe(best);
    const restored = fromLayersModel(stopped.model, { bounds: [0, 1] });
    const hits = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(restored.logits(validation.x), 1), validation.y), 'float32')));
    expect((await hits.data())[0]! / 400).toBeCloseTo(best, 6);
    hits.dispose();
    [a, b, c, stopped].forEach((r) => r.model.dispose());
    tf.dispose([small.x, small.y]);
    expect(tf.memory().numTensors).toBe(tensors);
    base.dispose();
  });

  it('rejects bad options and data with a clear AdvxError before any work, leaking nothing', async () => {
    const base = logreg();
    const attack = fgsm();
    const bad: [string, () => unknown][] = [
      ['INVALID_OPTION', () => adversarialTraining({ epsilon: 0.1 } as never)],
      ['INVALID_OPTION', () => adversarialTraining({ attack, epsilon: -1 })],
      ['INVALID_OPTION', () => adversarialTraining({ attack, epsilon: 0.1, mix: 1.5 })],
      ['INVALID_OPTION', () => adversarialTraining({ attack, epsilon: 0.1, epochs: 0 })],
      ['INVALID_OPTION', () => adversarialTraining({ attack, epsilon: 0.1, earlyStopping: { patience: 1, monitor: 'robustAccuracy' } })],
    ];
    for (const [code, fn] of bad) {
      await expectCode(code as 'INVALID_OPTION', () => fn());
    }
    const trainer = adversarialTraining({ attack, epsilon: 0.1, epochs: 1 });
    const flat = tf.zeros([4, 784]);
    const labels = tf.tensor1d([0, 1, 2, 12], 'int32');
    const x4 = tf.slice(train.x, 0, 4);
    const tensors = tf.memory().numTensors;
    for (const [code, data] of [
      ['INVALID_SHAPE', { x: flat, y: labels }],
      ['LABEL_OUT_OF_RANGE', { x: x4, y: labels }],
    ] as const) {
      await expectCode(code, () => trainer.fit(base, data as LabeledData));
    }
    await expectCode('INVALID_MODEL', () => trainer.fit({} as tfl.LayersModel, train));
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([flat, labels, x4]);
    base.dispose();
  });

  it('stops with ABORTED at the next batch once its signal aborts, leaking nothing', async () => {
    const base = logreg();
    const x = tf.slice(train.x, 0, 64);
    const y = tf.slice(train.y, 0, 64);
    const trainer = adversarialTraining({ attack: fgsm(), epsilon: 0.1, epochs: 3, batchSize: 32 });
    const tensors = tf.memory().numTensors;
    const before = new AbortController();
    before.abort();
    const midway = new AbortController();
    const epochs: number[] = [];
    for (const [signal, onEpoch] of [
      [before.signal, undefined],
      [midway.signal, (r: EpochReport) => (epochs.push(r.epoch), midway.abort())],
    ] as const) {
      const e = await trainer.fit(base, { x, y }, { signal, ...(onEpoch ? { onEpoch } : {}) }).catch((err: unknown) => err);
      expect(e).toMatchObject({ code: 'ABORTED' });
      expect((e as Error).message).toContain('adversarialTraining was aborted through its AbortSignal; partial results were released.');
    }
    expect(epochs).toEqual([0]);
    expect(tf.memory().numTensors).toBe(tensors);
    tf.dispose([x, y]);
    base.dispose();
  });
});
