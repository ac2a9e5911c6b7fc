import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { AdvxError, option, resolveOptions, type OptionsInput, type OptionsResolved } from '@advx/core';

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

const BOUNDED_LEAKY_RELU_OPTIONS = {
  slope: option.number(0.01, 'slope s below 0 and above the bound', { min: 0 }),
  bound: option.number(1, 'initial upper bound b', { min: 0, above: true }),
  trainableBound: option.boolean(true, 'whether b is trained'),
};

/**
 * Options of {@link BoundedLeakyReLU} and {@link withBoundedLeakyReLU}: `slope` (0.01, ≥ 0), `bound`
 * (1, > 0), `trainableBound` (`true`), and the usual layer arguments.
 *
 * @public
 */
export interface BoundedLeakyReLUArgs extends LayerArgs, OptionsInput<typeof BOUNDED_LEAKY_RELU_OPTIONS> {}

/**
 * Checks and resolves the BL-ReLU options against their schema (the other layer arguments pass
 * through to tfjs-layers untouched); throws `INVALID_OPTION`.
 */
function validateArgs(args: Pick<BoundedLeakyReLUArgs, 'slope' | 'bound' | 'trainableBound'>): OptionsResolved<typeof BOUNDED_LEAKY_RELU_OPTIONS> {
  return resolveOptions('BoundedLeakyReLU', BOUNDED_LEAKY_RELU_OPTIONS, { slope: args?.slope, bound: args?.bound, trainableBound: args?.trainableBound });
}

/**
 * The bounded leaky ReLU as a function: `s·x` for `x < 0`, `x` for `0 ≤ x ≤ b`, `b − s·(x − b)`
 * for `x > b`, written as `relu(x) − (1 + s)·relu(x − b) + s·min(x, 0)` so that its gradient
 * w.r.t. `x` and `b` is exact almost everywhere.
 *
 * @example
 * ```ts
 * boundedLeakyRelu(tf.tensor1d([-1, 0.5, 3]), 1, 0.1).print(); // [-0.1, 0.5, 0.8]
 * ```
 * @public
 */
export function boundedLeakyRelu(x: tf.Tensor, bound: number | tf.Tensor, slope: number): tf.Tensor {
  return tf.tidy(() => tf.add(tf.sub(tf.relu(x), tf.mul(tf.relu(tf.sub(x, bound)), 1 + slope)), tf.mul(tf.minimum(x, 0), slope)));
}

/**
 * Bounded leaky ReLU (BL-ReLU), a tfjs-layers activation layer with a trainable upper bound `b`:
 * `f(x) = s·x` for `x < 0`, `x` for `0 ≤ x ≤ b`, `b − s·(x − b)` for `x > b`. Activations above the
 * bound are pulled back instead of growing, which is meant to limit how far a localized input
 * change (an adversarial patch) can push later layers.
 *
 * Paper: Shan Sung Liew, Mohamed Khalil-Hani, Rabia Bakhteri (2016), "Bounded activation functions
 * for enhanced training stability of deep neural networks on visual pattern recognition problems",
 * Neurocomputing 216, {@link https://doi.org/10.1016/j.neucom.2016.08.037} (bounded ReLU and bounded
 * leaky ReLU); here with a trainable bound and the slope continued above it.
 *
 * Threat model addressed: localized, unbounded-magnitude input changes (patches, stickers) whose
 * effect spreads through large activations. Not addressed: dense Linf/L2 perturbations. Known
 * bypass: attacks that respect the bound (patches that work through many moderate activations);
 * the layer is differentiable, so white-box patch attacks adapt to it. Measured (package README,
 * `test/patch-blrelu-mnist.test.ts`): white-box patches succeed about as often on the zoo's
 * naturally trained `mnist-cnn-blrelu` as on `mnist-cnn` (10×10 stickers 90 % vs 95 %, a 16×16
 * universal patch 66 % vs 64 %), not the 0 % claimed for bounded activations.
 *
 * Serializable (`className` `BoundedLeakyReLU`, registered with `tf.serialization.registerClass`
 * when this module loads), so models saved with it reload with `tf.loadLayersModel`.
 *
 * Options (defaults): `slope` (0.01), `bound` (1), `trainableBound` (`true`), and the usual layer
 * arguments (`name`, `inputShape`, ...).
 *
 * @example
 * ```ts
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { BoundedLeakyReLU } from '@advx/defenses';
 *
 * const model = tfl.sequential({ layers: [
 *   tfl.layers.dense({ inputShape: [4], units: 8 }),
 *   new BoundedLeakyReLU({ bound: 1 }),
 *   tfl.layers.dense({ units: 2 }),
 * ] });
 * ```
 * @public
 */
