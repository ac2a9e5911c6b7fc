/**
 * Tiny conformance cases, one per attack registered by `register-all`: each attack with few steps or
 * queries and the seeded fixture it is checked on. Shared by the WebGPU conformance run and the
 * concurrent-runs check.
 */
import * as tf from '@tensorflow/tfjs-core';

import { toQueryModel, type Attack } from '@advx/core';
import { selfLabeledData, type AttackFixture } from '@advx/core/testing';

import {
  adversarialPatch,
  apgd,
  apgdCe,
  apgdDlr,
  apgdT,
  bim,
  boundaryAttack,
  carliniWagnerL2,
  ddn,
  deepfool,
  ead,
  fab,
  fabT,
  fgsm,
  finiteDifferences,
  fmn,
  hopSkipJump,
  jsma,
  miFgsm,
  nes,
  onePixel,
  pgd,
  simba,
  spsa,
  square,
  substituteTransfer,
  universal,
  universalPatch,
} from '../src/index.js';

import { imageNet } from './black-box-fixtures.js';
import { imageMlp, jsmaLinear, net, netData } from './fixtures.js';

/** The first 4 of the fixtures' 8 inputs, labelled by their networks (clean accuracy 100 %). */
const x = tf.slice(netData.x, 0, 4);
const labels = tf.slice(netData.labels, 0, 4);
const images = tf.reshape(x, [4, 4, 4, 1]);
const patchData = selfLabeledData(imageMlp.model, 4, 4);

const jsmaX = tf.tensor2d(jsmaLinear.conformanceRows);
const jsmaLabels = tf.tidy(() => tf.cast(tf.argMax(jsmaLinear.model.logits(jsmaX), 1), 'int32') as tf.Tensor1D);

const white: Omit<AttackFixture, 'epsilons'> = { model: net, x, labels };
const scores = () => ({ ...white, model: toQueryModel(net, { output: 'scores' }) });
const labelOnly = () => ({ ...white, model: toQueryModel(net, { output: 'label' }) });
const imageScores = () => ({ model: toQueryModel(imageNet, { output: 'scores' }), x: images, labels });

/** Tensors of the cases' fixtures (release them in `afterAll`). */
export const caseTensors = (): tf.Tensor[] => [x, labels, images, patchData.x, patchData.labels, jsmaX, jsmaLabels];

/** One case per registered attack name: the attack with few steps and the fixture it is checked on. */
export const cases: Record<string, () => [Attack, AttackFixture]> = {
  'adversarial-patch': () => [
    adversarialPatch({ steps: 10, restarts: 1 }),
    { model: imageMlp.model, x: patchData.x, labels: patchData.labels, epsilons: [4, 16, 36], minSuccess: 0.75 },
  ],
  apgd: () => [apgd({ steps: 5 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  'apgd-ce': () => [apgdCe({ steps: 5 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  'apgd-dlr': () => [apgdDlr({ steps: 5, norm: 'l2' }), { ...white, epsilons: [0.1, 0.5, 1.5], minSuccess: 0.75 }],
  'apgd-t': () => [apgdT({ steps: 5, numTargets: 2 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  bim: () => [bim({ steps: 5, stepSize: 0.08 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  'boundary-attack': () => [boundaryAttack({ maxQueries: 100 }), { ...labelOnly(), epsilons: [0.5, 2], minSuccess: 0.75 }],
  'carlini-wagner-l2': () => [
    carliniWagnerL2({ steps: 10, binarySearchSteps: 2, learningRate: 0.05, initialConst: 1 }),
    { ...white, epsilons: [0.1, 0.5, 2], minSuccess: 0.75 },
  ],
  ddn: () => [ddn({ steps: 10 }), { ...white, epsilons: [0.1, 0.5, 2], minSuccess: 0.75 }],
  deepfool: () => [deepfool(), { ...white, epsilons: [0.05, 0.2, 2], minSuccess: 1 }],
  ead: () => [ead({ steps: 10, binarySearchSteps: 2, learningRate: 0.05, initialConst: 1 }), { ...white, epsilons: [0.5, 2, 8], minSuccess: 0.75 }],
  fab: () => [fab({ steps: 10 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 1 }],
  'fab-t': () => [fabT({ steps: 5, numTargets: 2 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 1 }],
  fgsm: () => [fgsm(), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  'finite-differences': () => [finiteDifferences({ maxQueries: 200 }), { ...scores(), epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  fmn: () => [fmn({ steps: 10 }), { ...white, epsilons: [0.1, 0.5, 2], minSuccess: 1 }],
  'hop-skip-jump': () => [hopSkipJump({ maxQueries: 150, steps: 3 }), { ...labelOnly(), epsilons: [0.5, 2], minSuccess: 0.75 }],
  jsma: () => [
    jsma({ gamma: 1 }),
    { model: jsmaLinear.model, x: jsmaX, labels: jsmaLabels, targets: tf.zerosLike(jsmaLabels), epsilons: [1, 2, 4], minSuccess: 1, minTargetedSuccess: 1 },
  ],
  'mi-fgsm': () => [miFgsm({ steps: 5 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  nes: () => [nes({ samples: 10, relStepSize: 0.25, maxQueries: 200 }), { ...scores(), epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  'one-pixel': () => [onePixel({ pixels: 3, populationSize: 10, generations: 3 }), { ...imageScores(), epsilons: [3], minSuccess: 0.5 }],
  pgd: () => [pgd({ steps: 5, relStepSize: 0.3 }), { ...white, epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  simba: () => [simba({ stepSize: 0.3, maxQueries: 60 }), { ...imageScores(), epsilons: [1, 3], minSuccess: 0.75 }],
  spsa: () => [spsa({ samples: 10, relStepSize: 0.25, maxQueries: 200 }), { ...scores(), epsilons: [0.02, 0.1, 0.3], minSuccess: 0.75 }],
  square: () => [square({ maxQueries: 60, pInit: 0.5 }), { ...imageScores(), epsilons: [0.1, 0.3], minSuccess: 0.75 }],
  'substitute-transfer': () => [
    substituteTransfer({ hidden: [16], rounds: 2, epochs: 10, learningRate: 0.01 }),
    { ...labelOnly(), epsilons: [0.1, 0.3], minSuccess: 0.5 },
  ],
  'universal-patch': () => [
    universalPatch({ steps: 10, imagesPerStep: 4, stepSize: 0.1 }),
    { model: imageMlp.model, x: patchData.x, labels: patchData.labels, epsilons: [4, 16, 36], minSuccess: 0.5 },
  ],
  'universal-perturbation': () => [universal({ epochs: 2 }), { ...white, epsilons: [0.05, 0.3], minSuccess: 0.5 }],
};
