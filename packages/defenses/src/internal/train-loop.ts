import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  AdvxError,
  fromLayersModel,
  Rng,
  validateGoal,
  validateInput,
  type Attack,
  type Bounds,
  type EpochReport,
  type FitOptions,
  type LabeledData,
  type Model,
  type OptionsResolved,
} from '@advx/core';
import { forEachChunk, makeCheckpoint } from '@advx/core/plugin';

import { checkTraining, type ResolvedTraining, type TRAINING_OPTIONS } from './training-options.js';

/** Options of the loop, resolved. */
export interface LoopSettings {
  readonly who: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number | ((epoch: number) => number);
  readonly bounds: Bounds;
  readonly evaluation: ResolvedTraining['evaluation'];
  readonly earlyStopping: ResolvedTraining['earlyStopping'];
  readonly onCheckpoint: ((model: tfl.LayersModel, report: EpochReport) => void | Promise<void>) | undefined;
}

/** Prepares one batch: returns the scalar loss to minimise (inside the optimizer's tape). */
export type BatchLoss = (
  model: Model,
  xb: tf.Tensor,
  targets: tf.Tensor2D,
  at: { readonly epoch: number; readonly batch: number; readonly offset: number },
) => Promise<{ loss: () => tf.Scalar; dispose: () => void }>;

/**
 * The loop settings from a trainer's resolved options (see `TRAINING_OPTIONS`); the nested
 * `evaluation` and `earlyStopping` are resolved by {@link checkTraining} (throws `INVALID_OPTION`).
 */
export function loopSettings(who: string, o: OptionsResolved<typeof TRAINING_OPTIONS>): LoopSettings {
  const { evaluation, earlyStopping } = checkTraining(who, o);
  return {
    who,
    epochs: o.epochs,
    batchSize: o.batchSize,
    learningRate: o.learningRate,
    bounds: o.bounds,
    evaluation,
    earlyStopping,
    onCheckpoint: o.onCheckpoint ?? undefined,
  };
}

/** Throws unless `model` is a tfjs LayersModel with one input and one output. */
export function assertLayersModel(who: string, model: unknown): asserts model is tfl.LayersModel {
  const m = model as Partial<tfl.LayersModel> | null;
  if (m === null || typeof m !== 'object' || !Array.isArray(m.inputs) || typeof m.getWeights !== 'function' || typeof m.save !== 'function') {
    throw new AdvxError('INVALID_MODEL', `${who}: expected a tf.LayersModel (tf.sequential, tf.model or tf.loadLayersModel) to train.`);
  }
}

/** Validates the training data against the model: shape, bounds, finite values, labels in range. */
export async function validateData(who: string, model: Model, data: LabeledData): Promise<void> {
  if (data === null || typeof data !== 'object' || !(data.x instanceof tf.Tensor)) {
    throw new AdvxError('INVALID_SHAPE', `${who}: data must be { x, y } with x a [n, ...inputShape] tensor and y int32 labels [n].`);
  }
  await validateInput(model, data.x);
  await validateGoal({ labels: data.y }, data.x.shape[0] as number, model.numClasses);
}

/** A deep copy of a LayersModel (architecture and weights) through an in-memory save. */
export async function cloneLayersModel(model: tfl.LayersModel): Promise<tfl.LayersModel> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return tfl.loadLayersModel(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
}

/** Mean softmax cross-entropy of logits against target distributions (rows of `targets` sum to 1). */
export function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar;
}

/** Fraction of `x` classified as `y`, in batches. */
export async function accuracyOf(model: Model, x: tf.Tensor, y: tf.Tensor1D): Promise<number> {
  const n = x.shape[0] as number;
  let hits = 0;
  await forEachChunk(x, 500, async (rows, i) => {
    const b = rows.shape[0] as number;
    const h = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(rows), 1), tf.cast(tf.slice(y, i, b), 'int32')), 'float32')));
    hits += (await h.data())[0] as number;
    h.dispose();
  });
  return hits / n;
}

/** Robust accuracy of `model` on the first `samples` validation samples under `attack` at `epsilon`. */
export async function robustAccuracyOf(model: Model, data: LabeledData, ev: NonNullable<LoopSettings['evaluation']>, seed: number): Promise<number> {
  const n = Math.min(data.x.shape[0] as number, ev.samples);
  const [xs, ys] = [tf.slice(data.x, 0, n), tf.slice(data.y, 0, n)];
  try {
    const r = await (ev.attack as Attack).run(model, xs, { labels: ys }, { epsilons: [ev.epsilon], seed });
    const robust = (r.success[0] as readonly boolean[]).filter((s) => !s).length / n;
    r.dispose();
    return robust;
  } finally {
    tf.dispose([xs, ys]);
  }
}

