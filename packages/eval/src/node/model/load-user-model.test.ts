import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AdvxError, setWarningHandler } from '@advx/core';

import { saveLayersModel, tinyConvNet, writeGraphModel, writeTeachableMachineExport } from '../../../test/fixtures/tiny-models.js';
import { inspectModel } from './inspect-model.js';
import { loadUserModel } from './load-user-model.js';
import { readLabels } from './read-labels.js';

const W = [
  [1, -1, 0.5],
  [0.25, 2, -1],
  [-0.5, 0.5, 1],
  [2, 0, -2],
];
const X = [0.1, 0.9, 0.4, 0.6];

/** x · W by hand, float64. */
const manualLogits = (x: number[], w: number[][]): number[] => (w[0] as number[]).map((_, j) => x.reduce((s, xi, i) => s + xi * (w[i]?.[j] ?? 0), 0));

async function rejects(p: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AdvxError);
  expect((e as AdvxError).code).toBe(code);
  expect((e as Error).message).toMatch(pattern);
  expect((e as Error).message).not.toContain('\n');
}

let dir: string;
let restoreWarnings: () => void;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'advx-user-model-'));
  const previous = setWarningHandler(() => undefined);
  restoreWarnings = () => setWarningHandler(previous);
});
afterAll(() => {
  restoreWarnings();
  rmSync(dir, { recursive: true, force: true });
});

