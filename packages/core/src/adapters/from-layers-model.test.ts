import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { AdvxError } from '../errors.js';
import { setWarningHandler, type WarningHandler } from '../warnings.js';
import { fromLayersModel } from './from-layers-model.js';

// Dense 3 -> 2 weights, chosen so every logit below is exact in float32.
const W = [
  [1, -1],
  [2, 0.5],
  [-3, 1],
];
const B = [0.5, -0.25];
const X = [
  [1, 2, 3],
  [0.5, -1, 2],
];
// X · W + B, by hand:
// row 0: [1 + 4 - 9 + 0.5, -1 + 1 + 3 - 0.25] = [-3.5, 2.75]
// row 1: [0.5 - 2 - 6 + 0.5, -0.5 - 0.5 + 2 - 0.25] = [-7, 0.75]
const XWB = [
  [-3.5, 2.75],
  [-7, 0.75],
];

function dense(activation: 'softmax' | 'linear', inputShape?: number[]): tfl.layers.Layer {
  const layer = tfl.layers.dense({ units: 2, activation, ...(inputShape ? { inputShape } : {}) });
  return layer;
}

function setDense(layer: tfl.layers.Layer, w: number[][] = W, b: number[] = B): void {
  tf.tidy(() => layer.setWeights([tf.tensor2d(w), tf.tensor1d(b)]));
}

function errorOf(f: () => unknown): AdvxError {
  try {
    f();
  } catch (e) {
    if (e instanceof AdvxError) return e;
    throw e;
  }
  throw new Error('expected an AdvxError');
}

let warnings: { code: string; message: string }[] = [];
let previous: WarningHandler | undefined;
beforeEach(() => {
  warnings = [];
  previous = setWarningHandler((w) => warnings.push(w));
});
afterEach(() => {
  setWarningHandler(previous);
});

describe('fromLayersModel: Dense + softmax', () => {
  it('returns x·W+b (not the softmax) for a one-layer model, with the input gradient equal to a W column', async () => {
    const last = dense('softmax', [3]);
    const net = tfl.sequential({ layers: [last] });
    setDense(last);
    const model = fromLayersModel(net, { bounds: [0, 1] });
    expect(model.kind).toBe('model');
    expect(model.outputKind).toBe('logits');
    expect(model.inputShape).toEqual([3]);
    expect(model.numClasses).toBe(2);
    expect(model.bounds).toEqual([0, 1]);
    expect(warnings).toEqual([]);

    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const logits = model.logits(x);
    expect(logits.shape).toEqual([2, 2]);
    expect(await logits.array()).toEqual(XWB);
    // d(sum of logit 1)/dx = W[:, 1] for every row.
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.logits(v), [0, 1], [-1, 1])))(x);
    expect(await g.array()).toEqual([
      [-1, 0.5, 1],
      [-1, 0.5, 1],
    ]);
    tf.dispose([x, logits, g]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('runs the model up to the last layer input by name (two layers) and uses the live weights', async () => {
    const first = tfl.layers.dense({ units: 3, activation: 'relu', inputShape: [3] });
    const last = dense('softmax');
    const net = tfl.sequential({ layers: [first, last] });
    tf.tidy(() => first.setWeights([tf.eye(3), tf.zeros([3])]));
    setDense(last);
    const model = fromLayersModel(net, { bounds: [-5, 5] });

    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    // relu(x) = [[1, 2, 3], [0.5, 0, 2]]; row 1 logits: [0.5 - 6 + 0.5, -0.5 + 2 - 0.25] = [-5, 1.25]
    const logits = model.logits(x);
    expect(await logits.array()).toEqual([
      [-3.5, 2.75],
      [-5, 1.25],
    ]);
    // Gradient of logit 1 through the relu: W[:, 1] masked where x < 0.
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.logits(v), [0, 1], [-1, 1])))(x);
    expect(await g.array()).toEqual([
      [-1, 0.5, 1],
      [-1, 0, 1],
    ]);
    tf.dispose([logits, g]);

    // Weights set after adaptation are reflected (the adapter reads the live variables).
    setDense(
      last,
      W.map((r) => r.map((v) => 2 * v)),
      [1, 1],
    );
    const after = model.logits(x);
    // row 0: 2 * [1 + 4 - 9, -1 + 1 + 3] + 1 = [-7, 7]
    expect((await after.array())[0]).toEqual([-7, 7]);
    tf.dispose([x, after]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('also works for a functional tf.model', async () => {
    const input = tfl.input({ shape: [3] });
    const hidden = tfl.layers.dense({ units: 3, activation: 'linear' });
    const last = dense('softmax');
    const out = last.apply(hidden.apply(input)) as tfl.SymbolicTensor;
    const net = tfl.model({ inputs: input, outputs: out });
    tf.tidy(() => hidden.setWeights([tf.eye(3), tf.zeros([3])]));
    setDense(last);
    const model = fromLayersModel(net, { bounds: [0, 1], output: 'probabilities' });
    expect(model.outputKind).toBe('logits');
    expect(warnings).toEqual([]);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const logits = model.logits(x);
    expect(await logits.array()).toEqual(XWB);
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });
});

