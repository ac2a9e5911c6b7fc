import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fromLayersModel, type LabeledData } from '@advx/core';

import { expectCode, logreg, mnistSplit } from '../test/fixtures.js';

import { defensiveDistillation } from './defensive-distillation.js';

let train: LabeledData;
let validation: LabeledData;
let release: () => void;
beforeAll(async () => {
  ({ train, validation, dispose: release } = await mnistSplit());
});
afterAll(() => release());

describe('defensiveDistillation (Papernot et al. 2016)', () => {
  it('trains the student on the teacher’s soft labels at T: its loss is CE(softmax(z_s/T), softmax(z_t/T)) (hand-computed)', async () => {
    const teacher = logreg(7);
    const model = logreg(1);
    const x = tf.slice(train.x, 0, 64);
    const y = tf.slice(train.y, 0, 64);
    const T = 5;
    const zs = fromLayersModel(model, { bounds: [0, 1] }).logits(x);
    const zt = fromLayersModel(teacher, { bounds: [0, 1] }).logits(x);
    const want = tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(tf.softmax(tf.div(zt, T)), tf.logSoftmax(tf.div(zs, T))), 1))));
    const r = await defensiveDistillation({ temperature: T, teacher, epochs: 1, batchSize: 64, learningRate: 0 }).fit(model, { x, y });
    expect(r.history[0]!.loss).toBeCloseTo((await want.data())[0] as number, 5);
    expect(r.teacher).toBe(teacher);
    expect(r.teacherHistory).toEqual([]);
    r.model.dispose();
    tf.dispose([x, y, zs, zt, want]);
    teacher.dispose();
    model.dispose();
  });

  it('at T = 10 the deployed student keeps its accuracy with logits ≥ 2× larger than at T = 1 (a saturated softmax)', { timeout: 120_000 }, async () => {
    const base = logreg();
    const tensors = tf.memory().numTensors;
    const before = base.getWeights().map((w) => w.dataSync().slice());
    const common = { epochs: 3, batchSize: 100, learningRate: 0.05 };
    const plain = await defensiveDistillation({ ...common, temperature: 1 }).fit(base, train, { validation, seed: 1 });
    const distilled = await defensiveDistillation({ ...common, temperature: 10 }).fit(base, train, { validation, seed: 1 });
    const spread = async (m: tfl.LayersModel) => {
      const s = tf.tidy(() => {
        const z = fromLayersModel(m, { bounds: [0, 1] }).logits(validation.x);
        return tf.mean(tf.sub(tf.max(z, 1), tf.min(z, 1)));
      });
      const v = (await s.data())[0] as number;
      s.dispose();
      return v;
    };
    const [sPlain, sDistilled] = [await spread(plain.model), await spread(distilled.model)];
    const acc = distilled.history.at(-1)!.cleanAccuracy!;
    console.info(
      `softmax regression, 600 MNIST images (cpu): T=1 accuracy ${(100 * plain.history.at(-1)!.cleanAccuracy!).toFixed(1)} %, logit spread ${sPlain.toFixed(1)}; T=10 student accuracy ${(100 * acc).toFixed(1)} %, logit spread ${sDistilled.toFixed(1)} (n=400 held out)`,
    );
    expect(distilled.teacherHistory).toHaveLength(3);
    expect(distilled.history).toHaveLength(3);
    expect(acc).toBeGreaterThan(0.75);
    expect(sDistilled).toBeGreaterThan(2 * sPlain);
    expect(base.getWeights().map((t) => t.dataSync())).toEqual(before);
    [plain, distilled].forEach((r) => {
      r.model.dispose();
      r.teacher.dispose();
    });
    expect(tf.memory().numTensors).toBe(tensors);
    base.dispose();
  });

  it('rejects bad options with a clear AdvxError, leaking nothing', async () => {
    for (const bad of [{ temperature: 0 }, { temperature: -2 }, { teacherEpochs: 0 }, { teacher: {} as tfl.LayersModel }]) {
      await expectCode(bad.teacher ? 'INVALID_MODEL' : 'INVALID_OPTION', () => defensiveDistillation(bad));
    }
    const base = logreg();
    const other = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 3 })] });
    const tensors = tf.memory().numTensors;
    await expectCode('INVALID_MODEL', () => defensiveDistillation({ teacher: other }).fit(base, train));
    expect(tf.memory().numTensors).toBe(tensors);
    base.dispose();
    other.dispose();
  });
});
