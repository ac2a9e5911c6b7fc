import { promises as fs } from 'node:fs';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

import { AdvxError, fromLayersModel, type Bounds, type Model, type NormalizeOptions } from '@advx/core';
import { DATASETS, loadModel, ZOO_MODEL_IDS, type DatasetName, type ZooModelId } from '@advx/models-zoo';

import { loadGraphUserModel } from './load-graph-user-model.js';
import { readModelJson } from './read-model-json.js';
import { findTeachableMachineMetadata, readTeachableMachineMetadata, type TeachableMachineMetadata } from './read-teachable-machine.js';
import type { LoadUserModelOptions, UserModel, UserModelDescription, UserModelFormat } from './types.js';

/**
 * Teachable Machine's image library feeds its models `pixel / 127 - 1` (`capture()` in
 * `libraries/image/src/utils/tf.ts` of googlecreativelab/teachablemachine-community). With inputs
 * `x = pixel / 255` in bounds [0, 1], `(x - m) / s` with `m = s = 127/255` is exactly that.
 */
const TM_SCALE = 127 / 255;

/** Where `spec` points: the model.json, and a Teachable Machine metadata.json next to it, if any. */
async function locate(spec: string): Promise<{ file: string; metadata: string | undefined }> {
  let stat: Awaited<ReturnType<typeof fs.stat>> | undefined;
  try {
    stat = await fs.stat(spec);
  } catch {
    stat = undefined;
  }
  if (stat === undefined) {
    throw new AdvxError(
      spec.endsWith('.json') ? 'INVALID_MODEL' : 'UNKNOWN_NAME',
      spec.endsWith('.json')
        ? `cannot read the model ${spec}: no such file.`
        : `--model '${spec}' is neither a zoo model (${ZOO_MODEL_IDS.join(', ')}) nor a model.json or a folder holding one.`,
    );
  }
  const file = stat.isDirectory() ? path.join(spec, 'model.json') : spec;
  if (stat.isDirectory()) {
    const has = await fs.stat(file).then(
      () => true,
      () => false,
    );
    if (!has)
      throw new AdvxError(
        'INVALID_MODEL',
        `the folder ${spec} holds no model.json; pass a tfjs model.json or a Teachable Machine export folder (model.json, weights.bin, metadata.json).`,
      );
  }
  return { file, metadata: await findTeachableMachineMetadata(path.dirname(file)) };
}

function checkClassNames(names: readonly string[] | undefined, numClasses: number, from: string): void {
  if (names !== undefined && names.length !== numClasses) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${from} names ${names.length} classes but the model has ${numClasses} outputs; give one class name per output, in output order.`,
    );
  }
}

function checkFixedShape(model: Model, opts: LoadUserModelOptions, source: string): void {
  const [h, w, c] = model.inputShape;
  const shape = `[${model.inputShape.join(', ')}]`;
  if (opts.inputSize !== undefined && (model.inputShape.length !== 3 || opts.inputSize[0] !== h || opts.inputSize[1] !== w)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `--input-size ${opts.inputSize.join('x')} does not match ${source}, whose input is ${shape}: drop --input-size (images are resized to the model's size) or pass ${h}x${w}.`,
    );
  }
  if (opts.channels !== undefined && (model.inputShape.length !== 3 || opts.channels !== c)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `--channels ${opts.channels} does not match ${source}, whose input is ${shape}: drop --channels (images are converted to the model's channels) or pass ${String(c)}.`,
    );
  }
}

function describeNormalize(n: NormalizeOptions | undefined): UserModelDescription['normalize'] {
  return n === undefined ? null : { mean: n.mean, std: n.std };
}