describe('fromLayersModel: softmax layers', () => {
  it("strips a final Activation('softmax'): logits are the output of the layer before", async () => {
    const lin = dense('linear', [3]);
    const net = tfl.sequential({ layers: [lin, tfl.layers.activation({ activation: 'softmax' })] });
    setDense(lin);
    const model = fromLayersModel(net, { bounds: [0, 1] });
    expect(model.outputKind).toBe('logits');
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const logits = model.logits(x);
    expect(await logits.array()).toEqual(XWB);
    // the raw model output is the softmax, which differs
    const probs = net.predict(x) as tf.Tensor;
    expect(Math.abs(((await probs.array()) as number[][])[0]![1]! - 1 / (1 + Math.exp(-6.25)))).toBeLessThan(1e-6);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.logits(v), [0, 0], [-1, 1])))(x);
    expect(await g.array()).toEqual([
      [1, 2, -3],
      [1, 2, -3],
    ]);
    tf.dispose([x, logits, probs, g]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('strips a final Softmax layer', async () => {
    const lin = dense('linear', [3]);
    const net = tfl.sequential({ layers: [lin, tfl.layers.softmax()] });
    setDense(lin);
    const model = fromLayersModel(net, { bounds: [0, 1] });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const logits = model.logits(x);
    expect(await logits.array()).toEqual(XWB);
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('refuses a non-Dense layer with a softmax activation (INVALID_MODEL)', () => {
    const net = tfl.sequential({
      layers: [tfl.layers.conv2d({ filters: 2, kernelSize: 2, activation: 'softmax', inputShape: [4, 4, 1] })],
    });
    const before = tf.memory().numTensors;
    const e = errorOf(() => fromLayersModel(net, { bounds: [0, 1] }));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/logits/);
    expect(e.message).toMatch(/Conv2D/);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });
});

describe('fromLayersModel: normalization', () => {
  it('gives the logits of the model at (x - mean) / std, with the gradient scaled by 1 / std', async () => {
    const last = dense('softmax', [3]);
    const net = tfl.sequential({ layers: [last] });
    setDense(last);
    const mean = [0.5, 1, -1];
    const std = [2, 4, 0.5];
    const model = fromLayersModel(net, { bounds: [-10, 10], normalize: { mean, std } });
    const plain = fromLayersModel(net, { bounds: [-10, 10] });

    const before = tf.memory().numTensors;
    const x = tf.tensor2d([X[0]!]);
    // z = ((1 - 0.5) / 2, (2 - 1) / 4, (3 + 1) / 0.5) = (0.25, 0.25, 8)
    // logits = [0.25 + 0.5 - 24 + 0.5, -0.25 + 0.125 + 8 - 0.25] = [-22.75, 7.625]
    const logits = model.logits(x);
    expect(await logits.array()).toEqual([[-22.75, 7.625]]);
    const z = tf.tensor2d([[0.25, 0.25, 8]]);
    const reference = plain.logits(z);
    expect(await logits.array()).toEqual(await reference.array());
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.logits(v), [0, 1], [-1, 1])))(x);
    // W[:, 1] / std = [-1 / 2, 0.5 / 4, 1 / 0.5]
    expect(await g.array()).toEqual([[-0.5, 0.125, 2]]);
    tf.dispose([x, logits, z, reference, g]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('accepts scalar mean and std, and validates per-channel lengths and std > 0', async () => {
    const last = dense('linear', [3]);
    const net = tfl.sequential({ layers: [last] });
    setDense(last);
    const model = fromLayersModel(net, { bounds: [0, 1], normalize: { mean: 1, std: 2 } });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[3, 3, 3]]);
    // z = (1, 1, 1): logits = [1 + 2 - 3 + 0.5, -1 + 0.5 + 1 - 0.25] = [0.5, 0.25]
    const logits = model.logits(x);
    expect(await logits.array()).toEqual([[0.5, 0.25]]);
    tf.dispose([x, logits]);

    expect(errorOf(() => fromLayersModel(net, { bounds: [0, 1], normalize: { mean: [1, 2], std: 1 } })).code).toBe('INVALID_OPTION');
    expect(errorOf(() => fromLayersModel(net, { bounds: [0, 1], normalize: { mean: 0, std: [1, 0, 1] } })).code).toBe('INVALID_OPTION');
    expect(errorOf(() => fromLayersModel(net, { bounds: [0, 1], normalize: { mean: NaN, std: 1 } })).code).toBe('INVALID_OPTION');
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });
});

