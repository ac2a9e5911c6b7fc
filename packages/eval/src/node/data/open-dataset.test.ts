/**
 * openDataset on tiny fixtures written here: image folders (PNG, JPEG), CSV/JSON lists, IDX and .npy
 * pairs; order, sampling, resize and channel numbers by hand, every bad case's error, no leaks, and
 * evaluate() over a source against evaluate() over the same tensors.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

import * as tf from '@tensorflow/tfjs-core';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';

import '@advx/attacks/register-all';
import { fgsm } from '@advx/attacks';
import { isAdvxError, type AdvxErrorCode } from '@advx/core';
import { linearModel } from '@advx/core/testing';

import { evaluate } from '../../evaluate.js';
import { memoryStateStore } from '../../memory-state-store.js';
import type { EvaluationResult } from '../../types.js';
import { openDataset } from './open-dataset.js';
import type { OpenDatasetOptions } from './types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A PNG of `h × w` pixels; `px(y, x)` gives [r, g, b] or a grey value (written as a grey PNG). */
function png(h: number, w: number, px: (y: number, x: number) => number | [number, number, number]): Buffer {
  const grey = typeof px(0, 0) === 'number';
  const image = new PNG({ width: w, height: h, colorType: grey ? 0 : 2, inputColorType: 6, inputHasAlpha: true });
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = px(y, x);
      const [r, g, b] = typeof v === 'number' ? [v, v, v] : v;
      image.data.set([r, g, b, 255], 4 * (y * w + x));
    }
  }
  return PNG.sync.write(image, { colorType: grey ? 0 : 2 });
}

function jpeg(h: number, w: number, v: number): Buffer {
  const data = Buffer.alloc(h * w * 4, v);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return encodeJpeg({ width: w, height: h, data }, 95).data;
}

function write(file: string, bytes: Buffer | string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, bytes);
  return file;
}

const opts = (o: Partial<OpenDatasetOptions> = {}): OpenDatasetOptions => ({ inputShape: [2, 2, 1], bounds: [0, 255], numClasses: 3, ...o });

async function expectCode(code: AdvxErrorCode, fn: () => Promise<unknown>): Promise<string> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    await fn();
  } catch (e) {
    caught = e;
  }
  expect(isAdvxError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
  const message = (caught as Error).message;
  expect(message.split('\n')).toHaveLength(1);
  return message;
}

async function readAll(
  spec: string,
  o: OpenDatasetOptions,
): Promise<{ x: number[]; labels: number[]; shape: number[]; names: readonly string[] | undefined; description: Record<string, unknown> }> {
  const before = tf.memory().numTensors;
  const src = await openDataset(spec, o);
  const chunk = await src.read(0, src.count);
  const out = {
    x: Array.from(await chunk.x.data()),
    labels: Array.from(await chunk.labels.data()),
    shape: chunk.x.shape,
    names: src.classNames,
    description: { ...src.description },
  };
  tf.dispose([chunk.x, chunk.labels]);
  src.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(out.labels).toEqual(Array.from(src.labels));
  return out;
}