describe('loadUserModel: graph models', () => {
  it('reads the input of a final Softmax as logits (x · W by hand to 1e-6), and leaks nothing', async () => {
    const file = writeGraphModel(path.join(dir, 'g-softmax'), W, { head: 'Softmax' });
    const before = tf.memory().numTensors;
    const user = await loadUserModel(file, {});
    expect(user.format).toBe('graph');
    expect(user.description.outputNode).toBe('logits');
    expect(user.description.output).toBe('logits');
    expect(user.model.inputShape).toEqual([2, 2, 1]);
    expect(user.model.numClasses).toBe(3);
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const z = user.model.logits(x);
    const got = Array.from(await z.data());
    manualLogits(X, W).forEach((v, j) => expect(got[j]).toBeCloseTo(v, 6));
    tf.dispose([x, z]);
    user.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with --output probabilities keeps the Softmax and attacks log-probabilities', async () => {
    const file = writeGraphModel(path.join(dir, 'g-prob'), W, { head: 'Softmax' });
    const user = await loadUserModel(file, { output: 'probabilities' });
    expect(user.model.outputKind).toBe('log-probabilities');
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const z = user.model.logits(x);
    const l = manualLogits(X, W);
    const lse = Math.log(l.reduce((s, v) => s + Math.exp(v), 0));
    const got = Array.from(await z.data());
    l.forEach((v, j) => expect(got[j]).toBeCloseTo(v - lse, 5));
    tf.dispose([x, z]);
    user.dispose();
  });

  it('a one-unit Sigmoid is a binary classifier: logits [0, z]', async () => {
    const w1 = W.map((r) => [r[0] as number]);
    const file = writeGraphModel(path.join(dir, 'g-sigmoid'), w1, { head: 'Sigmoid' });
    const user = await loadUserModel(file, { labels: ['fake', 'real'] });
    expect(user.model.numClasses).toBe(2);
    expect(user.classNames).toEqual(['fake', 'real']);
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const z = user.model.logits(x);
    const got = Array.from(await z.data());
    expect(got[0]).toBe(0);
    expect(got[1]).toBeCloseTo(manualLogits(X, w1)[0] as number, 6);
    tf.dispose([x, z]);
    user.dispose();
  });

  it('bad graph cases fail with one line each', async () => {
    const two = writeGraphModel(path.join(dir, 'g-two'), W, { head: 'Softmax', twoOutputs: true });
    await rejects(loadUserModel(two, {}), 'INVALID_OPTION', /has 2 outputs .*pass --output-node/);
    await rejects(loadUserModel(two, { outputNode: 'nope' }), 'INVALID_OPTION', /--output-node 'nope' is not a node/);
    await rejects(
      loadUserModel(two, { outputNode: 'logits', inputSize: [3, 3] }),
      'INVALID_OPTION',
      /--input-size \(height\) is 3 but the graph input 'x' has shape \[-1, 2, 2, 1\]/,
    );
    await rejects(loadUserModel(two, { outputNode: 'logits', labels: ['a', 'b'] }), 'INVALID_OPTION', /--labels names 2 classes but the model has 3 outputs/);
    const escape = writeGraphModel(path.join(dir, 'g-escape'), W, { head: 'Softmax', weightPath: '../secret.bin' });
    await rejects(loadUserModel(escape, {}), 'INVALID_MODEL', /names the weight file '\.\.\/secret\.bin', which is outside the model's folder/);
    await rejects(loadUserModel(path.join(dir, 'missing.json'), {}), 'INVALID_MODEL', /cannot read the model .*missing\.json/);
    await rejects(loadUserModel('not-a-zoo-model', {}), 'UNKNOWN_NAME', /neither a zoo model/);
  });

  it('inspection: probabilities declared as logits are refused; a graph op without gradient is named', async () => {
    const plain = writeGraphModel(path.join(dir, 'g-plain'), W, { head: 'Softmax' });
    const asIs = await loadUserModel(plain, { output: 'logits', outputNode: 'Identity' });
    await rejects(inspectModel(asIs.model), 'INVALID_MODEL', /looks like probabilities .*--output-node/);
    asIs.dispose();

    // tfjs-backend-wasm 4.22 has no Einsum kernel at all (not even forward), so this part runs on cpu
    // whatever ADVX_BACKEND says: it checks the inspection's handling of an op without a gradient.
    const previous = tf.getBackend();
    await tf.setBackend('cpu');
    try {
      const einsum = writeGraphModel(path.join(dir, 'g-einsum'), W, { head: 'Softmax', product: 'Einsum' });
      const user = await loadUserModel(einsum, {});
      const before = tf.memory().numTensors;
      const report = await inspectModel(user.model);
      expect(report.gradient).toBe('unavailable');
      expect(report.gradientProblem).toBe('the graph op Einsum has no gradient in tfjs: use a score-based attack such as --attacks square');
      expect(tf.memory().numTensors).toBe(before);
      user.dispose();
    } finally {
      await tf.setBackend(previous);
    }
  });

  it('inspection of a differentiable graph: gradient of the top logit is column W[:, top] (closed form)', async () => {
    const file = writeGraphModel(path.join(dir, 'g-grad'), W, { head: 'Softmax' });
    const user = await loadUserModel(file, {});
    const x = tf.tensor4d(X, [1, 2, 2, 1]);
    const report = await inspectModel(user.model, x);
    const l = manualLogits(X, W);
    const top = l.indexOf(Math.max(...l));
    expect(report.predicted).toBe(top);
    expect(report.gradient).toBe('ok');
    expect(report.gradientNorm).toBeCloseTo(Math.hypot(...W.map((r) => r[top] as number)), 5);
    expect(report.scoreRange[1]).toBeCloseTo(Math.max(...l), 5);
    x.dispose();
    user.dispose();
  });
});

describe('loadUserModel: layers models and Teachable Machine exports', () => {
  it('layers model.json: the final softmax is stripped (logits = log-softmax up to a constant)', async () => {
    const net = tinyConvNet(6, 3, 4);
    await saveLayersModel(net, path.join(dir, 'layers'));
    const user = await loadUserModel(path.join(dir, 'layers', 'model.json'), { bounds: [0, 1] });
    expect(user.format).toBe('layers');
    expect(user.classNames).toBeUndefined();
    const x = tf.randomUniform([2, 6, 6, 3], 0, 1, 'float32', 3);
    const z = user.model.logits(x);
    const ref = tf.logSoftmax(z);
    const probs = net.predict(x) as tf.Tensor;
    const diff = tf.max(tf.abs(tf.sub(tf.exp(ref), probs)));
    expect((await diff.data())[0]).toBeLessThan(1e-6);
    await rejects(loadUserModel(path.join(dir, 'layers'), { outputNode: 'x' }), 'INVALID_OPTION', /--output-node applies to graph models/);
    await rejects(loadUserModel(path.join(dir, 'layers'), { channels: 1 }), 'INVALID_OPTION', /--channels 1 does not match .*\[6, 6, 3\]/);
    tf.dispose([x, z, ref, probs, diff]);
    user.dispose();
    net.dispose();
  });

  it("Teachable Machine folder: labels become class names; inputs in [0, 1] reach the net as TM's pixel/127 - 1", async () => {
    const net = tinyConvNet(8, 3, 3);
    const tm = path.join(dir, 'tm');
    await writeTeachableMachineExport(tm, net, ['cat', 'dog', 'bird'], 8);
    const user = await loadUserModel(tm, {});
    expect(user.format).toBe('teachable-machine');
    expect(user.classNames).toEqual(['cat', 'dog', 'bird']);
    expect(user.description.classNamesFrom).toBe('teachable-machine');
    expect(user.model.bounds).toEqual([0, 1]);
    const pixels = tf.randomUniform([2, 8, 8, 3], 0, 255, 'int32', 5);
    const x = tf.div(tf.cast(pixels, 'float32'), 255);
    const tmInput = tf.sub(tf.div(tf.cast(pixels, 'float32'), 127), 1);
    const probs = net.predict(tmInput) as tf.Tensor;
    const z = user.model.logits(x);
    const diff = tf.max(tf.abs(tf.sub(tf.softmax(z), probs)));
    expect((await diff.data())[0]).toBeLessThan(1e-5);
    tf.dispose([pixels, x, tmInput, probs, z, diff]);
    user.dispose();

    const labelsFile = path.join(dir, 'labels.txt');
    writeFileSync(labelsFile, 'a\nb\n\nc\n');
    const relabelled = await loadUserModel(path.join(tm, 'model.json'), { labels: await readLabels(labelsFile) });
    expect(relabelled.classNames).toEqual(['a', 'b', 'c']);
    relabelled.dispose();

    const wrongLabels = path.join(dir, 'tm-wrong');
    await writeTeachableMachineExport(wrongLabels, net, ['cat', 'dog'], 8);
    await rejects(loadUserModel(wrongLabels, {}), 'INVALID_OPTION', /metadata .*names 2 classes but the model has 3 outputs/);
    const wrongSize = path.join(dir, 'tm-size');
    await writeTeachableMachineExport(wrongSize, net, ['cat', 'dog', 'bird'], 224);
    await rejects(loadUserModel(wrongSize, {}), 'INVALID_MODEL', /says imageSize 224 but the model's input is \[8, 8, 3\]/);
    writeFileSync(path.join(dir, 'dup.txt'), 'a\na\n');
    await rejects(readLabels(path.join(dir, 'dup.txt')), 'INVALID_OPTION', /names the class 'a' twice/);
    net.dispose();
  });
});

describe('loadUserModel: zoo ids', () => {
  it('mnist-mlp with its dataset class names; zoo models refuse input-handling flags', async () => {
    const user = await loadUserModel('mnist-mlp', {});
    expect(user.format).toBe('zoo');
    expect(user.dataset).toBe('mnist');
    expect(user.classNames?.length).toBe(10);
    user.dispose();
    await rejects(loadUserModel('mnist-mlp', { bounds: [0, 255] }), 'INVALID_OPTION', /zoo model with its own bounds/);
  });
});

void tfl;
