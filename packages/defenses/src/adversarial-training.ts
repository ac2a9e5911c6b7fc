import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

import {
  defineFactory,
  deriveSeed,
  fromLayersModel,
  option,
  type Attack,
  type FitOptions,
  type LabeledData,
  type OptionsInput,
  type Trainer,
  type TrainResult,
} from '@advx/core';

import { assertLayersModel, cloneLayersModel, loopSettings, softCrossEntropy, trainLoop, validateData } from './internal/train-loop.js';
import { checkTraining, TRAINING_OPTIONS } from './internal/training-options.js';

const WHO = 'adversarialTraining';

const ADVERSARIAL_TRAINING_OPTIONS = {
  attack: option.custom<Attack, undefined>(
    undefined,
    "the attack that crafts the training adversarials, through the core Attack contract: FGSM with random start (Wong et al.) is pgd({ steps: 1, relStepSize: 1.25 }), Madry et al.'s PGD pgd({ steps: 40, relStepSize: 0.01 / 0.3 })",
    {
      type: 'an advx Attack, e.g. pgd({ steps: 1, relStepSize: 1.25 }) from @advx/attacks',
      accepts: (v) => !!v && typeof v === 'object' && typeof (v as Attack).run === 'function',
    },
  ),
  epsilon: option.number(undefined, 'perturbation radius of the training attack, in input units', { min: 0 }),
  mix: option.number(
    0,
    'weight α of the clean loss in α·J(x) + (1 − α)·J(x_adv) (0: adversarial loss only, as Madry et al. and Wong et al.; Goodfellow et al. use 0.5)',
    {
      min: 0,
      max: 1,
    },
  ),
  rampEpochs: option.number(0, 'epochs over which epsilon ramps up linearly from 0 (0: full epsilon from the start)', { min: 0 }),
  ...TRAINING_OPTIONS,
};

/**
 * Adversarial training: every batch is (partly) replaced by adversarial examples of the model being
 * trained, crafted by any advx attack, and the model minimises `α·J(x) + (1 − α)·J(x_adv)`.
 *
 * Papers: Ian Goodfellow, Jonathon Shlens, Christian Szegedy (2015), "Explaining and Harnessing
 * Adversarial Examples", {@link https://arxiv.org/abs/1412.6572} (the mixture, FGSM);
 * Aleksander Madry et al. (2018), "Towards Deep Learning Models Resistant to Adversarial Attacks",
 * {@link https://arxiv.org/abs/1706.06083} (PGD, α = 0); Eric Wong, Leslie Rice, J. Zico Kolter (2020),
 * "Fast is better than free: Revisiting adversarial training", {@link https://arxiv.org/abs/2001.03994}
 * (FGSM with a random start and step 1.25ε).
 *
 * Threat model addressed: white-box perturbations in the training attack's norm up to `epsilon`
 * (empirical robustness, no certificate). Not addressed: larger radii, other norms, unseen threat
 * models (patches, rotations). Known bypass: none for PGD training within ε on MNIST-scale data,
 * but weak training attacks (FGSM without random start) overfit to themselves — "catastrophic
 * overfitting" (Wong et al.) — and PGD then breaks the model: evaluate with PGD/APGD, never with
 * the training attack alone.
 *
 * Works on tfjs LayersModels with one input and one class-score output (a final softmax is handled
 * through the logits). `fit` trains a copy (the caller's model is unchanged) with Adam, seeded
 * shuffling, the attack seeded per batch, a report per epoch (loss, clean and robust accuracy on
 * `validation`), early stopping and checkpoints. Layers run in inference mode (no dropout).
 *
 * Options: {@link adversarialTraining}.schema (each declared once, with its default, range and doc;
 * `evaluation` and `earlyStopping` are objects whose fields are {@link RobustEvaluation} and
 * {@link EarlyStopping}).
 *
 * <!-- options:adversarial-training -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `attack` | an advx Attack, e.g. pgd({ steps: 1, relStepSize: 1.25 }) from @advx/attacks | required | the attack that crafts the training adversarials, through the core Attack contract: FGSM with random start (Wong et al.) is pgd({ steps: 1, relStepSize: 1.25 }), Madry et al.'s PGD pgd({ steps: 40, relStepSize: 0.01 / 0.3 }) |
 * | `epsilon` | number in [0, ∞) | required | perturbation radius of the training attack, in input units |
 * | `mix` | number in [0, 1] | 0 | weight α of the clean loss in α·J(x) + (1 − α)·J(x_adv) (0: adversarial loss only, as Madry et al. and Wong et al.; Goodfellow et al. use 0.5) |
 * | `rampEpochs` | number in [0, ∞) | 0 | epochs over which epsilon ramps up linearly from 0 (0: full epsilon from the start) |
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
 * import { pgd } from '@advx/attacks';
 * import { loadDataset } from '@advx/models-zoo';
 * import { adversarialTraining } from '@advx/defenses';
 *
 * const trainer = adversarialTraining({
 *   attack: pgd({ steps: 1, relStepSize: 1.25 }), // FGSM with random start
 *   epsilon: 0.3, rampEpochs: 2, epochs: 8,
 *   evaluation: { attack: pgd({ steps: 20 }), epsilon: 0.3, samples: 200 },
 * });
 * const validation = await loadDataset('mnist', { count: 500 });
 * const { model, history } = await trainer.fit(layersModel, train, { validation, seed: 1 });
 * ```
 * @public
 */
