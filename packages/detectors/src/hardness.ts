import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, checkNumber, predictClasses, type AnyModel, type Attack, type Detector, type Model } from '@advx/core';

import { checkBatch, checkKnownOptions, checkModel } from './internal/checks.js';

/**
 * Options of {@link hardness} and {@link hardnessDetector}.
 *
 * @public
 */
export interface HardnessOptions {
  /**
   * The attack that tries to flip each sample (required): a minimization attack (e.g. `deepfool()`,
   * `carliniWagnerL2()` of `@advx/attacks`), whose minimal perturbation size is the hardness; or,
   * for iterative fixed-epsilon attacks, a function `steps → Attack` (e.g.
   * `(steps) => bim({ steps, stepSize: 0.01 })`) with a step size that does not depend on `steps`,
   * so that a run of `k` steps is the first `k` steps of a longer one.
   */
  readonly attack: Attack | ((steps: number) => Attack);
  /** The epsilon of the fixed-epsilon attack (required with a `steps → Attack` function). */
  readonly epsilon?: number;
  /**
   * Increasing step counts tried for a `steps → Attack` function (default `[1, 2, 3, 4, 6, 8, 12, 16,
   * 24, 32]`); a sample's hardness is the first count that flips it (each count runs only on the
   * samples not yet flipped).
   */
  readonly schedule?: readonly number[];
  /** Seed of the attack runs (default 0). */
  readonly seed?: number;
}

const OPTIONS = ['attack', 'epsilon', 'schedule', 'seed'];
const DEFAULT_SCHEDULE = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32];

interface Resolved {
  readonly run: (model: Model, x: tf.Tensor, labels: tf.Tensor1D) => Promise<Float32Array>;
}

function resolve(options: HardnessOptions): Resolved {
  checkKnownOptions('hardness', options, OPTIONS);
  const attack = options?.attack;
  const seed = checkNumber('hardness: seed', options?.seed ?? 0, -Infinity, Infinity);
  if (attack && typeof attack === 'object' && typeof attack.run === 'function') {
    if (attack.meta.kind !== 'minimization') {
      throw new AdvxError(
        'INVALID_OPTION',
        `hardness: '${attack.meta.name}' is a fixed-epsilon attack; pass a minimization attack (deepfool, carlini-wagner-l2) or a function steps → attack with an epsilon.`,
      );
    }
    return {
      run: async (model, x, labels) => {
        const r = await attack.run(model, x, { labels }, { seed });
        const d = Float32Array.from(r.distances);
        r.dispose();
        return d;
      },
    };
  }
  if (typeof attack !== 'function') {
    throw new AdvxError('INVALID_OPTION', 'hardness: attack must be a minimization Attack or a function steps → fixed-epsilon Attack.');
  }
  if (options.epsilon === undefined) {
    throw new AdvxError('INVALID_OPTION', 'hardness: a steps → attack function needs the attack epsilon, e.g. { epsilon: 0.3 }.');
  }
  const epsilon = checkNumber('hardness: epsilon', options.epsilon, 0, Infinity, true);
  const schedule = options.schedule ?? DEFAULT_SCHEDULE;
  if (!Array.isArray(schedule) || schedule.length === 0) {
    throw new AdvxError('INVALID_OPTION', 'hardness: schedule must be a non-empty list of increasing step counts, e.g. [1, 2, 4, 8].');
  }
  schedule.forEach((s, i) => {
    checkInteger(`hardness: schedule[${i}]`, s, 1);
    if (i > 0 && s <= (schedule[i - 1] as number)) throw new AdvxError('INVALID_OPTION', 'hardness: schedule must be strictly increasing.');
  });
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
 * Options: `attack` (required), `epsilon` (required for a `steps → Attack` function), `schedule`
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
  const resolved = resolve(options);
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
 * Options: as {@link hardness} (`attack` required).
 *
 * @example
 * ```ts
 * const detector = hardnessDetector({ attack: (s) => bim({ steps: s, stepSize: 0.01 }), epsilon: 0.3 });
 * const scores = await detector.score(model, x);
 * ```
 * @public
 */
export function hardnessDetector(options: HardnessOptions): Detector {
  resolve(options);
  return Object.freeze({
    name: 'hardness',
    needsFit: false,
    async score(model: AnyModel, x: tf.Tensor, scoreOptions?: { seed?: number }): Promise<Float32Array> {
      checkModel(model, 'hardnessDetector', false);
      if (model.kind !== 'model') throw new AdvxError('UNSUPPORTED_MODEL', 'hardnessDetector needs a white-box Model.');
      const h = await hardness(model, x, undefined, { ...options, seed: scoreOptions?.seed ?? options.seed ?? 0 });
      return h.map((v) => (Number.isFinite(v) ? 1 / (1 + v) : 0));
    },
  });
}
