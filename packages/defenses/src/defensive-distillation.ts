import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import {
  AdvxError,
  defineFactory,
  fromLayersModel,
  option,
  type EpochReport,
  type FitOptions,
  type LabeledData,
  type Model,
  type OptionsInput,
  type Trainer,
  type TrainResult,
} from '@advx/core';
import { forEachChunk } from '@advx/core/plugin';

import { assertLayersModel, cloneLayersModel, loopSettings, softCrossEntropy, trainLoop, validateData } from './internal/train-loop.js';
import { checkTraining, TRAINING_OPTIONS } from './internal/training-options.js';

const WHO = 'defensiveDistillation';

const DEFENSIVE_DISTILLATION_OPTIONS = {
  temperature: option.number(100, "softmax temperature T of training (100: the paper's MNIST setting)", { min: 0, above: true }),
  // Any value is accepted here: a teacher that is not a LayersModel is rejected as INVALID_MODEL by the check.
  teacher: option.optional<LayersModel>('a teacher already trained at temperature; when given, no teacher is trained', 'train one', {
    type: 'a tf.LayersModel',
    accepts: () => true,
  }),
  teacherEpochs: option.optional<number>('epochs of the teacher', 'epochs', {
    type: 'an integer in [1, ∞)',
    accepts: (v) => typeof v === 'number' && Number.isInteger(v) && v >= 1,
  }),
  ...TRAINING_OPTIONS,
};

/**
 * Options of {@link defensiveDistillation}.
 *
 * @public
 */
export type DefensiveDistillationOptions = OptionsInput<typeof DEFENSIVE_DISTILLATION_OPTIONS>;

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
 * Options: {@link defensiveDistillation}.schema (each declared once, with its default, range and
 * doc; `evaluation` and `earlyStopping` are objects whose fields are {@link RobustEvaluation} and
 * {@link EarlyStopping}).
 *
 * <!-- options:defensive-distillation -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `temperature` | number in (0, ∞) | 100 | softmax temperature T of training (100: the paper's MNIST setting) |
 * | `teacher` | a tf.LayersModel | null | a teacher already trained at temperature; when given, no teacher is trained (none: train one) |
 * | `teacherEpochs` | an integer in [1, ∞) | null | epochs of the teacher (none: epochs) |
 * | `epochs` | integer in [1, ∞) | 10 | epochs |
 * | `batchSize` | integer in [1, ∞) | 128 | batch size |
 * | `learningRate` | a finite number in [0, ∞) or a function epoch → rate | 0.001 | Adam learning rate, or a schedule epoch → rate |
 * | `bounds` | [low, high] with low < high | [0,1] | valid input range of the model |
 * | `evaluation` | { attack, epsilon, samples? } | null | robust accuracy per epoch on the validation data of FitOptions (none: no robust evaluation) |
 * | `earlyStopping` | { patience, monitor?, restoreBest? } | null | early stopping (none: train every epoch) |
 * | `onCheckpoint` | a function (model, report) => void | null | called after every epoch with the model being trained (save it to keep a checkpoint) (none: no checkpoints) |
 * <!-- /options -->
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
export const defensiveDistillation = defineFactory(
  WHO,
  DEFENSIVE_DISTILLATION_OPTIONS,
  (options): DistillationTrainer => {
    const who = WHO;
    const { temperature } = options;
    const settings = loopSettings(who, options);
    const teacherEpochs = options.teacherEpochs ?? settings.epochs;
    const resolved = Object.freeze({ ...options, teacherEpochs });
    const atTemperature = (logits: tf.Tensor2D) => tf.div(logits, temperature) as tf.Tensor2D;

    return Object.freeze({
      name: 'defensive-distillation',
      options: resolved,
      async fit(model: LayersModel, data: LabeledData, fit: FitOptions = {}): Promise<DistillationResult> {
        assertLayersModel(who, model);
        const probe = fromLayersModel(model, { bounds: settings.bounds });
        await validateData(who, probe, data);
        if (fit.validation) await validateData(`${who}: validation`, probe, fit.validation);
        if (options.teacher !== null) {
          const t = fromLayersModel(options.teacher, { bounds: settings.bounds });
          if (t.numClasses !== probe.numClasses || t.inputShape.join() !== probe.inputShape.join()) {
            throw new AdvxError(
              'INVALID_MODEL',
              `${who}: the teacher maps [${t.inputShape}] to ${t.numClasses} classes but the model maps [${probe.inputShape}] to ${probe.numClasses}.`,
            );
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
          let teacher = options.teacher ?? undefined;
          let teacherHistory: EpochReport[] = [];
          if (teacher === undefined) {
            teacher = await cloneLayersModel(model);
            owned.push(teacher);
            const teacherFit = {
              ...(fit.validation ? { validation: fit.validation } : {}),
              ...(fit.signal ? { signal: fit.signal } : {}),
              seed: fit.seed ?? 0,
            };
            teacherHistory = await trainLoop(
              teacher,
              data.x,
              hard,
              teacherFit,
              { ...settings, epochs: teacherEpochs, onCheckpoint: undefined, earlyStopping: undefined },
              loss,
            );
          }
          const t = fromLayersModel(teacher, { bounds: settings.bounds });
          const parts: tf.Tensor2D[] = [];
          await forEachChunk(data.x, 500, async (rows) => {
            parts.push(tf.tidy(() => tf.softmax(atTemperature(t.logits(rows)))));
          });
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
  },
  (o) => {
    checkTraining(WHO, o);
    if (o.teacher !== null) assertLayersModel(`${WHO}: teacher`, o.teacher);
  },
);
