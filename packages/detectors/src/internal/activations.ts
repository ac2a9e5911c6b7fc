import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, option, validateGoal, validateInput, type Inspection, type LabeledData, type Model } from '@advx/core';
import { forEachChunk } from '@advx/core/plugin';

import { checkModel } from './checks.js';
import { byClass, rankDescending, rows } from './linalg.js';

/** A function from a batch of inputs to one feature row per sample (e.g. penultimate-layer activations). */
export type FeatureFn = (x: tf.Tensor) => tf.Tensor;

/** Options every dataset inspector shares (spread first into each inspector's schema). */
export const INSPECTOR_OPTIONS = {
  features: option.optional<FeatureFn>(
    "features to inspect, x → [n, d] (or any shape, flattened per sample): the paper's choice is the model's penultimate-layer activations, e.g. layerFeatures(layersModel, 'dense2')",
    "the model's logits (weaker: a backdoor is usually far clearer in the penultimate layer)",
    { type: 'a function x → [n, d]', accepts: (v) => typeof v === 'function' },
  ),
  batchSize: option.integer(256, 'samples per forward pass', { min: 1 }),
};

/** The expected poison fraction ε and the removal factor (flag ⌈factor·ε·n_c⌉ per class). */
export const REMOVAL_OPTIONS = {
  poisonFraction: option.number(0.05, 'expected fraction ε of poisoned samples in a class', { min: 0, max: 0.5, above: true, below: true }),
  removalFactor: option.number(1.5, 'flag the ⌈removalFactor·ε·n_c⌉ highest scores of each class (1.5: as in the paper)', { min: 0, above: true }),
};

/** Resolved shared inspector options. */
export interface InspectorSettings {
  readonly features: FeatureFn | null;
  readonly batchSize: number;
}

/** Validates the data and returns its labels and feature rows. */
export async function inspectData(
  what: string,
  model: Model,
  data: LabeledData,
  options: InspectorSettings,
): Promise<{ labels: Int32Array; features: number[][] }> {
  checkModel(model, what, false);
  if (!data || !(data.x instanceof tf.Tensor) || !(data.y instanceof tf.Tensor)) {
    throw new AdvxError('INVALID_SHAPE', `${what}: data must be { x, y } tensors (inputs and int32 labels).`);
  }
  const features = options.features ?? ((x: tf.Tensor) => model.logits(x));
  const { batchSize } = options;
  await validateInput(model, data.x);
  const n = data.x.shape[0] as number;
  const labels = (await validateGoal({ labels: data.y }, n, model.numClasses)).classes;
  const chunks: Float32Array[] = [];
  let d = -1;
  await forEachChunk(data.x, batchSize, async (xb) => {
    const b = xb.shape[0] as number;
    const f = tf.tidy(() => {
      const out = features(xb);
      if (!(out instanceof tf.Tensor) || out.shape[0] !== b) {
        throw new AdvxError('INVALID_OPTION', `${what}: features(x) must return a tensor with one row per sample of x.`);
      }
      return tf.reshape(out, [b, -1]);
    });
    d = f.shape[1] as number;
    chunks.push(Float32Array.from(await f.data()));
    f.dispose();
  });
  const all = new Float32Array(n * d);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const bad = all.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new AdvxError('NON_FINITE_INPUT', `${what}: the features of sample ${Math.floor(bad / d)} are not finite.`);
  return { labels, features: rows(all, n, d) };
}

/** Flags ⌈removalFactor·ε·n_c⌉ per class (the options resolved by {@link REMOVAL_OPTIONS}). */
export function removalCount(poisonFraction: number, removalFactor: number): (classSize: number) => number {
  // 1e-9 absorbs float error (1.5 · 0.1 · 300 is 45.000000000000007).
  return (size) => Math.min(size, Math.ceil(removalFactor * poisonFraction * size - 1e-9));
}

/**
 * Per class: raw outlier scores of its members from `scoreClass`, divided by their class mean so that
 * they compare across classes; the `toRemove(n_c)` highest of each class are flagged.
 */
export function flagPerClass(
  labels: Int32Array,
  toRemove: (classSize: number) => number,
  scoreClass: (members: readonly number[]) => readonly number[],
): Inspection {
  const scores = new Float32Array(labels.length);
  const flagged: number[] = [];
  for (const members of byClass(labels).values()) {
    const raw = scoreClass(members);
    const avg = Math.max(raw.reduce((s, v) => s + v, 0) / raw.length, 1e-12);
    members.forEach((i, m) => (scores[i] = (raw[m] as number) / avg));
    flagged.push(...rankDescending(scores, members).subarray(0, toRemove(members.length)));
  }
  return { scores, flagged: rankDescending(scores, flagged) };
}
