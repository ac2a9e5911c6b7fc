/**
 * Image files whose header is fine but whose pixel data is damaged (a PNG with bytes of its IDAT
 * flipped, a JPEG cut inside its scan with the end-of-image marker put back): without skipBad the
 * chunk that decodes one fails with one typed line naming the file; with skipBad each candidate is
 * decoded when the data opens and the damaged ones are skipped, giving the samples and pixels of the
 * same folder without them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';

import { isAdvxError } from '@advx/core';

import { openDataset } from './open-dataset.js';
import { readImageHeader } from './read-image-header.js';
import type { OpenDatasetOptions } from './types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-damaged-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function write(file: string, bytes: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

function greyPng(v: number): Buffer {
  const image = new PNG({ width: 4, height: 4, colorType: 0, inputColorType: 6, inputHasAlpha: true });
  for (let i = 0; i < 16; i++) image.data.set([v + i, v + i, v + i, 255], 4 * i);
  return PNG.sync.write(image, { colorType: 0 });
}

/** The PNG with bytes inside its IDAT data flipped: IHDR and IEND intact, the zlib stream broken. */
function damagedPng(v: number): Buffer {
  const b = Buffer.from(greyPng(v));
  const idat = b.indexOf('IDAT');
  for (let i = idat + 6; i < idat + 12; i++) b[i] = (b[i] as number) ^ 0x5a;
  return b;
}

/** A 4×4 JPEG cut 8 bytes into its scan, with the end-of-image marker appended. */
function truncatedJpeg(): Buffer {
  const data = Buffer.alloc(4 * 4 * 4);
  for (let i = 0; i < 16; i++) data.set([i * 15, 255 - i * 15, 90, 255], 4 * i);
  const full = encodeJpeg({ width: 4, height: 4, data }, 90).data;
  const sos = full.indexOf(Buffer.from([0xff, 0xda]));
  return Buffer.concat([full.subarray(0, sos + 2 + full.readUInt16BE(sos + 2) + 8), Buffer.from([0xff, 0xd9])]);
}

const opts = (o: Partial<OpenDatasetOptions> = {}): OpenDatasetOptions => ({
  inputShape: [4, 4, 1],
  bounds: [0, 255],
  numClasses: 2,
  convertChannels: true,
  ...o,
});

async function pixels(spec: string, o: OpenDatasetOptions): Promise<{ x: number[]; labels: number[]; description: Record<string, unknown> }> {
  const src = await openDataset(spec, o);
  const chunk = await src.read(0, src.count);
  const out = { x: Array.from(await chunk.x.data()), labels: Array.from(await chunk.labels.data()), description: { ...src.description } };
  tf.dispose([chunk.x, chunk.labels]);
  src.dispose();
  return out;
}

describe('damaged pixel data behind a good header', () => {
  const bad = path.join(tmp, 'bad');
  const clean = path.join(tmp, 'clean');
  // Class a: a0, a1 (damaged PNG), a2; class b: b0 (truncated JPEG), b1, b2.
  for (const [dir, withDamage] of [
    [bad, true],
    [clean, false],
  ] as const) {
    write(path.join(dir, 'a', 'a0.png'), greyPng(10));
    if (withDamage) write(path.join(dir, 'a', 'a1.png'), damagedPng(40));
    write(path.join(dir, 'a', 'a2.png'), greyPng(70));
    if (withDamage) write(path.join(dir, 'b', 'b0.jpg'), truncatedJpeg());
    write(path.join(dir, 'b', 'b1.png'), greyPng(100));
    write(path.join(dir, 'b', 'b2.png'), greyPng(130));
  }

  it('the fixtures pass the header check', async () => {
    expect(await readImageHeader(path.join(bad, 'a', 'a1.png'))).toMatchObject({ format: 'png', width: 4, height: 4, grey: true });
    expect(await readImageHeader(path.join(bad, 'b', 'b0.jpg'))).toMatchObject({ format: 'jpeg', width: 4, height: 4, grey: false });
  });

  it('without skipBad, reading the chunk fails with one line naming the file and what to do; no tensor leaks', async () => {
    const src = await openDataset(bad, opts());
    expect(src.count).toBe(6);
    const first = await src.read(0, 1);
    tf.dispose([first.x, first.labels]);
    const before = tf.memory().numTensors;
    for (const [start, end, file, sample] of [
      [0, 3, 'a/a1.png', 1],
      [3, 6, 'b/b0.jpg', 3],
    ] as const) {
      const caught = await src.read(start, end).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isAdvxError(caught, 'INVALID_DATA')).toBe(true);
      const message = (caught as Error).message;
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toContain(
        `cannot decode ${file} (sample ${sample}): its header is fine but its pixel data is damaged (${file.endsWith('.png') ? 'pngjs' : 'jpeg-js'}: `,
      );
      expect(message).toMatch(/Fix or remove the file, or pass --skip-bad \(skipBad: true\)/);
    }
    expect(tf.memory().numTensors).toBe(before);
    src.dispose();
  });

  it('with skipBad, the damaged files are skipped and counted: the samples and pixels of the folder without them', async () => {
    const before = tf.memory().numTensors;
    const got = await pixels(bad, opts({ skipBad: true }));
    const reference = await pixels(clean, opts());
    expect(got.x).toEqual(reference.x);
    expect(got.labels).toEqual([0, 0, 1, 1]);
    expect(got.description).toMatchObject({ count: 4, skipped: 2, decodeChecked: 6, sample: 'all' });
    const files = got.description.skippedFiles as { file: string; reason: string }[];
    expect(files.map((f) => f.file)).toEqual(['a/a1.png', 'b/b0.jpg']);
    expect(files[0]?.reason).toMatch(/^its header is fine but its pixel data is damaged \(pngjs: .+\)$/);
    expect(files[1]?.reason).toMatch(/^its header is fine but its pixel data is damaged \(jpeg-js: .+\)$/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with skipBad and n: first and stratified pick as in the folder without them, checking only up to the n-th good file', async () => {
    for (const sample of ['first', 'stratified'] as const) {
      const got = await pixels(bad, opts({ skipBad: true, n: 3, sample }));
      const reference = await pixels(clean, opts({ n: 3, sample }));
      expect(got.x).toEqual(reference.x);
      expect(got.labels).toEqual(reference.labels);
      // first: a0, a1 (damaged), a2, b0 (damaged), b1; stratified: a0, b0 (damaged), b1, a1 (damaged), a2.
      expect(got.description).toMatchObject({ count: 3, skipped: 2, decodeChecked: 5, sample });
    }
    expect((await pixels(bad, opts({ skipBad: true, n: 1 }))).description).toMatchObject({ count: 1, skipped: 0, decodeChecked: 1 });
  });

  it('with skipBad, a folder of damaged files only is one line saying so', async () => {
    const only = path.join(tmp, 'only');
    write(path.join(only, 'a', 'x.png'), damagedPng(5));
    const caught = await openDataset(only, opts({ skipBad: true })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isAdvxError(caught, 'INVALID_DATA')).toBe(true);
    expect((caught as Error).message).toMatch(
      /^\[INVALID_DATA\] data only: all 1 images are unreadable or damaged \(first: a\/x\.png: its header is fine but its pixel data is damaged/,
    );
  });
});
