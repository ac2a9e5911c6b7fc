import type * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '../errors.js';
import type { Bounds, Model } from '../model.js';
import type { GraphModelLike, GraphTensorInfoLike } from './model-like.js';
import { formatShape, makeModel, validateInputShape, validateNumClasses, validateOutput, type ModelOutput, type NormalizeOptions } from './make-model.js';

/**
 * Options of {@link fromGraphModel}.
 *
 * @example
 * ```ts
 * const options: FromGraphModelOptions = { bounds: [0, 255], output: 'logits', outputNode: 'logits' };
 * ```
 * @public
 */
export interface FromGraphModelOptions {
  /** Valid input range `[low, high]` of the raw (unnormalized) input. Required. */
  readonly bounds: Bounds;
  /**
   * What the graph (or `outputNode`) returns. Required, because the last op of a graph cannot be
   * stripped reliably: `'logits'` (preferred; pick the node before the softmax with `outputNode`)
   * or `'probabilities'` (converted with `log(clip(p, 1e-12, 1))`, with a `PROBABILITY_OUTPUT`
   * warning).
   */
  readonly output: ModelOutput;
  /** Optional `(x - mean) / std` over the channel axis, applied before the graph. Default: none. */
  readonly normalize?: NormalizeOptions;
  /**
   * Name of the node to read, e.g. the logits before a final `Softmax` op
   * (`'StatefulPartitionedCall/model/dense/BiasAdd'`). Default: the graph's only output.
   */
  readonly outputNode?: string;
  /** Shape of one sample, without the batch axis. Default: from the graph's input signature. */
  readonly inputShape?: readonly number[];
  /** Number of classes. Default: from the output's shape in the graph's signature. */
  readonly numClasses?: number;
}

type TensorInfo = GraphTensorInfoLike;

const WHERE = 'fromGraphModel';

function isGraphModelLike(model: unknown): model is GraphModelLike {
  const m = model as Partial<Record<'inputs' | 'outputs' | 'execute', unknown>> | null | undefined;
  return m !== null && typeof m === 'object' && typeof m.execute === 'function' && Array.isArray(m.inputs) && Array.isArray(m.outputs);
}

const stripPort = (name: string): string => name.replace(/:\d+$/, '');

function isKnown(d: unknown): d is number {
  return typeof d === 'number' && Number.isInteger(d) && d > 0;
}

function resolveInputShape(info: TensorInfo, given: readonly number[] | undefined): readonly number[] {
  const declared = info.shape?.slice(1);
  if (given !== undefined) {
    const shape = validateInputShape(given, WHERE);
    if (declared !== undefined && (declared.length !== shape.length || declared.some((d, i) => isKnown(d) && d !== shape[i]))) {
      throw new AdvxError(
        'INVALID_OPTION',
        `${WHERE}: inputShape ${formatShape(shape)} does not match the graph input '${info.name}' of shape ` +
          `${formatShape(info.shape ?? [])} (-1 is free). Pass the per-sample shape the graph accepts.`,
        { option: 'inputShape', got: [...shape], graph: info.shape },
      );
    }
    return shape;
  }
  if (declared === undefined || !declared.every(isKnown)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${WHERE}: the graph input '${info.name}' has shape ${formatShape(info.shape ?? ['unknown'])}, so the sample ` +
        'shape is not known. Pass it: inputShape: [height, width, channels] (without the batch axis).',
      { option: 'inputShape', graph: info.shape },
    );
  }
  return validateInputShape(declared, WHERE);
}

function resolveNumClasses(info: TensorInfo | undefined, given: number | undefined, outputNode: string): number {
  const declared = info?.shape;
  if (given !== undefined) {
    const n = validateNumClasses(given, WHERE);
    const d = declared?.[1];
    if (declared !== undefined && (declared.length !== 2 || (isKnown(d) && d !== n))) {
      throw new AdvxError(
        'INVALID_OPTION',
        `${WHERE}: numClasses ${n} does not match the output '${outputNode}' of shape ${formatShape(declared)}; ` +
          'advx needs an output [batch, numClasses]. Pass the right numClasses or outputNode.',
        { option: 'numClasses', got: n, graph: declared },
      );
    }
    return n;
  }
  const d = declared?.[1];
  if (declared === undefined || declared.length !== 2 || !isKnown(d)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${WHERE}: the number of classes of output '${outputNode}' is not known from the graph ` +
        `(shape ${declared === undefined ? 'unknown' : formatShape(declared)}). Pass numClasses.`,
      { option: 'numClasses', graph: declared },
    );
  }
  return validateNumClasses(d, WHERE);
}

