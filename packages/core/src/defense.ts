import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from './errors.js';
import type { Model } from './model.js';
import { createRegistry } from './registry.js';

/**
 * How gradients flow through a preprocessor when attacks differentiate the defended model:
 * `exact` — the forward ops are differentiable and their true gradient is used;
 * `bpda-identity` — Backward Pass Differentiable Approximation (Athalye et al. 2018): the forward
 * runs the real transform, the backward pass treats it as the identity;
 * `custom` — the preprocessor supplies its own backward function.
 *
 * @public
 */
export type GradientMode = 'exact' | 'bpda-identity' | 'custom';

/**
 * An input transform `x → x'` that keeps the sample shape and the model's bounds, with a declared
 * gradient so that attacks can be run through it honestly.
 *
 * @public
 */
export interface Preprocessor {
  /** Name, kebab-case (e.g. `bit-depth`). */
  readonly name: string;
  /** Declared gradient mode. */
  readonly gradient: GradientMode;
  /** Whether `apply` is random (two calls may differ). */
  readonly randomized: boolean;
  /** The forward transform of a batch; must keep the shape and stay inside `bounds`. */
  apply(x: tf.Tensor, bounds: readonly [number, number]): tf.Tensor;
  /** Vector–Jacobian product for `custom` gradients: `dx` given `x` and upstream `dy`. */
  backward?(x: tf.Tensor, dy: tf.Tensor): tf.Tensor;
}

/**
 * Applies one preprocessor with its declared gradient.
 *
 * @public
 */
export function applyPreprocessor(p: Preprocessor, x: tf.Tensor, bounds: readonly [number, number]): tf.Tensor {
  if (p.gradient === 'exact') return p.apply(x, bounds);
  const backward = p.gradient === 'custom' ? p.backward : undefined;
  if (p.gradient === 'custom' && !backward) {
    throw new AdvxError('INVALID_OPTION', `Preprocessor '${p.name}' declares a custom gradient but has no backward().`);
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([input]);
    return {
      value: p.apply(input, bounds),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => (backward ? backward(saved[0] as tf.Tensor, dy) : dy),
    };
  });
  return f(x);
}

/**
 * Puts preprocessors in front of a model: `defend(model, p1, p2)` is the model of
 * `x → model(p2(p1(x)))`, attacked like any other model. Gradients follow each preprocessor's
 * declared {@link GradientMode}.
 *
 * @example
 * ```ts
 * const defended = defend(model, bitDepth({ bits: 1 }));
 * const result = await pgd().run(defended, x, { labels }, { epsilons: [0.3] });
 * ```
 * @public
 */
export function defend(model: Model, ...preprocessors: Preprocessor[]): Model {
  if (model?.kind !== 'model') {
    throw new AdvxError('INVALID_MODEL', 'defend() needs a white-box advx Model (from fromLayersModel, fromGraphModel or fromFunction).');
  }
  for (const p of preprocessors) {
    if (!p || typeof p.apply !== 'function' || !['exact', 'bpda-identity', 'custom'].includes(p.gradient)) {
      throw new AdvxError('INVALID_OPTION', 'defend(): every preprocessor needs apply() and a gradient of exact, bpda-identity or custom.');
    }
  }
  return Object.freeze({
    kind: 'model' as const,
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    bounds: model.bounds,
    outputKind: model.outputKind,
    logits: (x: tf.Tensor) => tf.tidy(() => model.logits(preprocessors.reduce((h, p) => applyPreprocessor(p, h, model.bounds), x))),
  });
}

/**
 * A labelled dataset: `x` `[n, ...]` and integer labels `y` `[n]`.
 *
 * @public
 */
export interface LabeledData {
  /** Inputs. */
  readonly x: tf.Tensor;
  /** Labels, int32. */
  readonly y: tf.Tensor1D;
}

/**
 * Per-epoch report of a {@link Trainer}.
 *
 * @public
 */
export interface EpochReport {
  /** Epoch index, from 0. */
  readonly epoch: number;
  /** Mean training loss. */
  readonly loss: number;
  /** Clean accuracy on the validation data, when given. */
  readonly cleanAccuracy?: number;
  /** Robust accuracy on the validation data, when measured. */
  readonly robustAccuracy?: number;
  /** Wall time of the epoch in ms. */
  readonly ms: number;
}

/**
 * Options of {@link Trainer.fit}.
 *
 * @public
 */
export interface FitOptions {
  /** Data on which clean (and robust) accuracy are reported each epoch. */
  readonly validation?: LabeledData;
  /** Stops training (throws `ABORTED`). */
  readonly signal?: AbortSignal;
  /** Called after each epoch. */
  readonly onEpoch?: (report: EpochReport) => void;
  /** Seed of shuffling and of any attack used in training. */
  readonly seed?: number;
}

/**
 * The result of {@link Trainer.fit}.
 *
 * @public
 */
export interface TrainResult<TModel> {
  /** The trained model (a new one). */
  readonly model: TModel;
  /** One report per epoch. */
  readonly history: EpochReport[];
}

/**
 * A training procedure that returns a new, more robust model (adversarial training, distillation).
 * `TModel` is the trainable model type (for tfjs, a `LayersModel`).
 *
 * @public
 */
export interface Trainer<TModel = unknown, Options = Record<string, unknown>> {
  /** Registry name. */
  readonly name: string;
  /** Resolved options. */
  readonly options: Readonly<Options>;
  /** Trains (a copy of) `model` on `data`; never mutates the caller's model. */
  fit(model: TModel, data: LabeledData, options?: FitOptions): Promise<TrainResult<TModel>>;
}

/**
 * Static description of a defense in the registry.
 *
 * @public
 */
export interface DefenseMeta {
  /** Registry name, kebab-case. */
  readonly name: string;
  /** What kind of defense. */
  readonly kind: 'preprocessor' | 'trainer' | 'smoothing' | 'postprocessor' | 'layer';
  /** Paper reference. */
  readonly paper?: string;
  /** The threat it addresses and its known bypass, in one sentence each. */
  readonly caveat?: string;
}

const defenses = createRegistry<DefenseMeta, (options?: never) => unknown>('defense');

/**
 * Registers a defense factory.
 *
 * @public
 */
export function registerDefense(meta: DefenseMeta, factory: (options?: never) => unknown): void {
  defenses.register(meta, factory);
}

/**
 * The registered defense factory named `name`; throws `UNKNOWN_NAME`.
 *
 * @public
 */
export function getDefense(name: string): (options?: never) => unknown {
  return defenses.get(name).factory;
}

/**
 * Metadata of every registered defense, sorted by name.
 *
 * @public
 */
export function listDefenses(): DefenseMeta[] {
  return defenses.list();
}
