import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';

import { AdvxError, fromGraphModel, type Bounds, type GraphModelLike, type Model, type ModelOutput, type NormalizeOptions } from '@advx/core';

import type { ModelJsonArtifacts } from './read-model-json.js';

interface GraphNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
}

/** What {@link loadGraphUserModel} needs. */
export interface GraphUserModelOptions {
  /** Valid input range. */
  readonly bounds: Bounds;
  /** Declared output kind; `undefined` detects it. */
  readonly output: ModelOutput | undefined;
  /** Node to read; `undefined` picks the only output (before a final Softmax or Sigmoid). */
  readonly outputNode: string | undefined;
  /** `[h, w]` when the signature leaves it unknown. */
  readonly inputSize: readonly [number, number] | undefined;
  /** Channels when the signature leaves them unknown. */
  readonly channels: number | undefined;
  /** Normalization inside the model. */
  readonly normalize: NormalizeOptions | undefined;
}

/** A graph model wrapped for advx, with what was decided on the way. */
export interface GraphUserModel {
  /** The advx model. */
  readonly model: Model;
  /** The tfjs graph model (dispose it). */
  readonly graph: GraphModel;
  /** Declared input dtype. */
  readonly inputDtype: string;
  /** Output kind used. */
  readonly output: ModelOutput;
  /** Node read (`null`: the graph's output). */
  readonly outputNode: string | null;
  /** How the output was derived. */
  readonly notes: string[];
}

const stripPort = (name: string): string => name.replace(/^\^/, '').replace(/:\d+$/, '');

/** Follows Identity ops back from `name` to the op that computes it. */
function producer(nodes: ReadonlyMap<string, GraphNode>, name: string): GraphNode | undefined {
  let node = nodes.get(stripPort(name));
  for (let i = 0; node !== undefined && node.op === 'Identity' && i < 16; i++) {
    const input = node.input?.[0];
    node = input === undefined ? undefined : nodes.get(stripPort(input));
  }
  return node;
}

function formatDims(shape: readonly number[] | undefined): string {
  return shape === undefined ? 'unknown' : `[${shape.join(', ')}]`;
}

/** `[h, w, c]` from the signature, filled and checked with --input-size / --channels. */
function resolveShape(declared: readonly number[] | undefined, name: string, opts: GraphUserModelOptions): number[] {
  const sample = declared?.slice(1);
  const given = [opts.inputSize?.[0], opts.inputSize?.[1], opts.channels];
  if (sample !== undefined && sample.length !== 3) {
    if (opts.inputSize !== undefined || opts.channels !== undefined) {
      throw new AdvxError(
        'INVALID_OPTION',
        `the graph input '${name}' has shape ${formatDims(declared)}, not [batch, height, width, channels]: drop --input-size and --channels.`,
      );
    }
    if (!sample.every((d) => d > 0)) {
      throw new AdvxError(
        'UNSUPPORTED_MODEL',
        `the graph input '${name}' has shape ${formatDims(declared)} with unknown dimensions that are not [height, width, channels]; advx cannot tell the sample shape.`,
      );
    }
    return [...sample];
  }
  const shape: number[] = [];
  const flags = ['--input-size (height)', '--input-size (width)', '--channels'];
  for (let i = 0; i < 3; i++) {
    const d = sample?.[i];
    const g = given[i];
    const known = d !== undefined && d > 0;
    if (known && g !== undefined && g !== d) {
      throw new AdvxError('INVALID_OPTION', `${flags[i]} is ${g} but the graph input '${name}' has shape ${formatDims(declared)}: drop the flag or pass ${d}.`);
    }
    const v = known ? d : g;
    if (v === undefined) {
      throw new AdvxError(
        'INVALID_OPTION',
        `the graph input '${name}' has shape ${formatDims(declared)}, so its image size is not known: pass --input-size HxW and --channels 1|3.`,
      );
    }
    shape.push(v);
  }
  return shape;
}

/**
 * Builds a tfjs `GraphModel` from read artifacts and wraps it with core's `fromGraphModel`:
 * - the output node: `outputNode`, else the graph's only output; when that output is computed by a
 *   `Softmax` (through `Identity` ops) and `output` is not given, the Softmax's input is read as
 *   logits; a final `Sigmoid` likewise gives the logit of a binary classifier;
 * - a single-column output is a binary classifier: logits `[0, z]` (so softmax gives
 *   `[1 − σ(z), σ(z)]`), probabilities `[1 − p, p]`;
 * - an integer graph input is fed `tf.cast(x, 'int32')` (straight-through gradient, noted);
 * - the number of classes is read from one forward pass on zeros.
 *
 * @param read - the model.json and its weights.
 * @param source - the path, for messages.
 * @param opts - see {@link GraphUserModelOptions}.
 * @returns the wrapped model and the graph.
 * @throws AdvxError `INVALID_MODEL` when the graph cannot be built or run, `INVALID_OPTION` for an
 * unknown output node or shape flags that contradict the graph, `UNSUPPORTED_MODEL` for several inputs.
 *
 * @example
 * ```ts
 * const { model, graph } = await loadGraphUserModel(await readModelJson('g/model.json'), 'g/model.json', {
 *   bounds: [0, 1], output: undefined, outputNode: undefined, inputSize: undefined, channels: undefined, normalize: undefined,
 * });
 * ```
 */
