import type { Attack, Bounds, EpochReport } from '@advx/core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * Robust accuracy measured on the validation data after every epoch.
 *
 * @public
 */
export interface RobustEvaluation {
  /** The attack (e.g. `pgd({ steps: 20 })` from `@advx/attacks`). */
  readonly attack: Attack;
  /** Its epsilon. */
  readonly epsilon: number;
  /** Validation samples attacked, the first ones (default 500). */
  readonly samples?: number;
}

/**
 * Early stopping: stop when the monitored figure has not improved for `patience` epochs.
 *
 * @public
 */
export interface EarlyStopping {
  /** Figure to watch (default `robustAccuracy` with an evaluation, else `cleanAccuracy` with validation data, else `loss`). */
  readonly monitor?: 'robustAccuracy' | 'cleanAccuracy' | 'loss';
  /** Epochs without improvement tolerated, an integer ≥ 0. */
  readonly patience: number;
  /** Return the weights of the best epoch (default `true`). */
  readonly restoreBest?: boolean;
}

/**
 * Options shared by the trainers of `@advx/defenses`.
 *
 * @public
 */
export interface TrainingOptions {
  /** Epochs, an integer ≥ 1. */
  readonly epochs?: number;
  /** Batch size, an integer ≥ 1 (default 128). */
  readonly batchSize?: number;
  /** Adam learning rate, or a schedule `epoch → rate` (default 0.001). */
  readonly learningRate?: number | ((epoch: number) => number);
  /** Valid input range of the model (default `[0, 1]`). */
  readonly bounds?: Bounds;
  /** Robust accuracy per epoch on the validation data of `FitOptions` of `@advx/core`. */
  readonly evaluation?: RobustEvaluation;
  /** Early stopping (default: none). */
  readonly earlyStopping?: EarlyStopping;
  /** Called after every epoch with the model being trained (save it to keep a checkpoint). */
  readonly onCheckpoint?: (model: LayersModel, report: EpochReport) => void | Promise<void>;
}
