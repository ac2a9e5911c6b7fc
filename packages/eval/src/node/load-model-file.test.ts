import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AdvxError, setWarningHandler } from '@advx/core';

import { saveLayersModel, tinyConvNet, writeGraphModel } from '../../test/fixtures/tiny-models.js';
import { loadModelFile } from './load-model-file.js';

let dir: string;
let restoreWarnings: () => void;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'advx-load-model-file-'));
  const previous = setWarningHandler(() => undefined);
  restoreWarnings = () => setWarningHandler(previous);
});
afterAll(() => {
  restoreWarnings();
  rmSync(dir, { recursive: true, force: true });
});

async function error(p: Promise<unknown>): Promise<AdvxError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AdvxError);
  return e as AdvxError;
}

describe('loadModelFile', () => {
  it('loads a saved layers model: the same logits as the model itself, nothing leaked', async () => {
    const net = tinyConvNet(6, 1, 3);
    await saveLayersModel(net, path.join(dir, 'ok'));
    const x = tf.randomUniform([2, 6, 6, 1], 0, 1, 'float32', 1);
    const theirs = net.predict(x) as tf.Tensor;
    const before = tf.memory().numTensors;
    const { model, dispose } = await loadModelFile(path.join(dir, 'ok', 'model.json'));
    const ours = model.logits(x);
    // the saved net ends in softmax: advx reads the logits, so softmax(ours) must equal the net's output.
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(tf.softmax(ours), theirs))));
    expect((await diff.data())[0]).toBeLessThan(1e-6);
    tf.dispose([ours, diff]);
    dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, theirs]);
    net.dispose();
  });

  it('refuses a weight path that leaves the model folder, naming it, before reading it', async () => {
    const net = tinyConvNet(6, 1, 3);
    await saveLayersModel(net, path.join(dir, 'escape'));
    net.dispose();
    const file = path.join(dir, 'escape', 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8')) as { weightsManifest: { paths: string[] }[] };
    writeFileSync(path.join(dir, 'secret.bin'), readFileSync(path.join(dir, 'escape', 'weights.bin')));
    (json.weightsManifest[0] as { paths: string[] }).paths = ['../secret.bin'];
    writeFileSync(file, JSON.stringify(json));
    const e = await error(loadModelFile(file));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/'\.\.\/secret\.bin', which is outside the model's folder/);
  });

  it('refuses a graph model with a pointer to loadUserModel', async () => {
    const file = writeGraphModel(
      path.join(dir, 'graph'),
      [
        [1, -1],
        [0, 1],
        [1, 1],
        [-1, 0],
      ],
      { head: 'Softmax' },
    );
    const e = await error(loadModelFile(file));
    expect(e.code).toBe('INVALID_MODEL');
    expect(e.message).toMatch(/graph model; .*loadUserModel/);
  });
});
