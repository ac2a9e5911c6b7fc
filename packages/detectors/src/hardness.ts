import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  defineFactory,
  option,
  predictClasses,
  resolveOptions,
  type AnyModel,
  type Attack,
  type Detector,
  type Model,
  type OptionsResolved,
  type FactoryOptions,
} from '@advx/core';

import { checkBatch, checkModel } from './internal/checks.js';
import { finiteNumber } from './internal/finite-number.js';

const DEFAULT_SCHEDULE: readonly number[] = Object.freeze([1, 2, 3, 4, 6, 8, 12, 16, 24, 32]);

const isAttack = (v: unknown): v is Attack => !!v && typeof v === 'object' && typeof (v as Attack).run === 'function';

const HARDNESS_OPTIONS = {
  attack: option.custom<Attack | ((steps: number) => Attack), undefined>(
    undefined,
    'the attack that tries to flip each sample: a minimization attack (deepfool(), carliniWagnerL2()), whose minimal perturbation size is the hardness, or a function steps → fixed-epsilon Attack whose step size does not depend on steps',
    { type: 'a minimization Attack or a function steps → fixed-epsilon Attack', accepts: (v) => isAttack(v) || typeof v === 'function' },
  ),
  epsilon: option.optional<number>('the epsilon of the fixed-epsilon attack, required with a steps → Attack function', 'a minimization attack needs none', {
    type: 'a finite number in (0, ∞)',
    accepts: finiteNumber(0, true),
  }),
  schedule: option.custom<readonly number[]>(
    DEFAULT_SCHEDULE,
    "increasing step counts tried for a steps → Attack function; a sample's hardness is the first count that flips it (each count runs only on the samples not yet flipped)",
    {
      type: 'a non-empty, strictly increasing list of integer step counts ≥ 1, e.g. [1, 2, 4, 8]',
      accepts: (v) => Array.isArray(v) && v.length > 0 && v.every((s, i) => Number.isInteger(s) && s >= 1 && (i === 0 || s > (v[i - 1] as number))),
      json: true,
    },
  ),
  seed: option.number(0, 'seed of the attack runs'),
};

/**
 * Options of {@link hardness} and {@link hardnessDetector}.
 *
 * @public
 */
export type HardnessOptions = FactoryOptions<typeof hardnessDetector>;

/** Constraints between the options of {@link hardness}. */
function checkHardness(o: OptionsResolved<typeof HARDNESS_OPTIONS>): void {
  if (isAttack(o.attack) && o.attack.meta.kind !== 'minimization') {
    throw new AdvxError(
      'INVALID_OPTION',
      `hardness: '${o.attack.meta.name}' is a fixed-epsilon attack; pass a minimization attack (deepfool, carlini-wagner-l2) or a function steps → attack with an epsilon.`,
    );
  }
  if (!isAttack(o.attack) && o.epsilon === null) {
    throw new AdvxError('INVALID_OPTION', 'hardness: a steps → attack function needs the attack epsilon, e.g. { epsilon: 0.3 }.');
  }
}

interface Resolved {
  readonly run: (model: Model, x: tf.Tensor, labels: tf.Tensor1D) => Promise<Float32Array>;
}

function resolve(o: OptionsResolved<typeof HARDNESS_OPTIONS>): Resolved {
  const { attack, seed, schedule } = o;
  if (isAttack(attack)) {
    return {
      run: async (model, x, labels) => {
        const r = await attack.run(model, x, { labels }, { seed });
        const d = Float32Array.from(r.distances);
        r.dispose();
        return d;
      },
    };
  }
  const epsilon = o.epsilon as number;
  return {
    run: async (model, x, labels) => {
      const n = x.shape[0] as number;
      const out = new Float32Array(n).fill(Infinity);
      let remaining = Int32Array.from({ length: n }, (_, i) => i);
      for (const steps of schedule) {
        if (remaining.length === 0) break;
        const idx = tf.tensor1d(remaining, 'int32');
        const xs = tf.gather(x, idx);
        const ys = tf.gather(labels, idx) as tf.Tensor1D;
        idx.dispose();
        let success: readonly boolean[];
        try {
          const r = await attack(steps).run(model, xs, { labels: ys }, { epsilons: [epsilon], seed });
          success = r.success[0] as readonly boolean[];
          r.dispose();
        } finally {
          tf.dispose([xs, ys]);
        }
        remaining.forEach((i, k) => {
          if (success[k]) out[i] = steps;
        });
        remaining = remaining.filter((_, k) => !success[k]);
      }
      return out;
    },
  };
}

