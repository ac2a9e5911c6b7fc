import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import { AdvxError, checkInteger, checkNumber, fromLayersModel, type EpochReport, type FitOptions, type LabeledData, type Model, type Trainer, type TrainResult } from '@advx/core';

import { assertLayersModel, cloneLayersModel, resolveSettings, softCrossEntropy, trainLoop, validateData } from './internal/train-loop.js';
import type { TrainingOptions } from './internal/training-options.js';

/**
 * Options of {@link defensiveDistillation}.
 *
 * @public
 */
export interface DefensiveDistillationOptions extends TrainingOptions {
  /** Softmax temperature T of training, > 0 (default 100, the paper's MNIST setting). */
  readonly temperature?: number;
  /** A teacher already trained at `temperature`; when given, no teacher is trained (default: train one). */
  readonly teacher?: LayersModel;
  /** Epochs of the teacher, an integer ≥ 1 (default: `epochs`). */
  readonly teacherEpochs?: number;
}

/**
 * The result of {@link defensiveDistillation}'s `fit`: the student (deployed at T = 1), its history,
 * and the teacher.
 *
 * @public
 */
export interface DistillationResult extends TrainResult<LayersModel> {
  /** The teacher trained at T (or the one passed in options, not a copy). */
  readonly teacher: LayersModel;
  /** The teacher's history (empty when the teacher was given). */
  readonly teacherHistory: EpochReport[];
}

/**
 * The trainer of {@link defensiveDistillation}: a core `Trainer` whose `fit` also returns the teacher.
 *
 * @public
 */
export interface DistillationTrainer extends Trainer<LayersModel, DefensiveDistillationOptions> {
  /** Trains the teacher (unless given) and the student on copies of `model`. */
  fit(model: LayersModel, data: LabeledData, options?: FitOptions): Promise<DistillationResult>;
}

/**
 * Defensive distillation: a teacher is trained on the hard labels with its softmax at temperature T
 * (`softmax(z/T)`), its soft labels `softmax(z_teacher(x)/T)` train a student of the same architecture,
 * also at T, and the student is deployed at T = 1 — its logits are about T times larger, so its
 * softmax saturates.
 *
 * Paper: Nicolas Papernot, Patrick McDaniel, Xi Wu, Somesh Jha, Ananthram Swami (2016), "Distillation
 * as a Defense to Adversarial Perturbations against Deep Neural Networks", IEEE S&P,
 * {@link https://arxiv.org/abs/1511.04508}.
 *
 * Threat model addressed: gradient attacks on the softmax output or on the cross-entropy of the
 * deployed model (FGSM, PGD on CE, JSMA on probabilities), whose gradients vanish in float32 at
 * T = 1. Not addressed — and this is the known failure: the model is not more robust, its gradients
 * are masked. Known bypass: Carlini & Wagner (2016, "Defensive Distillation is Not Robust to
 * Adversarial Examples", {@link https://arxiv.org/abs/1607.04311}; 2017,
 * {@link https://arxiv.org/abs/1608.04644}) — attacks on the logits (C&W-L2 with the margin loss,
 * PGD with `loss: 'margin'`), or on the softmax at temperature T, succeed as on an undefended model.
 * The zoo's `mnist-cnn-distilled` test shows both: FGSM/PGD success drops, C&W-L2 still succeeds.
 *
 * `fit(model, data)` trains copies of `model` (its weights are the initialisation of both teacher
 * and student; the caller's model is unchanged), with the loop of {@link adversarialTraining} (seeded
 * shuffling, per-epoch reports on `validation`, early stopping, checkpoints — of the student).
 *
 * Options (defaults): `temperature` (100), `teacher` (trained), `teacherEpochs` (= `epochs`),
 * `epochs` (10), `batchSize` (128), `learningRate` (0.001), `bounds` ([0, 1]), `evaluation`,
 * `earlyStopping`, `onCheckpoint`.
 *
 * @example
 * ```ts
 * import { defensiveDistillation } from '@advx/defenses';
 *
 * const { model: student, teacher } = await defensiveDistillation({ temperature: 100, epochs: 2 })
 *   .fit(untrainedCnn, { x, y }, { seed: 1 });
 * // attack `fromLayersModel(student, { bounds: [0, 1] })` with C&W-L2: distillation does not stop it
 * ```
 * @public
 */
