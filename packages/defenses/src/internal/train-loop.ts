import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import {
  AdvxError,
  checkInteger,
  checkNumber,
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
} from '@advx/core';

import type { EarlyStopping, RobustEvaluation, TrainingOptions } from './training-options.js';

/** Options of the loop, resolved. */
export interface LoopSettings {
  readonly who: string;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number | ((epoch: number) => number);
  readonly bounds: Bounds;
  readonly evaluation: RobustEvaluation | undefined;
  readonly earlyStopping: EarlyStopping | undefined;
  readonly onCheckpoint: TrainingOptions['onCheckpoint'];
}

/** Prepares one batch: returns the scalar loss to minimise (inside the optimizer's tape). */
export type BatchLoss = (
  model: Model,
  xb: tf.Tensor,
  targets: tf.Tensor2D,
  at: { readonly epoch: number; readonly batch: number; readonly offset: number },
) => Promise<{ loss: () => tf.Scalar; dispose: () => void }>;

/** Validates and resolves the options every trainer shares; throws `INVALID_OPTION` naming the bad one. */
export function resolveSettings(who: string, o: TrainingOptions, defaults: { epochs: number }): LoopSettings {
  const epochs = checkInteger(`${who}: epochs`, o.epochs ?? defaults.epochs, 1);
  const batchSize = checkInteger(`${who}: batchSize`, o.batchSize ?? 128, 1);
  const lr = o.learningRate ?? 1e-3;
  if (typeof lr !== 'function') checkNumber(`${who}: learningRate`, lr, 0);
  const bounds = o.bounds ?? [0, 1];
  if (!Array.isArray(bounds) || bounds.length !== 2 || !(bounds[0] < bounds[1])) {
    throw new AdvxError('INVALID_OPTION', `${who}: bounds must be [low, high] with low < high, got ${JSON.stringify(bounds)}.`);
  }
  const ev = o.evaluation;
  if (ev !== undefined) {
    if (typeof ev.attack?.run !== 'function') throw new AdvxError('INVALID_OPTION', `${who}: evaluation.attack must be an advx Attack (e.g. pgd() from @advx/attacks).`);
    checkNumber(`${who}: evaluation.epsilon`, ev.epsilon, 0);
    if (ev.samples !== undefined) checkInteger(`${who}: evaluation.samples`, ev.samples, 1);
  }
  const es = o.earlyStopping;
  if (es !== undefined) {
    checkInteger(`${who}: earlyStopping.patience`, es.patience, 0);
    if (es.monitor !== undefined && !['robustAccuracy', 'cleanAccuracy', 'loss'].includes(es.monitor)) {
      throw new AdvxError('INVALID_OPTION', `${who}: earlyStopping.monitor must be 'robustAccuracy', 'cleanAccuracy' or 'loss', got '${String(es.monitor)}'.`);
    }
    if (es.monitor === 'robustAccuracy' && ev === undefined) {
      throw new AdvxError('INVALID_OPTION', `${who}: earlyStopping on robustAccuracy needs the evaluation option (an attack and an epsilon).`);
    }
  }
  if (o.onCheckpoint !== undefined && typeof o.onCheckpoint !== 'function') {
    throw new AdvxError('INVALID_OPTION', `${who}: onCheckpoint must be a function (model, report) => void.`);
  }
  return { who, epochs, batchSize, learningRate: lr, bounds, evaluation: ev, earlyStopping: es, onCheckpoint: o.onCheckpoint };
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
  for (let i = 0; i < n; i += 500) {
    const b = Math.min(500, n - i);
    const h = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(model.logits(tf.slice(x, i, b)), 1), tf.cast(tf.slice(y, i, b), 'int32')), 'float32')));
    hits += (await h.data())[0] as number;
    h.dispose();
  }
  return hits / n;
}

/** Robust accuracy of `model` on the first `samples` validation samples under `attack` at `epsilon`. */
export async function robustAccuracyOf(model: Model, data: LabeledData, ev: RobustEvaluation, seed: number): Promise<number> {
  const n = Math.min(data.x.shape[0] as number, ev.samples ?? 500);
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

const higherIsBetter = (monitor: EarlyStopping['monitor']) => monitor !== 'loss';

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
  const aborted = () => new AdvxError('ABORTED', `${s.who}: training was aborted through the signal.`);
  try {
    for (let epoch = 0; epoch < s.epochs; epoch++) {
      const t0 = Date.now();
      // AdamOptimizer reads its learningRate at every step: a schedule is a plain assignment.
      (optimizer as unknown as { learningRate: number }).learningRate = lrAt(epoch);
      const perm = rng.permutation(n);
      let lossSum = 0;
      let batches = 0;
      for (let start = 0; start < n; start += s.batchSize) {
        if (fit.signal?.aborted) throw aborted();
        const idx = tf.tensor1d(perm.subarray(start, Math.min(n, start + s.batchSize)), 'int32');
        const [xb, tb] = tf.tidy(() => [tf.gather(x, idx), tf.gather(targets, idx) as tf.Tensor2D] as const);
        idx.dispose();
        try {
          const step = await batchLoss(model, xb, tb, { epoch, batch: batches, offset: start });
          try {
            const cost = optimizer.minimize(step.loss, true, variables);
            lossSum += ((await (cost as tf.Scalar).data())[0] as number);
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