const higherIsBetter = (monitor: 'robustAccuracy' | 'cleanAccuracy' | 'loss') => monitor !== 'loss';

/**
 * Trains `layers` in place (the caller passes a clone) with seeded shuffling, a per-epoch report,
 * early stopping (restoring the best weights) and checkpoints.
 */
export async function trainLoop(
  layers: tfl.LayersModel,
  x: tf.Tensor,
  targets: tf.Tensor2D,
  fit: FitOptions,
  s: LoopSettings,
  batchLoss: BatchLoss,
): Promise<EpochReport[]> {
  const model = fromLayersModel(layers, { bounds: s.bounds });
  const n = x.shape[0] as number;
  const seed = fit.seed ?? 0;
  const rng = new Rng(seed);
  const lrAt = (epoch: number) => (typeof s.learningRate === 'function' ? s.learningRate(epoch) : s.learningRate);
  const optimizer = tf.train.adam(lrAt(0));
  const variables = layers.trainableWeights.map((w) => w.read() as tf.Variable);
  const monitor = s.earlyStopping?.monitor ?? (s.evaluation ? 'robustAccuracy' : fit.validation ? 'cleanAccuracy' : 'loss');
  let best: { value: number; weights: tf.Tensor[] } | undefined;
  let sinceBest = 0;
  const history: EpochReport[] = [];
  const checkpoint = makeCheckpoint(s.who, { signal: fit.signal ?? null, onProgress: null });
  const batchesPerEpoch = Math.ceil(n / s.batchSize);
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      const t0 = Date.now();
      // AdamOptimizer reads its learningRate at every step: a schedule is a plain assignment.
      (optimizer as unknown as { learningRate: number }).learningRate = lrAt(epoch);
      const perm = rng.permutation(n);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < n; start += s.batchSize) {
        await checkpoint({
          fraction: (epoch * batchesPerEpoch + batches) / (s.epochs * batchesPerEpoch),
          batch: batches,
          batches: batchesPerEpoch,
          epsilonIndex: 0,
          step: epoch,
          steps: s.epochs,
        });
        const idx = tf.tensor1d(perm.subarray(start, Math.min(n, start + s.batchSize)), 'int32');
        const [xb, tb] = tf.tidy(() => [tf.gather(x, idx), tf.gather(targets, idx) as tf.Tensor2D] as const);
        idx.dispose();
        try {
          const step = await batchLoss(model, xb, tb, { epoch, batch: batches, offset: start });
          try {
            const cost = optimizer.minimize(step.loss, true, variables);
            lossSum += (await (cost as tf.Scalar).data())[0] as number;
            cost?.dispose();
          } finally {
            step.dispose();
          }
        } finally {
          tf.dispose([xb, tb]);
        }
        batches++;
      }
      const validation = fit.validation;
      const cleanAccuracy = validation ? await accuracyOf(model, validation.x, validation.y) : undefined;
      const robustAccuracy = validation && s.evaluation ? await robustAccuracyOf(model, validation, s.evaluation, seed) : undefined;
      const report: EpochReport = {
        epoch,
        loss: lossSum / batches,
        ...(cleanAccuracy === undefined ? {} : { cleanAccuracy }),
        ...(robustAccuracy === undefined ? {} : { robustAccuracy }),
        ms: Date.now() - t0,
      };
      history.push(report);
      fit.onEpoch?.(report);
      if (s.onCheckpoint) await s.onCheckpoint(layers, report);
      if (s.earlyStopping) {
        const value = report[monitor] ?? report.loss;
        const better = best === undefined || (higherIsBetter(monitor) ? value > best.value : value < best.value);
        if (better) {
          if (best) tf.dispose(best.weights);
          best = { value, weights: layers.getWeights().map((w) => tf.clone(w)) };
          sinceBest = 0;
        } else if (++sinceBest > s.earlyStopping.patience) {
          break;
        }
      }
    }
    if (best && (s.earlyStopping?.restoreBest ?? true)) layers.setWeights(best.weights);
    return history;
  } finally {
    if (best) tf.dispose(best.weights);
    optimizer.dispose();
  }
}
