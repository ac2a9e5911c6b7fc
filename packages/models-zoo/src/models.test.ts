import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useWasm } from '@advx/backend-wasm';

import { loadDataset } from './datasets.js';
import { isAdvxError } from './internal/core.js';
import { listModels, loadModel, readModelCard, ZOO_MODEL_IDS, type ZooModelId } from './models.js';
import { sha256Hex } from './platform-node.js';

const modelsDir = fileURLToPath(new URL('../models', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'advx-zoo-models-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// The accuracy checks run every shipped CNN over the 1,000 shipped images: on the fastest backend.
beforeAll(() => useWasm());

async function accuracy(predict: (x: tf.Tensor4D) => tf.Tensor2D, x: tf.Tensor4D, y: tf.Tensor1D): Promise<number> {
  const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(predict(x), 1), y), 'int32')));
  const n = (await correct.data())[0]!;
  correct.dispose();
  return n / x.shape[0];
}

describe('model zoo', () => {
  it('lists every shipped model with its card', async () => {
    const models = await listModels();
    expect(models.map((m) => m.id)).toEqual([...ZOO_MODEL_IDS]);
    for (const { id, card } of models) {
      expect(card.id).toBe(id);
      expect(card.license.weights).toBe('Apache-2.0');
      expect(card.metrics.cleanAccuracyTestCount).toBe(10000);
      expect(card.training.command).toContain(id);
      expect(card.files.map((f) => f.path)).toEqual(['model.json', 'weights.bin']);
      for (const f of card.files) {
        const bytes = readFileSync(join(modelsDir, id, f.path));
        expect(bytes.length).toBe(f.bytes);
        expect(sha256Hex(bytes)).toBe(f.sha256);
      }
      const md = readFileSync(join(modelsDir, id, 'card.md'), 'utf8');
      for (const f of card.files) expect(md).toContain(f.sha256);
    }
  });

  // Models with custom layers (card.requires) are checked, with their layer registered, by the package that defines it.
  const plain = ZOO_MODEL_IDS.filter((id) => id !== 'mnist-cnn-blrelu');
  it('mnist-cnn-blrelu without @advx/defenses imported: a clear error naming the layer and the import, no leak', async () => {
    const before = tf.memory().numTensors;
    expect((await readModelCard('mnist-cnn-blrelu')).requires).toBe('@advx/defenses');
    const e = await loadModel('mnist-cnn-blrelu').catch((err: unknown) => err);
    expect(isAdvxError(e, 'INVALID_MODEL'), String(e)).toBe(true);
    expect((e as Error).message).toContain('BoundedLeakyReLU');
    expect((e as Error).message).toContain("import '@advx/defenses'");
    expect(tf.memory().numTensors).toBe(before);
  });

  for (const id of plain) {
    it(`${id}: checksums verify and accuracy on the shipped eval set matches the card (±0.5 point)`, async () => {
      const before = tf.memory().numTensors;
      const zoo = await loadModel(id);
      expect(zoo.id).toBe(id);
      expect(zoo.model.kind).toBe('model');
      expect(zoo.model.outputKind).toBe('logits');
      expect(zoo.model.numClasses).toBe(10);
      expect([...zoo.model.inputShape]).toEqual([28, 28, 1]);
      expect([...zoo.model.bounds]).toEqual([0, 1]);

      const { x, y, source } = await loadDataset(zoo.card.dataset, { source: 'shipped' });
      expect(x.shape[0]).toBe(zoo.card.metrics.shippedEvalCount);
      const accLayers = await accuracy((b) => zoo.layers.predict(b) as tf.Tensor2D, x, y);
      const accLogits = await accuracy((b) => zoo.model.logits(b), x, y);
      expect(source).toBe('shipped');
      expect(Math.abs(accLayers - zoo.card.metrics.shippedEvalAccuracy)).toBeLessThanOrEqual(0.005);
      // the stripped softmax does not change the argmax
      expect(accLogits).toBe(accLayers);
      // logits are not probabilities
      const rowSums = tf.tidy(() => tf.sum(zoo.model.logits(tf.slice(x, [0, 0, 0, 0], [4, 28, 28, 1])), 1));
      expect(Array.from(await rowSums.data()).some((s) => Math.abs(s - 1) > 1e-3)).toBe(true);

      tf.dispose([x, y, rowSums]);
      zoo.layers.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('loads an intact copy from another directory', async () => {
    const dir = join(tmp, 'intact');
    cpSync(join(modelsDir, 'mnist-logreg'), dir, { recursive: true });
    const zoo = await loadModel('mnist-logreg', { directory: dir });
    expect(zoo.card.id).toBe('mnist-logreg');
    zoo.layers.dispose();
  });

  for (const file of ['weights.bin', 'model.json']) {
    it(`a corrupted ${file} gives CHECKSUM_MISMATCH naming the file and both hashes`, async () => {
      const before = tf.memory().numTensors;
      const dir = join(tmp, `corrupt-${file}`);
      cpSync(join(modelsDir, 'mnist-logreg'), dir, { recursive: true });
      const path = join(dir, file);
      const bytes = readFileSync(path);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      writeFileSync(path, bytes);
      const expected = (await readModelCard('mnist-logreg')).files.find((f) => f.path === file)!.sha256;

      const e = await loadModel('mnist-logreg', { directory: dir }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isAdvxError(e, 'CHECKSUM_MISMATCH'), String(e)).toBe(true);
      const message = (e as Error).message;
      expect(message).toContain(path);
      expect(message).toContain(expected);
      expect(message).toContain(sha256Hex(bytes));
      expect(message).toMatch(/re-install @advx\/models-zoo/);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('reports unknown ids and missing cards', async () => {
    const unknown = await loadModel('mnist-resnet' as ZooModelId).catch((e: unknown) => e);
    expect(isAdvxError(unknown, 'UNKNOWN_NAME')).toBe(true);
    expect((unknown as Error).message).toContain('mnist-logreg');
    const missing = await loadModel('mnist-mlp', { directory: join(tmp, 'nothing-here') }).catch((e: unknown) => e);
    expect(isAdvxError(missing, 'INVALID_MODEL')).toBe(true);
    expect(existsSync(join(tmp, 'nothing-here'))).toBe(false);
  });
});
