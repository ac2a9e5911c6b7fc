import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '../errors.js';
import type { Bounds, Model } from '../model.js';
import type { LayerLike, LayersModelLike, SymbolicTensorLike } from './model-like.js';
import { formatShape, makeModel, validateOutput, type ModelOutput, type NormalizeOptions } from './make-model.js';

/**
 * Options of {@link fromLayersModel}.
 *
 * @example
 * ```ts
 * const options: FromLayersModelOptions = { bounds: [0, 1], normalize: { mean: 0.1307, std: 0.3081 } };
 * ```
 * @public
 */
export interface FromLayersModelOptions {
  /** Valid input range `[low, high]` of the raw (unnormalized) input. Required. */
  readonly bounds: Bounds;
  /** Optional `(x - mean) / std` over the channel axis, applied inside the model. Default: none. */
  readonly normalize?: NormalizeOptions;
  /**
   * What the model outputs when advx finds no softmax to strip. Default `'logits'`. A final softmax
   * is always detected and stripped, whatever this says. With `'probabilities'` and no softmax
   * found (e.g. a custom layer), outputs are converted with `log(clip(p, 1e-12, 1))` and a
   * `PROBABILITY_OUTPUT` warning is raised.
   */
  readonly output?: ModelOutput;
}

type SymbolicTensor = SymbolicTensorLike;
type Layer = LayerLike;

const WHERE = 'fromLayersModel';

function isLayersModelLike(model: unknown): model is LayersModelLike {
  const m = model as Partial<Record<'inputs' | 'outputs' | 'execute', unknown>> | null | undefined;
  return m !== null && typeof m === 'object' && Array.isArray(m.inputs) && Array.isArray(m.outputs) && typeof m.execute === 'function';
}

function activationOf(layer: Layer): unknown {
  const config = layer.getConfig() as { activation?: unknown };
  return config.activation;
}

/** Runs `model` up to the symbolic tensor `st` (the model input itself needs no run). */
function runUpTo(model: LayersModelLike, st: SymbolicTensor): (x: tf.Tensor) => tf.Tensor {
  const input = model.inputs[0];
  if (st === input || st.name === input?.name) return (x) => x;
  const name = st.name;
  return (x) => model.execute(x, name) as tf.Tensor;
}

/** Logits of a Dense layer with a softmax activation: `h · kernel + bias`, with the live weights. */
function denseLogits(model: LayersModelLike, layer: Layer, layerInput: SymbolicTensor | undefined): (x: tf.Tensor) => tf.Tensor {
  const find = (suffix: string) => layer.weights.find((w) => w.originalName === suffix || w.originalName.endsWith(`/${suffix}`));
  const kernel = find('kernel');
  if (kernel === undefined || layerInput === undefined || layerInput.shape.length !== 2) {
    throw new AdvxError(
      'INVALID_MODEL',
      `${WHERE}: the last layer '${layer.name}' is a Dense layer with a softmax activation, but advx could not ` +
        'read its kernel to recompute the logits. Pass a model whose last layer outputs logits ' +
        "(activation 'linear'), adding the softmax only for inference.",
      { layer: layer.name },
    );
  }
  const bias = find('bias');
  const upTo = runUpTo(model, layerInput);
  return (x) => {
    const h = upTo(x) as tf.Tensor2D;
    // read() returns the layer's live variables, so later training and setWeights are reflected.
    const z = tf.matMul(h, kernel.read() as tf.Tensor2D);
    return bias === undefined ? z : tf.add(z, bias.read());
  };
}

/**
 * Wraps a TensorFlow.js `LayersModel` (e.g. from `tf.sequential`, `tf.model` or
 * `tf.loadLayersModel`) as an advx {@link Model}: white-box access with gradients.
 *
 * `inputShape` and `numClasses` come from the model (one input, one `[batch, numClasses]` output,
 * no unknown dimension besides the batch). A final softmax is stripped so attacks get true
 * logits, because gradients of a saturated softmax vanish and make attacks look weak:
 * - last layer `Dense` with `activation: 'softmax'`: its pre-activation `h · kernel + bias`,
 *   computed with the layer's live weights (training after adaptation is reflected);
 * - last layer `Activation('softmax')` or `Softmax`: the output of the layer before it;
 * - any other layer type with a softmax activation: refused (`INVALID_MODEL`).
 *
 * `@advx/core` depends on `@tensorflow/tfjs-layers` neither at run time nor in its types (it is an
 * optional peer; `model` is typed structurally as {@link LayersModelLike}): pass a model built with
 * your own copy of it (the same tfjs-core engine).
 *
 * @param model - a `LayersModel` (any {@link LayersModelLike}) with one input and one output `[batch, numClasses]`.
 * @param options - see {@link FromLayersModelOptions}.
 * @returns a frozen {@link Model}; its `logits(x)` checks that `x` is `[n, ...inputShape]`.
 * @throws AdvxError `INVALID_MODEL` when `model` is not a LayersModel or ends in a softmax that
 * cannot be stripped; `UNSUPPORTED_MODEL` for several inputs or outputs, unknown non-batch
 * dimensions or an output that is not `[batch, numClasses]`; `INVALID_OPTION` for invalid options.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import * as tfl from '@tensorflow/tfjs-layers';
 * import { fromLayersModel } from '@advx/core';
 *
 * const net = tfl.sequential({ layers: [
 *   tfl.layers.flatten({ inputShape: [28, 28, 1] }),
 *   tfl.layers.dense({ units: 10, activation: 'softmax' }),
 * ] });
 * const model = fromLayersModel(net, { bounds: [0, 1], normalize: { mean: 0.1307, std: 0.3081 } });
 * model.outputKind; // 'logits': the softmax was stripped
 * const logits = model.logits(tf.zeros([2, 28, 28, 1])); // shape [2, 10]
 * ```
 * @public
 */
