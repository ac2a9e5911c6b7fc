/**
 * The browser side of `#platform` (fetch, DecompressionStream, Web Crypto), run in Node: `#platform`
 * is mocked with `platform-browser.ts`, and the package folder is served by a local HTTP server on
 * 127.0.0.1 that records every request and can serve a corrupted copy of a weight file. (The mock
 * also replaces `platform-node.ts` here, which `#platform` resolves to under vitest.)
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { loadDataset } from './datasets.js';
import { isAdvxError } from './internal/core.js';
import { listModels, loadModel, readModelCard, ZOO_MODEL_IDS } from './models.js';
import { sha256 } from './platform-browser.js';

vi.mock('#platform', async () => await import('./platform-browser.js'));

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const requests: string[] = [];
let server: Server;
let base: string;

/** An IDX file: magic (unsigned byte, `dims` dimensions), big-endian sizes, then the bytes. */
function idx(shape: number[], data: Uint8Array): Uint8Array {
  const header = new DataView(new ArrayBuffer(4 + 4 * shape.length));
  header.setUint32(0, 0x0800 + shape.length);
  shape.forEach((d, i) => header.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(header.byteLength + data.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(data, header.byteLength);
  return out;
}

// A tiny full test split (3 images) served under /full/, gzipped as the Fashion-MNIST files are.
const fullImages = Uint8Array.from({ length: 3 * 784 }, (_, i) => (i * 7) % 256);
const fullLabels = Uint8Array.from([4, 0, 9]);
const fullFiles: Record<string, Uint8Array> = {
  '/full/t10k-images-idx3-ubyte.gz': gzipSync(idx([3, 28, 28], fullImages)),
  '/full/t10k-labels-idx1-ubyte.gz': gzipSync(idx([3], fullLabels)),
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(`${req.method} ${url.pathname}`);
    const full = fullFiles[url.pathname];
    // /pkg/ serves the package folder; /corrupt/ the same with one byte of every weights.bin changed.
    const m = /^\/(pkg|corrupt)\/((?:models|data)\/.+)$/.exec(url.pathname);
    let body: Uint8Array | undefined = full;
    if (body === undefined && m !== null) {
      const path = normalize(join(packageDir, m[2]!));
      if (path.startsWith(packageDir)) {
        try {
          body = new Uint8Array(readFileSync(path));
        } catch {
          body = undefined;
        }
        if (body !== undefined && m[1] === 'corrupt' && path.endsWith('weights.bin')) body[100] = (body[100]! + 1) % 256;
      }
    }
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('browser platform (fetch + Web Crypto), in Node against a local server', () => {
  it('Web Crypto sha256 equals node:crypto on the shipped weights and on the empty input', async () => {
    const weights = readFileSync(join(packageDir, 'models', 'mnist-logreg', 'weights.bin'));
    expect(await sha256(weights)).toBe(createHash('sha256').update(weights).digest('hex'));
    expect(await sha256(new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('loadModel and loadDataset over HTTP with baseUrl: the card accuracy on the shipped 1,000 images, no leak', async () => {
    const before = tf.memory().numTensors;
    requests.length = 0;
    const zoo = await loadModel('mnist-logreg', { baseUrl: `${base}/pkg/` });
    const { x, y, source } = await loadDataset('mnist', { source: 'shipped', baseUrl: new URL(`${base}/pkg`) });
    expect(source).toBe('shipped');
    expect(x.shape).toEqual([1000, 28, 28, 1]);
    const correct = tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(zoo.model.logits(x), 1), y), 'int32')));
    const accuracy = (await correct.data())[0]! / 1000;
    tf.dispose([x, y, correct]);
    zoo.layers.dispose();
    // The files came over HTTP (no node:fs), the .gz data was gunzipped by DecompressionStream and
    // checked against data/manifest.json, and the accuracy is the card's (91.6 %, integer count: exact).
    expect(requests).toEqual([
      'GET /pkg/models/mnist-logreg/card.json',
      'GET /pkg/models/mnist-logreg/model.json',
      'GET /pkg/models/mnist-logreg/weights.bin',
      'GET /pkg/data/manifest.json',
      'GET /pkg/data/mnist-t10k-1000-images-idx3-ubyte.gz',
      'GET /pkg/data/mnist-t10k-1000-labels-idx1-ubyte.gz',
    ]);
    expect(accuracy).toBe(zoo.card.metrics.shippedEvalAccuracy);
    expect(accuracy).toBeCloseTo(0.916, 10);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a corrupted weight file over HTTP: CHECKSUM_MISMATCH with both hashes, before any tensor', async () => {
    const before = tf.memory().numTensors;
    const card = await readModelCard('mnist-logreg', { baseUrl: `${base}/corrupt/` });
    const e = await loadModel('mnist-logreg', { baseUrl: `${base}/corrupt/` }).catch((err: unknown) => err);
    expect(isAdvxError(e, 'CHECKSUM_MISMATCH'), String(e)).toBe(true);
    const message = (e as Error).message;
    expect(message).toContain(`${base}/corrupt/models/mnist-logreg/weights.bin`);
    expect(message).toContain(card.files[1]!.sha256);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a missing folder: INVALID_MODEL naming the URL and the HTTP status; a bad baseUrl: INVALID_OPTION', async () => {
    const e = await loadModel('mnist-mlp', { baseUrl: `${base}/nowhere/` }).catch((err: unknown) => err);
    expect(isAdvxError(e, 'INVALID_MODEL'), String(e)).toBe(true);
    expect((e as Error).message).toContain(`${base}/nowhere/models/mnist-mlp/card.json`);
    expect((e as Error).message).toContain('HTTP 404');
    const bad = await loadModel('mnist-mlp', { baseUrl: '' }).catch((err: unknown) => err);
    expect(isAdvxError(bad, 'INVALID_OPTION'), String(bad)).toBe(true);
    expect((bad as Error).message).toContain('baseUrl');
  });

  it('lists the cards over HTTP; full data from a dataDir URL (HEAD, then gunzipped IDX files)', async () => {
    const models = await listModels({ baseUrl: `${base}/pkg/` });
    expect(models.map((m) => m.id)).toEqual([...ZOO_MODEL_IDS]);
    requests.length = 0;
    const { x, y, source } = await loadDataset('fashion-mnist', { dataDir: `${base}/full` });
    expect(source).toBe('full');
    // findIdx asks for the plain name first, then the .gz one.
    expect(requests).toEqual([
      'HEAD /full/t10k-images-idx3-ubyte',
      'HEAD /full/t10k-images-idx3-ubyte.gz',
      'HEAD /full/t10k-labels-idx1-ubyte',
      'HEAD /full/t10k-labels-idx1-ubyte.gz',
      'GET /full/t10k-images-idx3-ubyte.gz',
      'GET /full/t10k-labels-idx1-ubyte.gz',
    ]);
    expect(Array.from(await y.data())).toEqual([4, 0, 9]);
    const pixels = await x.data();
    expect(pixels[785]).toBeCloseTo(((785 * 7) % 256) / 255, 6);
    tf.dispose([x, y]);
    // Without a dataDir the browser has no installed full data: 'auto' falls back to the shipped set.
    const shipped = await loadDataset('mnist', { count: 2, baseUrl: `${base}/pkg/` });
    expect(shipped.source).toBe('shipped');
    tf.dispose([shipped.x, shipped.y]);
  });
});