export class BoundedLeakyReLU extends tfl.layers.Layer {
  /** Serialization name. */
  static className = 'BoundedLeakyReLU';
  /** Slope `s`. */
  readonly slope: number;
  /** Initial bound. */
  readonly initialBound: number;
  /** Whether the bound is trainable. */
  readonly trainableBound: boolean;
  private boundWeight: tfl.LayerVariable | undefined;

  constructor(args: BoundedLeakyReLUArgs = {}) {
    const { slope, bound, trainableBound } = validateArgs(args);
    super(args);
    this.slope = slope;
    this.initialBound = bound;
    this.trainableBound = trainableBound;
    this.supportsMasking = true;
  }

  override build(): void {
    this.boundWeight = this.addWeight('bound', [], 'float32', tfl.initializers.constant({ value: this.initialBound }), undefined, this.trainableBound);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
    return boundedLeakyRelu(x, (this.boundWeight as tfl.LayerVariable).read(), this.slope);
  }

  /**
   * The current bound `b` (read asynchronously, so it works on every backend, WebGPU included).
   *
   * @throws AdvxError `INVALID_MODEL` before the layer is built (it has no bound weight yet).
   */
  async readBound(): Promise<number> {
    if (this.boundWeight === undefined)
      throw new AdvxError('INVALID_MODEL', 'BoundedLeakyReLU: the layer is not built yet; call the model (or layer.build()) before readBound().');
    const [b] = await this.boundWeight.read().data();
    return b as number;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), slope: this.slope, bound: this.initialBound, trainableBound: this.trainableBound };
  }
}
tf.serialization.registerClass(BoundedLeakyReLU);

/**
 * Copies a `tf.Sequential` model, replacing every ReLU — a `relu` activation of a layer, or a
 * `ReLU`/`Activation('relu')` layer — by a {@link BoundedLeakyReLU}; weights are copied, so with
 * `slope: 0` and a large bound the copy computes exactly what the original does. Train or fine-tune it
 * afterwards to learn the bounds. Swapping the activation is not a measured defense: a network trained
 * with BL-ReLU resisted white-box patch attacks no better than its ReLU twin (see {@link BoundedLeakyReLU}).
 *
 * @example
 * ```ts
 * import { loadModel } from '@advx/models-zoo';
 * import { withBoundedLeakyReLU } from '@advx/defenses';
 *
 * const { layers } = await loadModel('mnist-cnn');
 * const bounded = withBoundedLeakyReLU(layers, { bound: 4, slope: 0.01 });
 * ```
 * @public
 */
export function withBoundedLeakyReLU(
  model: tfl.LayersModel,
  options: Omit<BoundedLeakyReLUArgs, 'name' | 'inputShape' | 'batchInputShape'> = {},
): tfl.Sequential {
  if (!(model instanceof tfl.Sequential)) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      'withBoundedLeakyReLU: only tf.Sequential models can be rebuilt; build functional models with BoundedLeakyReLU layers directly.',
    );
  }
  validateArgs(options);
  const out = tfl.sequential({ name: `${model.name}_blrelu` });
  for (const layer of model.layers) {
    const config = layer.getConfig() as tf.serialization.ConfigDict & { activation?: string; name?: string };
    const className = layer.getClassName();
    const blr = (name: string, first?: tf.serialization.ConfigDict) =>
      new BoundedLeakyReLU({ ...options, name, ...(first?.batchInputShape ? { batchInputShape: first.batchInputShape as (number | null)[] } : {}) });
    if (className === 'ReLU' || (className === 'Activation' && config.activation === 'relu')) {
      out.add(blr(`${config.name}_blrelu`, out.layers.length === 0 ? config : undefined));
      continue;
    }
    const relu = config.activation === 'relu';
    const ctor = layer.constructor as unknown as { fromConfig: (cls: unknown, c: tf.serialization.ConfigDict) => tfl.layers.Layer };
    const copy = ctor.fromConfig(layer.constructor, relu ? { ...config, activation: 'linear' } : config);
    out.add(copy);
    copy.setWeights(layer.getWeights());
    if (relu) out.add(blr(`${config.name}_blrelu`));
  }
  return out;
}