export const adversarialTraining = defineFactory(
  WHO,
  ADVERSARIAL_TRAINING_OPTIONS,
  (options): Trainer<LayersModel, AdversarialTrainingOptions> => {
    const who = WHO;
    const { attack, epsilon, mix, rampEpochs } = options;
    const settings = loopSettings(who, options);

    return Object.freeze({
      name: 'adversarial-training',
      options,
      async fit(model: LayersModel, data: LabeledData, fit: FitOptions = {}): Promise<TrainResult<LayersModel>> {
        assertLayersModel(who, model);
        const probe = fromLayersModel(model, { bounds: settings.bounds });
        await validateData(who, probe, data);
        if (fit.validation) await validateData(`${who}: validation`, probe, fit.validation);
        const seed = fit.seed ?? 0;
        const n = data.x.shape[0] as number;
        const copy = await cloneLayersModel(model);
        const targets = tf.tidy(() => tf.cast(tf.oneHot(tf.cast(data.y, 'int32'), probe.numClasses), 'float32') as tf.Tensor2D);
        try {
          const history = await trainLoop(copy, data.x, targets, fit, settings, async (m, xb, tb, at) => {
            const progress = rampEpochs > 0 ? Math.min(1, (at.epoch + at.offset / n) / rampEpochs) : 1;
            const eps = epsilon * progress;
            let xAdv: tf.Tensor | undefined;
            if (mix < 1 && eps > 0) {
              const labels = tf.tidy(() => tf.cast(tf.argMax(tb, 1), 'int32') as tf.Tensor1D);
              try {
                const r = await attack.run(m, xb, { labels }, { epsilons: [eps], seed: deriveSeed(seed, at.epoch, at.batch) });
                xAdv = tf.clone(r.clipped[0] as tf.Tensor);
                r.dispose();
              } finally {
                labels.dispose();
              }
            }
            const adv = xAdv ?? xb;
            return {
              loss: () =>
                tf.tidy(() => {
                  const advLoss = softCrossEntropy(m.logits(adv), tb);
                  return mix === 0 ? advLoss : (tf.add(tf.mul(softCrossEntropy(m.logits(xb), tb), mix), tf.mul(advLoss, 1 - mix)) as tf.Scalar);
                }),
              dispose: () => xAdv?.dispose(),
            };
          });
          return { model: copy, history };
        } catch (e) {
          copy.dispose();
          throw e;
        } finally {
          targets.dispose();
        }
      },
    });
  },
  (o) => void checkTraining(WHO, o),
);

/**
 * Options of {@link adversarialTraining}.
 *
 * @public
 */
export type AdversarialTrainingOptions = OptionsInput<typeof ADVERSARIAL_TRAINING_OPTIONS>;