/**
 * Wraps a TensorFlow.js `GraphModel` (from `tf.loadGraphModel`, converted from TensorFlow or a
 * SavedModel) as an advx {@link Model}: white-box access with gradients through the graph's ops.
 *
 * `output` is required: a graph's final softmax cannot be stripped reliably, so say what the graph
 * returns, and prefer pointing `outputNode` at the logits node (the input of the final `Softmax`).
 * `inputShape` and `numClasses` come from the graph's signature unless given; when the signature
 * leaves them unknown (`-1`), pass them.
 *
 * The forward pass is `model.execute(x, outputNode)`, synchronous tfjs ops; graphs with control
 * flow (which need `executeAsync`) are not supported. `@advx/core` depends on
 * `@tensorflow/tfjs-converter` neither at run time nor in its types (it is an optional peer; `model`
 * is typed structurally as {@link GraphModelLike}).
 *
 * @param model - a `GraphModel` (any {@link GraphModelLike}) with one input; its output (or `outputNode`) is `[batch, numClasses]`.
 * @param options - see {@link FromGraphModelOptions}.
 * @returns a frozen {@link Model}; its `logits(x)` checks that `x` is `[n, ...inputShape]`.
 * @throws AdvxError `INVALID_MODEL` when `model` is not a GraphModel; `UNSUPPORTED_MODEL` for a
 * graph with several inputs; `INVALID_OPTION` for a missing or invalid option, an unknown
 * `inputShape` or `numClasses`, or several outputs without `outputNode`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { loadGraphModel } from '@tensorflow/tfjs-converter';
 * import { fromGraphModel } from '@advx/core';
 *
 * const graph = await loadGraphModel('https://example.com/mobilenet/model.json');
 * const model = fromGraphModel(graph, {
 *   bounds: [0, 1], output: 'logits', outputNode: 'module_apply_default/MobilenetV2/Logits/output',
 *   inputShape: [224, 224, 3], numClasses: 1001,
 * });
 * const logits = model.logits(tf.zeros([1, 224, 224, 3])); // shape [1, 1001]
 * ```
 * @public
 */
export function fromGraphModel(model: GraphModelLike, options: FromGraphModelOptions): Model {
  if (!isGraphModelLike(model)) {
    throw new AdvxError(
      'INVALID_MODEL',
      `${WHERE}: expected a tf.GraphModel (from tf.loadGraphModel). For a tf.LayersModel use fromLayersModel; ` +
        'for any other differentiable function use fromFunction.',
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: options { bounds, output } are required, e.g. { bounds: [0, 1], output: 'logits' }.`);
  }
  if (options.output === undefined) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${WHERE}: output is required because a graph's final softmax cannot be stripped reliably. Pass ` +
        "output: 'logits' (preferred: point outputNode at the node before the softmax) or output: 'probabilities'.",
      { option: 'output' },
    );
  }
  const output = validateOutput(options.output, WHERE);

  const inputs = model.inputs;
  const outputs = model.outputs;
  if (inputs.length !== 1) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${WHERE}: the graph has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); advx needs exactly one. ` +
        'Wrap it with fromFunction, feeding the other inputs yourself.',
      { inputs: inputs.map((i) => i.name) },
    );
  }
  const { outputNode } = options;
  if (outputNode !== undefined && (typeof outputNode !== 'string' || outputNode.length === 0)) {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: outputNode must be a non-empty node name, got ${String(outputNode)}.`, {
      option: 'outputNode',
    });
  }
  if (outputNode === undefined && outputs.length !== 1) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${WHERE}: the graph has ${outputs.length} outputs (${outputs.map((o) => o.name).join(', ')}); pass outputNode ` +
        'to say which one holds the class scores.',
      { option: 'outputNode', outputs: outputs.map((o) => o.name) },
    );
  }

  const inputShape = resolveInputShape(inputs[0] as TensorInfo, options.inputShape);
  const outputInfo = outputNode === undefined ? outputs[0] : outputs.find((o) => stripPort(o.name) === stripPort(outputNode));
  const numClasses = resolveNumClasses(outputInfo, options.numClasses, outputNode ?? outputInfo?.name ?? 'output');

  const forward = (x: tf.Tensor): tf.Tensor => {
    const result = outputNode === undefined ? model.execute(x) : model.execute(x, outputNode);
    if (Array.isArray(result)) {
      throw new AdvxError('INVALID_MODEL', `${WHERE}: the graph returned ${result.length} tensors; pass outputNode to select the class scores.`);
    }
    return result;
  };

  return makeModel({
    name: WHERE,
    inputShape,
    numClasses,
    bounds: options.bounds,
    normalize: options.normalize,
    output,
    probabilityHint: "To attack true logits, pass outputNode: the name of the node that feeds the graph's final Softmax op, and output: 'logits'.",
    forward,
  });
}