async function loadZoo(id: ZooModelId, opts: LoadUserModelOptions): Promise<UserModel> {
  if (opts.outputNode !== undefined || opts.output !== undefined || opts.normalize !== undefined || opts.bounds !== undefined) {
    throw new AdvxError(
      'INVALID_OPTION',
      `--model ${id} is a zoo model with its own bounds, normalization and logits: drop --bounds, --mean/--std, --output and --output-node.`,
    );
  }
  const zoo = await loadModel(id);
  try {
    checkFixedShape(zoo.model, opts, id);
    const dataset = zoo.card.dataset as DatasetName;
    const zooNames = dataset in DATASETS ? DATASETS[dataset].classNames : undefined;
    const classNames = opts.labels ?? zooNames;
    checkClassNames(opts.labels, zoo.model.numClasses, '--labels');
    const description: UserModelDescription = {
      source: id,
      format: 'zoo',
      inputShape: [...zoo.model.inputShape],
      inputDtype: 'float32',
      bounds: [zoo.model.bounds[0], zoo.model.bounds[1]],
      normalize: null,
      output: 'logits',
      outputNode: null,
      numClasses: zoo.model.numClasses,
      classNames: classNames === undefined ? null : [...classNames],
      classNamesFrom: opts.labels !== undefined ? 'labels-file' : classNames !== undefined ? 'zoo' : 'none',
      notes: [],
    };
    const features = penultimateFeatures(zoo.layers);
    return { model: zoo.model, id, format: 'zoo', classNames, dataset, description, ...(features ? { features } : {}), dispose: () => zoo.layers.dispose() };
  } catch (e) {
    zoo.layers.dispose();
    throw e;
  }
}

/**
 * The input `[n, k]` of the last dense layer of a layers model (its penultimate features), or
 * `undefined` when it has no dense layer with a rank-2 input.
 */
function penultimateFeatures(layers: tfl.LayersModel): ((x: tf.Tensor) => tf.Tensor2D) | undefined {
  const dense = [...layers.layers].reverse().find((l) => l.getClassName() === 'Dense');
  const input = dense?.input;
  if (input === undefined || Array.isArray(input) || input.shape.length !== 2) return undefined;
  return (x) => layers.execute(x, input.name) as tf.Tensor2D;
}

/**
 * Loads the model a user passes to `advx eval --model`:
 * - a zoo id (`mnist-cnn`, ...);
 * - a tfjs layers `model.json` (a final softmax is stripped by `fromLayersModel`);
 * - a tfjs graph `model.json` (converted SavedModel / Keras / TF Hub), through `fromGraphModel`:
 *   the graph's only output or `outputNode`; a final `Softmax`/`Sigmoid` is read before it unless
 *   `output` is given; a one-column output is a binary classifier;
 * - a Teachable Machine image export (a folder, or its model.json, with `metadata.json`): its
 *   `labels` become the class names and its `imageSize` is checked against the model; inputs are
 *   in bounds [0, 1] and normalized inside the model as TM does (`pixel / 127 - 1`, i.e. mean = std =
 *   127/255), unless `bounds` or `normalize` are given.
 *
 * Weight files are read only from the model's folder. Nothing is downloaded.
 *
 * @param spec - a zoo id, a model.json path or a folder holding one.
 * @param options - see {@link LoadUserModelOptions}.
 * @returns the advx model, its id, class names, description (for results.json) and `dispose`.
 * @throws AdvxError `UNKNOWN_NAME` for a spec that is no zoo id and no file; `INVALID_MODEL` for an
 * unreadable or malformed model; `INVALID_OPTION` for options that contradict the model.
 *
 * @example
 * ```ts
 * const user = await loadUserModel('my-tm-export', {});
 * user.classNames; // TM's labels
 * user.dispose();
 * ```
 * @public
 */