export function fromLayersModel(model: LayersModelLike, options: FromLayersModelOptions): Model {
  if (!isLayersModelLike(model)) {
    throw new AdvxError(
      'INVALID_MODEL',
      `${WHERE}: expected a tf.LayersModel (from tf.sequential, tf.model or tf.loadLayersModel). ` +
        'For a tf.GraphModel use fromGraphModel; for any other differentiable function use fromFunction.',
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: options { bounds } are required, e.g. { bounds: [0, 1] }.`);
  }
  const declaredOutput = options.output === undefined ? 'logits' : validateOutput(options.output, WHERE);

  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${WHERE}: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; advx needs ` +
        'exactly one input and one output (class scores). Wrap it with fromFunction, feeding and selecting the right tensors.',
      { inputs: model.inputs.length, outputs: model.outputs.length },
    );
  }
  const inputSt = model.inputs[0] as SymbolicTensor;
  const outputSt = model.outputs[0] as SymbolicTensor;

  const lastLayer = outputSt.sourceLayer;
  const className = lastLayer.getClassName();
  const activation = activationOf(lastLayer);
  const layerInput = outputSt.inputs[0];

  const stripsSoftmax = className === 'Softmax' || (className === 'Activation' && activation === 'softmax');
  if (!stripsSoftmax && activation === 'softmax' && className !== 'Dense') {
    throw new AdvxError(
      'INVALID_MODEL',
      `${WHERE}: the last layer '${lastLayer.name}' (${className}) applies a softmax activation, which advx can only ` +
        'strip from a Dense layer. Gradients of a saturated softmax vanish and make attacks look weak. Pass a model ' +
        "whose last layer outputs logits (activation 'linear'), adding tf.layers.softmax() only for inference.",
      { layer: lastLayer.name, className },
    );
  }

  const sampleShape = inputSt.shape.slice(1);
  if (!sampleShape.every((d): d is number => typeof d === 'number' && d > 0)) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${WHERE}: the model input shape ${formatShape(inputSt.shape)} has unknown dimensions besides the batch axis. ` +
        'advx needs a fixed sample shape: rebuild the model with a fixed inputShape, or wrap it with ' +
        'fromFunction((x) => model.apply(x) as tf.Tensor2D, { inputShape, ... }).',
      { inputShape: [...inputSt.shape] },
    );
  }
  const numClasses = outputSt.shape[1];
  if (outputSt.shape.length !== 2 || typeof numClasses !== 'number' || numClasses <= 0) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${WHERE}: the model output shape is ${formatShape(outputSt.shape)}; advx needs [batch, numClasses]. ` +
        'Add a Flatten or Reshape at the end, or wrap the model with fromFunction.',
      { outputShape: [...outputSt.shape] },
    );
  }

  let forward: (x: tf.Tensor) => tf.Tensor;
  let output: ModelOutput = declaredOutput;
  if (stripsSoftmax) {
    const axis = (lastLayer.getConfig() as { axis?: unknown }).axis;
    if (layerInput === undefined || (className === 'Softmax' && axis !== undefined && axis !== -1 && axis !== 1)) {
      throw new AdvxError(
        'INVALID_MODEL',
        `${WHERE}: the last layer '${lastLayer.name}' is a softmax advx cannot strip. ` +
          'Pass a model whose last layer outputs logits, adding the softmax only for inference.',
        { layer: lastLayer.name },
      );
    }
    forward = runUpTo(model, layerInput);
    output = 'logits';
  } else if (activation === 'softmax') {
    forward = denseLogits(model, lastLayer, layerInput);
    output = 'logits';
  } else {
    const name = outputSt.name;
    forward = (x) => model.execute(x, name) as tf.Tensor;
  }

  return makeModel({
    name: WHERE,
    inputShape: sampleShape,
    numClasses,
    bounds: options.bounds,
    normalize: options.normalize,
    output,
    probabilityHint:
      `advx found no softmax to strip at the end of the model (last layer '${lastLayer.name}', ${className}); ` +
      "if it does output logits, pass output: 'logits'.",
    forward,
  });
}