describe('fromLayersModel: output kinds and validation', () => {
  it("converts a model without softmax declared as 'probabilities' to log-probabilities, with a warning", async () => {
    const lin = dense('linear', [3]);
    const net = tfl.sequential({ layers: [lin] });
    setDense(
      lin,
      [
        [0.25, 0],
        [0, 0.25],
        [0, 0],
      ],
      [0, 0],
    );
    const model = fromLayersModel(net, { bounds: [0, 1], output: 'probabilities' });
    expect(model.outputKind).toBe('log-probabilities');
    expect(warnings.map((w) => w.code)).toEqual(['PROBABILITY_OUTPUT']);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([[1, 2, 0]]);
    // p = [0.25, 0.5] -> log p
    const logits = model.logits(x);
    const [row] = await logits.array();
    expect(row![0]).toBeCloseTo(Math.log(0.25), 6);
    expect(row![1]).toBeCloseTo(Math.log(0.5), 6);
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
    net.dispose();
  });

  it('throws INVALID_SHAPE with expected and got for a bad input, leaking nothing', () => {
    const last = dense('softmax', [3]);
    const net = tfl.sequential({ layers: [last] });
    const model = fromLayersModel(net, { bounds: [0, 1] });
    const unbatched = tf.tensor1d([1, 2, 3]);
    const wide = tf.zeros([2, 4]);
    const before = tf.memory().numTensors;
    const e1 = errorOf(() => model.logits(unbatched));
    expect(e1.code).toBe('INVALID_SHAPE');
    expect(e1.message).toContain('[n, 3]');
    expect(e1.message).toContain('[3]');
    expect(e1.message).toContain('tf.expandDims(x, 0)');
    const e2 = errorOf(() => model.logits(wide));
    expect(e2.code).toBe('INVALID_SHAPE');
    expect(e2.details).toEqual({ expected: ['n', 3], got: [2, 4] });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([unbatched, wide]);
    net.dispose();
  });

  it('rejects several inputs or outputs, unknown sample dims, bad bounds and non-models', () => {
    const a = tfl.input({ shape: [2] });
    const b = tfl.input({ shape: [2] });
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const twoInputs = tfl.model({ inputs: [a, b], outputs: sum });
    expect(errorOf(() => fromLayersModel(twoInputs, { bounds: [0, 1] })).code).toBe('UNSUPPORTED_MODEL');

    const seq = tfl.input({ shape: [null, 3] });
    const pooled = tfl.layers.globalAveragePooling1d().apply(seq) as tfl.SymbolicTensor;
    const dynamic = tfl.model({ inputs: seq, outputs: pooled });
    expect(errorOf(() => fromLayersModel(dynamic, { bounds: [0, 1] })).code).toBe('UNSUPPORTED_MODEL');

    const net = tfl.sequential({ layers: [dense('linear', [3])] });
    expect(errorOf(() => fromLayersModel(net, { bounds: [1, 0] })).code).toBe('INVALID_OPTION');
    expect(errorOf(() => fromLayersModel(net, { bounds: [0, Infinity] })).code).toBe('INVALID_OPTION');
    expect(errorOf(() => fromLayersModel(net, { bounds: [0, 1], output: 'softmax' as unknown as 'logits' })).code).toBe('INVALID_OPTION');
    expect(errorOf(() => fromLayersModel({} as unknown as tfl.LayersModel, { bounds: [0, 1] })).code).toBe('INVALID_MODEL');
    twoInputs.dispose();
    net.dispose();
  });

  it('returns a frozen model', () => {
    const net = tfl.sequential({ layers: [dense('linear', [3])] });
    const model = fromLayersModel(net, { bounds: [0, 1] });
    expect(Object.isFrozen(model)).toBe(true);
    expect(Object.isFrozen(model.inputShape)).toBe(true);
    expect(Object.isFrozen(model.bounds)).toBe(true);
    net.dispose();
  });
});
