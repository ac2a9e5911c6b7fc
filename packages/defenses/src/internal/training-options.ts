import { AdvxError, option, resolveOptions, type Attack, type Bounds, type EpochReport, type OptionsInput, type OptionsResolved } from '@advx/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

const isAttack = (v: unknown): v is Attack => !!v && typeof v === 'object' && typeof (v as Attack).run === 'function';
const isPlainObject = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Options of a robust evaluation (`evaluation` of the trainers), resolved on their own. */
export const EVALUATION_OPTIONS = {
  attack: option.custom<Attack, undefined>(undefined, 'the attack (e.g. pgd({ steps: 20 }) from @advx/attacks)', {
    type: 'an advx Attack (e.g. pgd() from @advx/attacks)',
    accepts: isAttack,
  }),
  epsilon: option.number(undefined, 'its epsilon', { min: 0 }),
  samples: option.integer(500, 'validation samples attacked, the first ones', { min: 1 }),
};

/** Options of early stopping (`earlyStopping` of the trainers), resolved on their own. */
export const EARLY_STOPPING_OPTIONS = {
  monitor: option.optional<'robustAccuracy' | 'cleanAccuracy' | 'loss'>(
    'figure to watch',
    'robustAccuracy with an evaluation, else cleanAccuracy with validation data, else loss',
    { type: "'robustAccuracy', 'cleanAccuracy' or 'loss'", accepts: (v) => v === 'robustAccuracy' || v === 'cleanAccuracy' || v === 'loss', json: false },
  ),
  patience: option.integer(undefined, 'epochs without improvement tolerated', { min: 0 }),
  restoreBest: option.boolean(true, 'return the weights of the best epoch'),
};

/**
 * Robust accuracy measured on the validation data after every epoch: `attack` and `epsilon`
 * (required), `samples` (500, the first validation samples).
 *
 * @public
 */
export type RobustEvaluation = OptionsInput<typeof EVALUATION_OPTIONS>;

/**
 * Early stopping: stop when the monitored figure has not improved for `patience` epochs. `monitor`
 * (default `robustAccuracy` with an evaluation, else `cleanAccuracy` with validation data, else
 * `loss`), `patience` (required, an integer ≥ 0), `restoreBest` (`true`).
 *
 * @public
 */
export type EarlyStopping = OptionsInput<typeof EARLY_STOPPING_OPTIONS>;

/**
 * The options every trainer of `@advx/defenses` shares, spread into each trainer's schema. The
 * nested `evaluation` and `earlyStopping` are `option.custom` here (a plain object) and resolved
 * against {@link EVALUATION_OPTIONS} and {@link EARLY_STOPPING_OPTIONS} by {@link checkTraining}, so
 * their fields are declared once too and get the same messages (`who.evaluation: epsilon must be …`).
 */
export const TRAINING_OPTIONS = {
  epochs: option.integer(10, 'epochs', { min: 1 }),
  batchSize: option.integer(128, 'batch size', { min: 1 }),
  learningRate: option.custom<number | ((epoch: number) => number)>(1e-3, 'Adam learning rate, or a schedule epoch → rate', {
    type: 'a finite number in [0, ∞) or a function epoch → rate',
    accepts: (v) => typeof v === 'function' || (typeof v === 'number' && Number.isFinite(v) && v >= 0),
    json: true,
  }),
  bounds: option.custom<Bounds>(Object.freeze([0, 1]) as Bounds, 'valid input range of the model', {
    type: '[low, high] with low < high',
    accepts: (b) => Array.isArray(b) && b.length === 2 && (b[0] as number) < (b[1] as number),
    json: true,
  }),
  evaluation: option.optional<RobustEvaluation>('robust accuracy per epoch on the validation data of FitOptions', 'no robust evaluation', {
    type: '{ attack, epsilon, samples? }',
    accepts: isPlainObject,
  }),
  earlyStopping: option.optional<EarlyStopping>('early stopping', 'train every epoch', {
    type: '{ patience, monitor?, restoreBest? }',
    accepts: isPlainObject,
  }),
  onCheckpoint: option.optional<(model: LayersModel, report: EpochReport) => void | Promise<void>>(
    'called after every epoch with the model being trained (save it to keep a checkpoint)',
    'no checkpoints',
    { type: 'a function (model, report) => void', accepts: (v) => typeof v === 'function' },
  ),
};

/**
 * Options shared by the trainers of `@advx/defenses`: `epochs` (10), `batchSize` (128),
 * `learningRate` (0.001), `bounds` (`[0, 1]`), `evaluation`, `earlyStopping`, `onCheckpoint` (none).
 *
 * @public
 */
export type TrainingOptions = OptionsInput<typeof TRAINING_OPTIONS>;

/** The resolved shared options, with `evaluation` and `earlyStopping` resolved against their schemas. */
export interface ResolvedTraining {
  readonly evaluation: OptionsResolved<typeof EVALUATION_OPTIONS> | undefined;
  readonly earlyStopping: OptionsResolved<typeof EARLY_STOPPING_OPTIONS> | undefined;
}

/**
 * Resolves the nested `evaluation` and `earlyStopping` and checks the constraint between them; as a
 * factory's `check` it runs before the trainer is built. Throws `INVALID_OPTION` naming the option.
 */
export function checkTraining(who: string, o: OptionsResolved<typeof TRAINING_OPTIONS>): ResolvedTraining {
  const evaluation = o.evaluation === null ? undefined : resolveOptions(`${who}.evaluation`, EVALUATION_OPTIONS, o.evaluation);
  const earlyStopping = o.earlyStopping === null ? undefined : resolveOptions(`${who}.earlyStopping`, EARLY_STOPPING_OPTIONS, o.earlyStopping);
  if (earlyStopping?.monitor === 'robustAccuracy' && evaluation === undefined) {
    throw new AdvxError('INVALID_OPTION', `${who}: earlyStopping on robustAccuracy needs the evaluation option (an attack and an epsilon).`);
  }
  return { evaluation, earlyStopping };
}