export async function loadUserModel(spec: string, options: LoadUserModelOptions = {}): Promise<UserModel> {
  if ((ZOO_MODEL_IDS as readonly string[]).includes(spec)) return loadZoo(spec as ZooModelId, options);
  const { file, metadata } = await locate(spec);
  const read = await readModelJson(file);
  // `my-model/model.json` → my-model; `models/antispoof.json` → antispoof.
  const id = path.basename(file) === 'model.json' ? path.basename(path.dirname(path.resolve(file))) : path.basename(file, '.json');
  const isGraph = read.json.format === 'graph-model';
  const tm: TeachableMachineMetadata | undefined = metadata !== undefined && !isGraph ? await readTeachableMachineMetadata(metadata) : undefined;
  const format: UserModelFormat = isGraph ? 'graph' : tm !== undefined ? 'teachable-machine' : 'layers';
  const tmDefaults = tm !== undefined && options.bounds === undefined && options.normalize === undefined;
  const bounds: Bounds = options.bounds ?? [0, 1];
  const normalize: NormalizeOptions | undefined = tmDefaults ? { mean: TM_SCALE, std: TM_SCALE } : options.normalize;
  const notes: string[] = [];
  if (tmDefaults) notes.push("Teachable Machine input: pixels / 255 in [0, 1], then (x - 127/255) / (127/255) inside the model = TM's pixel / 127 - 1");

  let model: Model;
  let dispose: () => void;
  let features: ((x: tf.Tensor) => tf.Tensor2D) | undefined;
  let inputDtype = 'float32';
  let output = options.output ?? 'logits';
  let outputNode: string | null = null;
  if (isGraph) {
    const g = await loadGraphUserModel(read, file, {
      bounds,
      output: options.output,
      outputNode: options.outputNode,
      inputSize: options.inputSize,
      channels: options.channels,
      normalize,
    });
    ({ model, inputDtype, output, outputNode } = g);
    notes.push(...g.notes);
    dispose = () => g.graph.dispose();
  } else {
    if (options.outputNode !== undefined) {
      throw new AdvxError(
        'INVALID_OPTION',
        `--output-node applies to graph models; ${file} is a layers model (advx strips its final softmax itself): drop --output-node.`,
      );
    }
    let layers: tfl.LayersModel;
    try {
      layers = await tfl.loadLayersModel(tf.io.fromMemory(read.artifacts));
    } catch (e) {
      throw new AdvxError('INVALID_MODEL', `cannot build the layers model of ${file}: ${(e as Error).message}`);
    }
    dispose = () => layers.dispose();
    try {
      model = fromLayersModel(layers, {
        bounds,
        ...(normalize !== undefined ? { normalize } : {}),
        ...(options.output !== undefined ? { output: options.output } : {}),
      });
      // The self-test's features: the raw input must be the layers' input (no normalization in between).
      if (normalize === undefined) features = penultimateFeatures(layers);
      const last = layers.layers[layers.layers.length - 1];
      const act = (last?.getConfig() as { activation?: unknown } | undefined)?.activation;
      if (act === 'softmax' || last?.getClassName() === 'Softmax')
        notes.push(`the last layer '${last?.name ?? ''}' ends in softmax: advx reads the logits before it`);
    } catch (e) {
      layers.dispose();
      throw e;
    }
  }
  try {
    checkFixedShape(model, options, file);
    if (tm?.imageSize !== undefined && (model.inputShape[0] !== tm.imageSize || model.inputShape[1] !== tm.imageSize)) {
      throw new AdvxError(
        'INVALID_MODEL',
        `${metadata ?? ''} says imageSize ${tm.imageSize} but the model's input is [${model.inputShape.join(', ')}]; the export is inconsistent: export it again from Teachable Machine.`,
      );
    }
    checkClassNames(options.labels, model.numClasses, '--labels');
    if (options.labels === undefined && tm !== undefined) checkClassNames(tm.labels, model.numClasses, `the Teachable Machine metadata ${metadata ?? ''}`);
    const classNames = options.labels ?? tm?.labels;
    const description: UserModelDescription = {
      source: spec,
      format,
      inputShape: [...model.inputShape],
      inputDtype,
      bounds: [model.bounds[0], model.bounds[1]],
      normalize: describeNormalize(normalize),
      output,
      outputNode,
      numClasses: model.numClasses,
      classNames: classNames === undefined ? null : [...classNames],
      classNamesFrom: options.labels !== undefined ? 'labels-file' : tm !== undefined ? 'teachable-machine' : 'none',
      notes,
    };
    return { model, id, format, classNames, dataset: undefined, description, ...(features ? { features } : {}), dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}
