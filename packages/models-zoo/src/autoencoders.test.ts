import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useWasm } from '@advx/backend-wasm';

import { loadAutoencoder, readAutoencoderCard, ZOO_AUTOENCODER_IDS, type ZooAutoencoderId } from './autoencoders.js';
import { loadDataset } from './datasets.js';
import { isAdvxError } from './internal/core.js';
import { sha256Hex } from './platform-node.js';

const id: ZooAutoencoderId = 'mnist-autoencoder';
const shippedDir = fileURLToPath(new URL(`../models/${id}`, import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'advx-zoo-autoencoders-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// The reconstruction check runs 1,000 images through the autoencoder: on the fastest backend.
beforeAll(() => useWasm());

async function scalar(t: tf.Tensor): Promise<number> {
  const v = (await t.data())[0] as number;
  t.dispose();
  return v;
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('autoencoder zoo', () => {
  it('the card lists every file with its size and sha256, in card.json and card.md', async () => {
    expect([...ZOO_AUTOENCODER_IDS]).toEqual([id]);
    const card = await readAutoencoderCard(id);
    expect(card.id).toBe(id);
    expect(card.license.weights).toBe('Apache-2.0');
    expect(card.license.data).toContain('CC BY-SA 3.0');
    expect(card.training.command).toContain('train-autoencoder');
    expect(card.metrics.reconstructionMseTestCount).toBe(10000);
    expect(card.files.map((f) => f.path)).toEqual(['encoder.json', 'encoder.weights.bin', 'decoder.json', 'decoder.weights.bin']);
    const md = readFileSync(join(shippedDir, 'card.md'), 'utf8');
    let total = 0;
    for (const f of card.files) {
      const bytes = readFileSync(join(shippedDir, f.path));
      expect(bytes.length).toBe(f.bytes);
      expect(sha256Hex(bytes)).toBe(f.sha256);
      expect(md).toContain(f.sha256);
      total += bytes.length;
    }
    expect(total).toBeLessThan(2 * 2 ** 20);
  });

  it('loads verified; encode/decode have the card’s shapes and bounds; the shipped-set MSE matches the card; dispose frees everything', async () => {
    const before = tf.memory().numTensors;
    const ae = await loadAutoencoder(id);
    const { inputShape, bounds, encode, decode } = ae.autoencoder;
    expect([...inputShape]).toEqual([28, 28, 1]);
    expect([...bounds]).toEqual([0, 1]);
    const { x, y } = await loadDataset('mnist', { source: 'shipped' });
    expect(x.shape[0]).toBe(ae.card.metrics.shippedEvalCount);
    const z = encode(x);
    expect(z.shape).toEqual([x.shape[0], ae.card.latentDim]);
    const r = decode(z);
    expect(r.shape).toEqual(x.shape);
    const lo = await scalar(tf.min(r));
    const hi = await scalar(tf.max(r));
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    const mse = await scalar(tf.tidy(() => tf.mean(tf.square(tf.sub(r, x)))));
    // Same weights, another backend or summation order: agreement to well under 1 %.
    expect(Math.abs(mse - ae.card.metrics.shippedReconstructionMse)).toBeLessThanOrEqual(2e-5 + 0.005 * ae.card.metrics.shippedReconstructionMse);
    // A reconstruction is far closer to its own image than to another digit's.
    const shuffled = tf.tidy(() => tf.concat([tf.slice(x, 1), tf.slice(x, 0, 1)]));
    const other = await scalar(tf.tidy(() => tf.mean(tf.square(tf.sub(r, shuffled)))));
    expect(other).toBeGreaterThan(3 * mse);
    tf.dispose([x, y, z, r, shuffled]);
    ae.dispose();
    ae.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('encode is differentiable with respect to the input (the latent attack needs it)', async () => {
    const ae = await loadAutoencoder(id);
    const { x, y } = await loadDataset('mnist', { count: 4 });
    const before = tf.memory().numTensors;
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.square(ae.autoencoder.encode(v))))(x);
    expect(g.shape).toEqual(x.shape);
    const norm = await scalar(tf.norm(g));
    expect(Number.isFinite(norm) && norm > 0).toBe(true);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    ae.dispose();
  });

  it('loads an intact copy from another directory', async () => {
    const dir = join(tmp, 'intact');
    cpSync(shippedDir, dir, { recursive: true });
    const ae = await loadAutoencoder(id, { directory: dir });
    expect(ae.card.id).toBe(id);
    ae.dispose();
  });

  for (const file of ['encoder.json', 'encoder.weights.bin', 'decoder.json', 'decoder.weights.bin']) {
    it(`a corrupted ${file} gives CHECKSUM_MISMATCH naming the file and both hashes; nothing leaks`, async () => {
      const before = tf.memory().numTensors;
      const dir = join(tmp, `corrupt-${file}`);
      cpSync(shippedDir, dir, { recursive: true });
      const path = join(dir, file);
      const bytes = readFileSync(path);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      writeFileSync(path, bytes);
      const expected = (await readAutoencoderCard(id)).files.find((f) => f.path === file)!.sha256;
      const e = await failure(loadAutoencoder(id, { directory: dir }));
      expect(isAdvxError(e, 'CHECKSUM_MISMATCH'), String(e)).toBe(true);
      const message = (e as Error).message;
      expect(message).toContain(path);
      expect(message).toContain(expected);
      expect(message).toContain(sha256Hex(bytes));
      expect(message).toMatch(/re-install @advx\/models-zoo/);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('reports unknown ids, missing folders and cards without parts', async () => {
    const unknown = await failure(loadAutoencoder('mnist-vae' as ZooAutoencoderId));
    expect(isAdvxError(unknown, 'UNKNOWN_NAME')).toBe(true);
    expect((unknown as Error).message).toContain(id);
    const missing = await failure(loadAutoencoder(id, { directory: join(tmp, 'nothing-here') }));
    expect(isAdvxError(missing, 'INVALID_MODEL')).toBe(true);
    const dir = join(tmp, 'no-parts');
    cpSync(shippedDir, dir, { recursive: true });
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as Record<string, unknown>;
    delete card.parts;
    writeFileSync(join(dir, 'card.json'), JSON.stringify(card));
    const malformed = await failure(loadAutoencoder(id, { directory: dir }));
    expect(isAdvxError(malformed, 'INVALID_MODEL')).toBe(true);
    expect((malformed as Error).message).toContain('parts.encoder');
  });
});
