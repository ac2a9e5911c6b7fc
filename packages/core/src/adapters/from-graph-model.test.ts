import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tfc from '@tensorflow/tfjs-converter';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { AdvxError } from '../errors.js';
import { setWarningHandler } from '../warnings.js';
import { fromGraphModel, type FromGraphModelOptions } from './from-graph-model.js';

function errorOf(f: () => unknown): AdvxError {
  try {
    f();
  } catch (e) {
    if (e instanceof AdvxError) return e;
    throw e;
  }
  throw new Error('expected an AdvxError');
}

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
// X · W + B by hand (see from-layers-model.test.ts)
const XWB = [
  [-3.5, 2.75],
  [-7, 0.75],
];

const float = { type: 'DT_FLOAT' };
const dims = (...sizes: number[]) => ({ dim: sizes.map((s) => ({ size: String(s) })) });

/** x:[-1, 3] -> MatMul(W) -> BiasAdd(b) = 'logits' -> Softmax = 'probs' (the only graph output). */
async function loadTinyGraph(): Promise<tfc.GraphModel> {
  const modelTopology = {
    node: [
      { name: 'x', op: 'Placeholder', attr: { dtype: float, shape: { shape: dims(-1, 3) } } },
      { name: 'W', op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(3, 2) } } } },
      { name: 'b', op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims(2) } } } },
      { name: 'MatMul', op: 'MatMul', input: ['x', 'W'], attr: { T: float, transpose_a: { b: false }, transpose_b: { b: false } } },
      { name: 'logits', op: 'BiasAdd', input: ['MatMul', 'b'], attr: { T: float } },
      { name: 'probs', op: 'Softmax', input: ['logits'], attr: { T: float } },
    ],
    versions: { producer: 1 },
  };
  const weightSpecs: tf.io.WeightsManifestEntry[] = [
    { name: 'W', shape: [3, 2], dtype: 'float32' },
    { name: 'b', shape: [2], dtype: 'float32' },
  ];
  const weightData = new Float32Array([...W.flat(), ...B]).buffer;
  return tfc.loadGraphModel(tf.io.fromMemory({ modelTopology, weightSpecs, weightData, format: 'graph-model' }));
}

let graph: tfc.GraphModel;
beforeAll(async () => {
  graph = await loadTinyGraph();
});
afterAll(() => {
  graph.dispose();
});
afterEach(() => {
  setWarningHandler(undefined);
});

describe('fromGraphModel (a real GraphModel loaded from memory)', () => {
  it('reads the sample shape from the graph input', () => {
    expect(graph.inputs[0]!.shape).toEqual([-1, 3]);
    expect(graph.outputs.map((o) => o.name)).toEqual(['probs']);
  });

  it("outputNode 'logits': exact x·W+b and the input gradient equal to a W column", async () => {
    const seen: string[] = [];
    setWarningHandler((w) => seen.push(w.code));
    const model = fromGraphModel(graph, { bounds: [-5, 5], output: 'logits', outputNode: 'logits', numClasses: 2 });
    expect(model.inputShape).toEqual([3]);
    expect(model.numClasses).toBe(2);
    expect(model.outputKind).toBe('logits');
    expect(seen).toEqual([]);

    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const logits = model.logits(x);
    expect(await logits.array()).toEqual(XWB);
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.slice(model.logits(v), [0, 0], [-1, 1])))(x);
    expect(await g.array()).toEqual([
      [1, 2, -3],
      [1, 2, -3],
    ]);
    tf.dispose([x, logits, g]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("the softmax output with output 'probabilities': log-probabilities and a warning", async () => {
    const seen: string[] = [];
    setWarningHandler((w) => seen.push(w.code));
    const model = fromGraphModel(graph, { bounds: [-5, 5], output: 'probabilities', numClasses: 2 });
    expect(model.outputKind).toBe('log-probabilities');
    expect(seen).toEqual(['PROBABILITY_OUTPUT']);
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(X);
    const logits = model.logits(x);
    const rows = await logits.array();
    XWB.forEach((z, r) => {
      const lse = Math.log(Math.exp(z[0]!) + Math.exp(z[1]!));
      expect(rows[r]![0]).toBeCloseTo(z[0]! - lse, 5);
      expect(rows[r]![1]).toBeCloseTo(z[1]! - lse, 5);
    });
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('applies normalization before the graph', async () => {
    const model = fromGraphModel(graph, {
      bounds: [-10, 10],
      output: 'logits',
      outputNode: 'logits',
      numClasses: 2,
      normalize: { mean: [0.5, 1, -1], std: [2, 4, 0.5] },
    });
    const before = tf.memory().numTensors;
    const x = tf.tensor2d([X[0]!]);
    const logits = model.logits(x);
    // z = (0.25, 0.25, 8) -> [-22.75, 7.625]
    expect(await logits.array()).toEqual([[-22.75, 7.625]]);
    tf.dispose([x, logits]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('requires output, and numClasses when the graph does not declare it', () => {
    const before = tf.memory().numTensors;
    const noOutput = errorOf(() => fromGraphModel(graph, { bounds: [0, 1] } as unknown as FromGraphModelOptions));
    expect(noOutput.code).toBe('INVALID_OPTION');
    expect(noOutput.message).toMatch(/output is required/);
    const noClasses = errorOf(() => fromGraphModel(graph, { bounds: [0, 1], output: 'logits', outputNode: 'logits' }));
    expect(noClasses.code).toBe('INVALID_OPTION');
    expect(noClasses.message).toMatch(/numClasses/);
    const badShape = errorOf(() => fromGraphModel(graph, { bounds: [0, 1], output: 'logits', outputNode: 'logits', numClasses: 2, inputShape: [4] }));
    expect(badShape.code).toBe('INVALID_OPTION');
    expect(badShape.message).toMatch(/inputShape/);
    expect(errorOf(() => fromGraphModel({} as tfc.GraphModel, { bounds: [0, 1], output: 'logits' })).code).toBe('INVALID_MODEL');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('throws INVALID_SHAPE for a batch of the wrong sample shape', () => {
    const model = fromGraphModel(graph, { bounds: [0, 1], output: 'logits', outputNode: 'logits', numClasses: 2 });
    const x = tf.zeros([2, 2]);
    const before = tf.memory().numTensors;
    const e = errorOf(() => model.logits(x));
    expect(e.code).toBe('INVALID_SHAPE');
    expect(e.message).toContain('[n, 3]');
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