describe('image folders', () => {
  const dir = path.join(tmp, 'folder');
  // Code point order: 'Z' < 'a' < 'b'; '10.png' < '2.png'.
  write(
    path.join(dir, 'b', '2.png'),
    png(2, 2, () => 40),
  );
  write(
    path.join(dir, 'b', '10.png'),
    png(2, 2, () => 30),
  );
  write(
    path.join(dir, 'a', '1.png'),
    png(2, 2, (y, x) => 10 * (2 * y + x)),
  );
  write(
    path.join(dir, 'Z', 'z.png'),
    png(2, 2, () => 255),
  );
  write(path.join(dir, 'Z', 'notes.txt'), 'not an image');
  write(path.join(dir, 'Z', '.hidden.png'), 'hidden');

  it('classes are folders in code point order, files sorted within; pixels 0..255 mapped onto the bounds', async () => {
    const r = await readAll(dir, opts({ bounds: [-1, 1] }));
    expect(r.names).toEqual(['Z', 'a', 'b']);
    expect(r.labels).toEqual([0, 1, 2, 2]);
    expect(r.shape).toEqual([4, 2, 2, 1]);
    const expected = [255, 255, 255, 255, 0, 10, 20, 30, 30, 30, 30, 30, 40, 40, 40, 40].map((p) => -1 + (2 * p) / 255);
    r.x.forEach((v, i) => expect(v).toBeCloseTo(expected[i] as number, 6));
    expect(r.description).toMatchObject({ format: 'image-folder', classIndex: 'by-position', ignoredFiles: 2, sample: 'all', skipped: 0 });
  });

  it('by name when every folder is a model class name', async () => {
    const r = await readAll(dir, opts({ modelClassNames: ['b', 'x', 'a', 'Z'], numClasses: 4 }));
    expect(r.labels).toEqual([3, 2, 0, 0]);
    expect(r.names).toEqual(['b', 'x', 'a', 'Z']);
    expect(r.description.classIndex).toBe('by-name');
  });

  it('--n first and stratified (round-robin over classes in class order)', async () => {
    const s = path.join(tmp, 'strat');
    for (const [cls, k] of [
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ] as const)
      for (let i = 0; i < k; i++)
        write(
          path.join(s, cls, `${i}.png`),
          png(2, 2, () => 10 * i + (cls === 'a' ? 0 : cls === 'b' ? 100 : 200)),
        );
    const first = await readAll(s, opts({ n: 4 }));
    expect(first.labels).toEqual([0, 0, 0, 1]);
    const strat = await readAll(s, opts({ n: 5, sample: 'stratified' }));
    expect(strat.labels).toEqual([0, 1, 2, 0, 1]);
    expect(strat.x.filter((_, i) => i % 4 === 0)).toEqual([0, 100, 200, 10, 110]);
    expect(strat.description.sample).toBe('stratified');
  });

  it('resize: 2×2 → 4×4 bilinear (alignCorners false) by hand; colour → grey by BT.601 luma; grey → colour repeated', async () => {
    const d = path.join(tmp, 'resize');
    write(
      path.join(d, 'k', 'a.png'),
      png(
        2,
        2,
        (y, x) =>
          [
            [0, 100],
            [200, 255],
          ][y]![x]!,
      ),
    );
    const r = await readAll(d, opts({ inputShape: [4, 4, 1], resize: true }));
    const row0 = [0, 50, 100, 100];
    const row2 = [200, 227.5, 255, 255];
    const row1 = row0.map((v, i) => (v + (row2[i] as number)) / 2);
    r.x.forEach((v, i) => expect(v).toBeCloseTo([...row0, ...row1, ...row2, ...row2][i] as number, 4));
    expect(r.description.resized).toBe(1);

    const c = path.join(tmp, 'colour');
    write(
      path.join(c, 'k', 'red.png'),
      png(2, 2, () => [255, 0, 0]),
    );
    write(
      path.join(c, 'k', 'mix.png'),
      png(2, 2, () => [10, 20, 30]),
    );
    const g = await readAll(c, opts({ convertChannels: true }));
    // Files sorted: mix.png, red.png.
    expect(g.x.slice(0, 4).every((v) => Math.abs(v - (0.299 * 10 + 0.587 * 20 + 0.114 * 30)) < 1e-4)).toBe(true);
    expect(g.x.slice(4).every((v) => Math.abs(v - 0.299 * 255) < 1e-4)).toBe(true);
    const rgb = await readAll(dir, opts({ inputShape: [2, 2, 3], convertChannels: true }));
    expect(rgb.x.slice(12, 24)).toEqual([0, 0, 0, 10, 10, 10, 20, 20, 20, 30, 30, 30]);
  });

  it('JPEG (baseline, jpeg-js): a flat grey 8×8 decodes to its value ±2', async () => {
    const d = path.join(tmp, 'jpeg');
    write(path.join(d, 'k', 'flat.jpg'), jpeg(8, 8, 128));
    const r = await readAll(d, opts({ inputShape: [8, 8, 3] }));
    expect(r.x).toHaveLength(192);
    r.x.forEach((v) => expect(Math.abs(v - 128)).toBeLessThanOrEqual(2));
  });

  it('mismatches name the files before any decoding; too many class folders names the folder', async () => {
    let m = await expectCode('INVALID_SHAPE', () => openDataset(dir, opts({ inputShape: [4, 4, 1] })));
    expect(m).toMatch(/4 of 4 images are not 4×4 \(Z\/z\.png is 2×2×1 \(grey\), a\/1\.png is 2×2×1/);
    expect(m).toMatch(/--resize/);
    m = await expectCode('INVALID_SHAPE', () => openDataset(dir, opts({ inputShape: [2, 2, 3] })));
    expect(m).toMatch(/4 of 4 are grey images for a colour model \(Z\/z\.png, a\/1\.png, b\/10\.png, b\/2\.png\).*--convert-channels/);
    m = await expectCode('LABEL_OUT_OF_RANGE', () => openDataset(dir, opts({ numClasses: 2 })));
    expect(m).toMatch(/3 class folders but the model has 2 classes: class folder 'b'/);
    await expectCode('INVALID_DATA', () => openDataset(path.join(tmp, 'folder', 'Z'), opts()));
    await expectCode('UNKNOWN_NAME', () => openDataset(path.join(tmp, 'nowhere'), opts()));
    await expectCode('INVALID_SHAPE', () => openDataset(dir, opts({ inputShape: [2, 2, 4] })));
  });

  it('unreadable files fail naming the file, or are skipped and counted with skipBad', async () => {
    const d = path.join(tmp, 'bad');
    write(
      path.join(d, 'k', 'a.png'),
      png(2, 2, () => 7),
    );
    write(path.join(d, 'k', 'b.png'), 'this is text');
    write(path.join(d, 'k', 'c.png'), png(2, 2, () => 9).subarray(0, 40));
    write(path.join(d, 'k', 'd.jpg'), jpeg(8, 8, 5).subarray(0, 400));
    const m = await expectCode('INVALID_DATA', () => openDataset(d, opts()));
    expect(m).toMatch(/cannot read k\/b\.png: neither PNG nor JPEG \(unknown signature\) \(and 2 more unreadable files\).*--skip-bad/);
    const src = await openDataset(d, opts({ skipBad: true }));
    expect(src.count).toBe(1);
    expect(src.skipped).toEqual([
      { file: 'k/b.png', reason: 'neither PNG nor JPEG (unknown signature)' },
      { file: 'k/c.png', reason: 'PNG is truncated (no IEND chunk at the end)' },
      { file: 'k/d.jpg', reason: 'JPEG is truncated (no end-of-image marker)' },
    ]);
    expect(src.description.skipped).toBe(3);
  });
});

describe('lists, IDX and .npy', () => {
  write(
    path.join(tmp, 'list', 'img', 'p.png'),
    png(2, 2, () => 1),
  );
  write(
    path.join(tmp, 'list', 'img', 'q.png'),
    png(2, 2, () => 2),
  );

  it('CSV with a header and class names; JSON with indices; a label outside the classes names the row', async () => {
    const csv = write(path.join(tmp, 'list', 'list.csv'), 'path,label\nimg/q.png,"zebra"\nimg/p.png,ant\n');
    const r = await readAll(csv, opts());
    expect(r.names).toEqual(['ant', 'zebra']);
    expect(r.labels).toEqual([1, 0]);
    expect(r.x).toEqual([2, 2, 2, 2, 1, 1, 1, 1]);
    const json = write(path.join(tmp, 'list', 'list.json'), JSON.stringify([{ path: 'img/p.png', label: 2 }, ['img/q.png', 0]]));
    expect((await readAll(json, opts())).labels).toEqual([2, 0]);
    const bad = write(path.join(tmp, 'list', 'bad.csv'), 'img/p.png,1\nimg/q.png,7\n');
    expect(await expectCode('LABEL_OUT_OF_RANGE', () => openDataset(bad, opts()))).toMatch(
      /bad\.csv line 2: label 7 of img\/q\.png is outside the model's 3 classes/,
    );
    const odd = write(path.join(tmp, 'list', 'odd.csv'), 'img/p.png\n');
    expect(await expectCode('INVALID_DATA', () => openDataset(odd, opts()))).toMatch(/odd\.csv line 1: expected 'path,label'/);
    const missing = write(path.join(tmp, 'list', 'missing.csv'), 'img/none.png,1\n');
    expect(await expectCode('INVALID_DATA', () => openDataset(missing, opts()))).toMatch(/cannot read img\/none\.png: cannot open it \(ENOENT\)/);
  });

  function idx(type: number, dims: number[], data: Buffer): Buffer {
    const head = Buffer.alloc(4 + 4 * dims.length);
    head[2] = type;
    head[3] = dims.length;
    dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([head, data]);
  }

  it('IDX pairs, plain and gzipped; a truncated file and bad labels are named', async () => {
    const pixels = Buffer.from(Array.from({ length: 12 }, (_, i) => 20 * i));
    const images = write(path.join(tmp, 'idx', 'images.idx'), idx(0x08, [3, 2, 2], pixels));
    const labels = write(path.join(tmp, 'idx', 'labels.idx'), idx(0x08, [3], Buffer.from([2, 0, 1])));
    const r = await readAll(`${images},${labels}`, opts({ bounds: [0, 1] }));
    expect(r.labels).toEqual([2, 0, 1]);
    r.x.forEach((v, i) => expect(v).toBeCloseTo((20 * i) / 255, 6));
    const gz = write(path.join(tmp, 'idx', 'images.idx.gz'), gzipSync(idx(0x08, [3, 2, 2], pixels)));
    expect((await readAll(`${gz},${labels}`, opts({ bounds: [0, 1] }))).x).toEqual(r.x);
    const strat = await readAll(`${images},${labels}`, opts({ n: 2, sample: 'stratified' }));
    expect(strat.labels).toEqual([0, 1]);
    expect(strat.x).toEqual([80, 100, 120, 140, 160, 180, 200, 220]);
    const cut = write(path.join(tmp, 'idx', 'cut.idx'), idx(0x08, [3, 2, 2], pixels.subarray(0, 10)));
    expect(await expectCode('INVALID_DATA', () => openDataset(`${cut},${labels}`, opts()))).toMatch(
      /cut\.idx holds 26 bytes but its header \(unsigned byte \[3, 2, 2\]\) needs 28/,
    );
    const big = write(path.join(tmp, 'idx', 'big.idx'), idx(0x08, [3], Buffer.from([2, 9, 1])));
    expect(await expectCode('LABEL_OUT_OF_RANGE', () => openDataset(`${images},${big}`, opts()))).toMatch(/big\.idx row 1: label 9 is outside/);
    const two = write(path.join(tmp, 'idx', 'two.idx'), idx(0x08, [2], Buffer.from([0, 1])));
    await expectCode('BATCH_MISMATCH', () => openDataset(`${images},${two}`, opts()));
  });

  function npy(descr: string, shape: number[], data: Buffer, fortran = false): Buffer {
    let dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    while ((10 + dict.length + 1) % 64 !== 0) dict += ' ';
    const head = Buffer.alloc(10);
    head.write('\x93NUMPY', 0, 'latin1');
    head[6] = 1;
    head.writeUInt16LE(dict.length + 1, 8);
    return Buffer.concat([head, Buffer.from(`${dict}\n`, 'latin1'), data]);
  }

  it('.npy pairs: uint8 pixels, float32 inputs, int64 labels; unsupported layouts and out-of-bounds floats are named', async () => {
    const labels = Buffer.alloc(24);
    [1, 0, 2].forEach((l, i) => labels.writeBigInt64LE(BigInt(l), 8 * i));
    const y = write(path.join(tmp, 'npy', 'y.npy'), npy('<i8', [3], labels));
    const xu = write(path.join(tmp, 'npy', 'xu.npy'), npy('|u1', [3, 2, 2], Buffer.from(Array.from({ length: 12 }, (_, i) => i))));
    const r = await readAll(`${xu},${y}`, opts());
    expect(r.labels).toEqual([1, 0, 2]);
    expect(r.x).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const floats = new Float32Array(12).map((_, i) => i / 12);
    const xf = write(path.join(tmp, 'npy', 'xf.npy'), npy('<f4', [3, 2, 2, 1], Buffer.from(floats.buffer)));
    const f = await readAll(`${xf},${y}`, opts({ bounds: [0, 1] }));
    f.x.forEach((v, i) => expect(v).toBe(floats[i]));
    expect(f.description.pixels).toBe('float32 values used as they are');
    expect(await expectCode('OUT_OF_BOUNDS', () => openDataset(`${xf},${y}`, opts({ bounds: [0, 0.5] })))).toMatch(
      /sample 1 holds 0\.5\d*, outside the bounds \[0, 0\.5\]/,
    );
    const xt = write(path.join(tmp, 'npy', 'xt.npy'), npy('|u1', [3, 2, 2], Buffer.alloc(12), true));
    expect(await expectCode('INVALID_DATA', () => openDataset(`${xt},${y}`, opts()))).toMatch(/xt\.npy is in Fortran order/);
    const xd = write(path.join(tmp, 'npy', 'xd.npy'), npy('<f8', [3, 2, 2], Buffer.alloc(96)));
    expect(await expectCode('INVALID_DATA', () => openDataset(`${xd},${y}`, opts()))).toMatch(/xd\.npy: dtype f8 is not supported/);
    expect(await expectCode('INVALID_SHAPE', () => openDataset(`${xu},${y}`, opts({ inputShape: [3, 3, 1] })))).toMatch(/its samples are 2×2: pass --resize/);
  });
});

describe('evaluate() over a source', () => {
  it('gives the in-memory result bit for bit, reads one chunk at a time, resumes from a state, leaks nothing', async () => {
    const d = path.join(tmp, 'eval');
    const n = 10;
    for (let i = 0; i < n; i++)
      write(
        path.join(d, i % 2 === 0 ? 'even' : 'odd', `${i}.png`),
        png(2, 2, (y, x) => (37 * i + 60 * y + 90 * x) % 256),
      );
    const model = linearModel({
      weights: [
        [1, -1, 0.5, 0],
        [-1, 1, 0, 0.5],
      ],
      inputShape: [2, 2, 1],
    });
    const src = await openDataset(d, { inputShape: [2, 2, 1], bounds: [0, 1], numClasses: 2 });
    const all = await src.read(0, n);
    const reads: [number, number][] = [];
    const counted = { ...src, read: (s: number, e: number) => (reads.push([s, e]), src.read(s, e)) };
    const common = { model, attacks: [fgsm()], epsilons: [0.05, 0.2], batchSize: 4, examples: 1 } as const;
    const before = tf.memory().numTensors;
    const fromTensors = await evaluate({ ...common, data: { x: all.x, labels: all.labels as tf.Tensor1D, name: src.name } });
    const fromSource = await evaluate({ ...common, data: counted });
    expect(tf.memory().numTensors).toBe(before);
    const plain = (r: EvaluationResult) => ({ ...r, config: { ...r.config, data: undefined }, attacks: r.attacks.map((a) => ({ ...a, timeMs: 0 })) });
    expect(plain(fromSource)).toEqual(plain(fromTensors));
    expect(fromSource.config.data).toMatchObject({ format: 'image-folder', count: n });
    // The first chunk is checked before any work, the probe reads the first samples, then each chunk is read once.
    expect(reads).toEqual([
      [0, 4],
      [0, 10],
      [0, 4],
      [4, 8],
      [8, 10],
    ]);
    const state = memoryStateStore();
    await evaluate({ ...common, data: src, state });
    reads.length = 0;
    const resumed = await evaluate({ ...common, data: counted, state });
    expect(plain(resumed)).toEqual(plain(fromSource));
    expect(reads).toEqual([
      [0, 4],
      [0, 10],
    ]);
    await expect(evaluate({ ...common, data: { ...src, fingerprint: 'other' }, state })).rejects.toThrow(/The state store holds another evaluation/);
    tf.dispose([all.x, all.labels]);
    src.dispose();
  });
});