/**
 * Hardness score: per sample, how much attack effort it takes to change the model's output class —
 * the number of iterations of an iterative attack, or the minimal perturbation size of a
 * minimization attack (DeepFool, C&W). Samples that are already misclassified with respect to the
 * given labels score 0; samples the attack cannot flip score `Infinity`. Low hardness marks
 * samples near the decision boundary (ambiguous, atypical or mislabelled training data, and the
 * outputs of minimal adversarial attacks); high hardness marks confidently learned samples: a
 * data-audit tool, and through {@link hardnessDetector} an input detector.
 *
 * Threat model: white-box (the attack's gradients); the labels default to the model's predictions.
 *
 * Options (declared once, with defaults, ranges and docs, in {@link hardnessDetector}.schema): `attack`
 * (required), `epsilon` (required for a `steps → Attack` function), `schedule`
 * (`[1, 2, 3, 4, 6, 8, 12, 16, 24, 32]`), `seed` (0).
 *
 * @param model - a white-box model.
 * @param x - batch `[n, ...model.inputShape]` inside the bounds.
 * @param labels - the class each sample must be moved away from (default: the prediction).
 * @returns one hardness per sample (steps, or the attack's distance), 0 or `Infinity` as above.
 * @throws AdvxError on a bad model, input, label or option, before any work.
 * @example
 * ```ts
 * import { bim, deepfool } from '@advx/attacks';
 * const steps = await hardness(model, x, y, { attack: (s) => bim({ steps: s, stepSize: 0.01 }), epsilon: 0.3 });
 * const l2 = await hardness(model, x, y, { attack: deepfool() }); // minimal L2 perturbations
 * ```
 * @public
 */
export async function hardness(model: Model, x: tf.Tensor, labels: tf.Tensor1D | undefined, options: HardnessOptions): Promise<Float32Array> {
  checkModel(model, 'hardness', false);
  const resolved = resolve(resolveOptions('hardness', HARDNESS_OPTIONS, options, checkHardness));
  const given = await checkBatch(model, x, labels);
  const predicted = await predictClasses(model, x);
  const goal = tf.tensor1d(given ?? predicted, 'int32');
  try {
    const out = await resolved.run(model, x, goal);
    if (given) given.forEach((l, i) => l !== predicted[i] && (out[i] = 0));
    return out;
  } finally {
    goal.dispose();
  }
}

/**
 * A {@link Detector} from {@link hardness}: the score is `1 / (1 + h)` with `h` the hardness of the
 * model's own prediction (1 for a sample on the boundary, 0 for one the attack cannot flip), so
 * samples that flip with little effort score highest. Inputs produced by minimal attacks (C&W,
 * DeepFool) sit just across the boundary and flip back at once; clean inputs need more. Needs no `fit`.
 *
 * Options: {@link hardnessDetector}.schema (each declared once, with its default, range and doc;
 * `attack` required), as {@link hardness}.
 *
 * <!-- options:hardness -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `attack` | a minimization Attack or a function steps → fixed-epsilon Attack | required | the attack that tries to flip each sample: a minimization attack (deepfool(), carliniWagnerL2()), whose minimal perturbation size is the hardness, or a function steps → fixed-epsilon Attack whose step size does not depend on steps |
 * | `epsilon` | a finite number in (0, ∞) | null | the epsilon of the fixed-epsilon attack, required with a steps → Attack function (none: a minimization attack needs none) |
 * | `schedule` | a non-empty, strictly increasing list of integer step counts ≥ 1, e.g. [1, 2, 4, 8] | [1,2,3,4,6,8,12,16,24,32] | increasing step counts tried for a steps → Attack function; a sample's hardness is the first count that flips it (each count runs only on the samples not yet flipped) |
 * | `seed` | number in (−∞, ∞) | 0 | seed of the attack runs |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * const detector = hardnessDetector({ attack: (s) => bim({ steps: s, stepSize: 0.01 }), epsilon: 0.3 });
 * const scores = await detector.score(model, x);
 * ```
 * @public
 */
export const hardnessDetector = defineFactory(
  'hardness',
  HARDNESS_OPTIONS,
  (o): Detector =>
    Object.freeze({
      name: 'hardness',
      needsFit: false,
      async score(model: AnyModel, x: tf.Tensor, scoreOptions?: { seed?: number }): Promise<Float32Array> {
        checkModel(model, 'hardnessDetector', false);
        if (model.kind !== 'model') throw new AdvxError('UNSUPPORTED_MODEL', 'hardnessDetector needs a white-box Model.');
        const h = await hardness(model, x, undefined, { ...o, seed: scoreOptions?.seed ?? o.seed });
        return h.map((v) => (Number.isFinite(v) ? 1 / (1 + v) : 0));
      },
    }),
  checkHardness,
);