export async function loadGraphUserModel(read: ModelJsonArtifacts, source: string, opts: GraphUserModelOptions): Promise<GraphUserModel> {
  const topology = read.json.modelTopology as { node?: GraphNode[] };
  const nodes = new Map((topology.node ?? []).map((n) => [n.name, n]));
  let graph: GraphModel;
  try {
    graph = await loadGraphModel(tf.io.fromMemory(read.artifacts));
  } catch (e) {
    throw new AdvxError('INVALID_MODEL', `cannot build the graph model of ${source}: ${(e as Error).message}`);
  }
  try {
    if (graph.inputs.length !== 1) {
      throw new AdvxError(
        'UNSUPPORTED_MODEL',
        `the graph ${source} has ${graph.inputs.length} inputs (${graph.inputs.map((i) => i.name).join(', ')}); advx eval needs exactly one image input.`,
      );
    }
    const input = graph.inputs[0] as tf.ModelTensorInfo;
    const inputShape = resolveShape(input.shape, input.name, opts);
    const notes: string[] = [];
    let node = opts.outputNode;
    let output = opts.output;
    if (node !== undefined && !nodes.has(stripPort(node))) {
      const outs = graph.outputs.map((o) => o.name).join(', ');
      throw new AdvxError(
        'INVALID_OPTION',
        `--output-node '${node}' is not a node of ${source} (its outputs: ${outs}); pass a node name from the model.json's modelTopology.`,
      );
    }
    if (node === undefined) {
      if (graph.outputs.length !== 1) {
        throw new AdvxError(
          'INVALID_OPTION',
          `the graph ${source} has ${graph.outputs.length} outputs (${graph.outputs.map((o) => o.name).join(', ')}): pass --output-node with the one that holds the class scores.`,
        );
      }
      const out = (graph.outputs[0] as tf.ModelTensorInfo).name;
      const last = producer(nodes, out);
      if (output === undefined && last !== undefined && (last.op === 'Softmax' || last.op === 'Sigmoid') && last.input?.[0] !== undefined) {
        node = stripPort(last.input[0]);
        output = 'logits';
        notes.push(`the graph ends in ${last.op} ('${last.name}'): advx reads its input '${node}' as logits`);
      } else {
        node = stripPort(out);
      }
    }
    const outputKind: ModelOutput = output ?? 'logits';
    const readNode = node;
    const integer = input.dtype === 'int32';
    if (integer) notes.push(`the graph input is ${input.dtype}: advx feeds tf.cast(x, 'int32') (truncation; gradients pass straight through the cast)`);
    const run = (x: tf.Tensor): tf.Tensor => {
      const fed = integer ? tf.cast(x, 'int32') : x;
      const r = graph.execute(fed, readNode);
      if (Array.isArray(r))
        throw new AdvxError('INVALID_MODEL', `the node '${readNode}' of ${source} gave ${r.length} tensors; pass --output-node with one node.`);
      return r;
    };
    let columns: number;
    try {
      columns = tf.tidy(() => {
        const probe = run(tf.zeros([1, ...inputShape]));
        if (probe.rank !== 2) {
          throw new AdvxError(
            'INVALID_MODEL',
            `the node '${readNode}' of ${source} gives shape [${probe.shape.join(', ')}], not [batch, classes]: pass --output-node with the node of the class scores.`,
          );
        }
        return probe.shape[1] as number;
      });
    } catch (e) {
      if (e instanceof AdvxError) throw e;
      throw new AdvxError('INVALID_MODEL', `a forward pass of ${source} on zeros of shape [1, ${inputShape.join(', ')}] failed: ${(e as Error).message}`);
    }
    const binary = columns === 1;
    if (binary) {
      notes.push(
        outputKind === 'logits'
          ? `one output column: a binary classifier, logits [0, z] (softmax gives [1 - sigmoid(z), sigmoid(z)])`
          : 'one output column: a binary classifier, probabilities [1 - p, p]',
      );
    }
    const graphLike: GraphModelLike = {
      inputs: [{ name: input.name, shape: [-1, ...inputShape] }],
      outputs: [{ name: readNode, shape: [-1, binary ? 2 : columns] }],
      execute: (x: tf.Tensor) => {
        const z = run(x);
        if (!binary) return z;
        return outputKind === 'logits' ? tf.concat([tf.zerosLike(z), z], 1) : tf.concat([tf.sub(1, z), z], 1);
      },
    };
    const model = fromGraphModel(graphLike, {
      bounds: opts.bounds,
      output: outputKind,
      outputNode: readNode,
      inputShape,
      ...(opts.normalize !== undefined ? { normalize: opts.normalize } : {}),
    });
    return { model, graph, inputDtype: input.dtype, output: outputKind, outputNode: readNode, notes };
  } catch (e) {
    graph.dispose();
    throw e;
  }
}