export function defensiveDistillation(options: DefensiveDistillationOptions = {}): DistillationTrainer {
  const who = 'defensiveDistillation';
  const temperature = checkNumber(`${who}: temperature`, options.temperature ?? 100, 0, Infinity, true);
  const settings = resolveSettings(who, options, { epochs: 10 });
  const teacherEpochs = checkInteger(`${who}: teacherEpochs`, options.teacherEpochs ?? settings.epochs, 1);
  if (options.teacher !== undefined) assertLayersModel(`${who}: teacher`, options.teacher);
  const resolved = Object.freeze({ ...options, temperature, teacherEpochs, epochs: settings.epochs, batchSize: settings.batchSize });
  const atTemperature = (logits: tf.Tensor2D) => tf.div(logits, temperature) as tf.Tensor2D;

  return Object.freeze({
    name: 'defensive-distillation',
    options: resolved,
    async fit(model: LayersModel, data: LabeledData, fit: FitOptions = {}): Promise<DistillationResult> {
      assertLayersModel(who, model);
      const probe = fromLayersModel(model, { bounds: settings.bounds });
      await validateData(who, probe, data);
      if (fit.validation) await validateData(`${who}: validation`, probe, fit.validation);
      if (options.teacher) {
        const t = fromLayersModel(options.teacher, { bounds: settings.bounds });
        if (t.numClasses !== probe.numClasses || t.inputShape.join() !== probe.inputShape.join()) {
          throw new AdvxError('INVALID_MODEL', `${who}: the teacher maps [${t.inputShape}] to ${t.numClasses} classes but the model maps [${probe.inputShape}] to ${probe.numClasses}.`);
        }
      }
      const hard = tf.tidy(() => tf.cast(tf.oneHot(tf.cast(data.y, 'int32'), probe.numClasses), 'float32') as tf.Tensor2D);
      const owned: LayersModel[] = [];
      let soft: tf.Tensor2D | undefined;
      const loss = async (m: Model, xb: tf.Tensor, tb: tf.Tensor2D) => ({
        loss: () => tf.tidy(() => softCrossEntropy(atTemperature(m.logits(xb)), tb)),
        dispose: () => undefined,
      });
      try {
        let teacher = options.teacher;
        let teacherHistory: EpochReport[] = [];
        if (teacher === undefined) {
          teacher = await cloneLayersModel(model);
          owned.push(teacher);
          const teacherFit = { ...(fit.validation ? { validation: fit.validation } : {}), ...(fit.signal ? { signal: fit.signal } : {}), seed: fit.seed ?? 0 };
          teacherHistory = await trainLoop(teacher, data.x, hard, teacherFit, { ...settings, epochs: teacherEpochs, onCheckpoint: undefined, earlyStopping: undefined }, loss);
        }
        const t = fromLayersModel(teacher, { bounds: settings.bounds });
        const n = data.x.shape[0] as number;
        const parts: tf.Tensor2D[] = [];
        for (let i = 0; i < n; i += 500) parts.push(tf.tidy(() => tf.softmax(atTemperature(t.logits(tf.slice(data.x, i, Math.min(500, n - i)))))));
        soft = tf.concat(parts) as tf.Tensor2D;
        tf.dispose(parts);
        const student = await cloneLayersModel(model);
        owned.push(student);
        const history = await trainLoop(student, data.x, soft, fit, settings, loss);
        return { model: student, history, teacher, teacherHistory };
      } catch (e) {
        owned.forEach((m) => m.dispose());
        throw e;
      } finally {
        tf.dispose([hard, ...(soft ? [soft] : [])]);
      }
    },
  });
}
