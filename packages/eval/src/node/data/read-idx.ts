import { closeSync, openSync, promises as fs, readSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';

import { AdvxError } from '@advx/core';

import { fnv1a } from '../../internal/fingerprint.js';
import type { ArrayReader } from './array-source.js';

/** IDX element types (LeCun's format: magic 0 0 type ndim, then ndim big-endian int32 sizes, then big-endian data). */
const IDX_TYPES: Readonly<Record<number, { name: string; bytes: number }>> = {
  0x08: { name: 'unsigned byte', bytes: 1 },
  0x09: { name: 'signed byte', bytes: 1 },
  0x0b: { name: 'short', bytes: 2 },
  0x0c: { name: 'int', bytes: 4 },
  0x0d: { name: 'float', bytes: 4 },
  0x0e: { name: 'double', bytes: 8 },
};

/** An IDX file: its type and shape and where its data starts; gzipped files are inflated in memory. */
interface IdxFile {
  readonly type: number;
  readonly dims: readonly number[];
  readonly offset: number;
  /** The inflated bytes (gzipped file), or `undefined`: read from the file. */
  readonly bytes: Buffer | undefined;
  readonly file: string;
  readonly digest: number;
}

async function openIdx(file: string): Promise<IdxFile> {
  let raw: Buffer;
  const name = path.basename(file);
  const fh = await fs.open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new AdvxError('INVALID_DATA', `cannot open the IDX file ${file} (${e.code ?? e.message}).`);
  });
  let size: number;
  try {
    size = (await fh.stat()).size;
    raw = Buffer.alloc(Math.min(size, 4096));
    await fh.read(raw, 0, raw.length, 0);
  } finally {
    await fh.close();
  }
  let bytes: Buffer | undefined;
  let head = raw;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(await fs.readFile(file));
    } catch (e) {
      throw new AdvxError('INVALID_DATA', `${name} looks gzipped but does not inflate: ${(e as Error).message}.`);
    }
    head = bytes.subarray(0, 4096);
    size = bytes.length;
  }
  const type = head[2] as number;
  const ndim = head[3] as number;
  if (head.length < 4 || head[0] !== 0 || head[1] !== 0 || IDX_TYPES[type] === undefined || ndim < 1 || head.length < 4 + 4 * ndim) {
    throw new AdvxError('INVALID_DATA', `${name} is not an IDX file (magic 0 0 <type> <ndim> expected, got ${Array.from(head.subarray(0, 4)).join(' ')}).`);
  }
  const dims = Array.from({ length: ndim }, (_, i) => head.readUInt32BE(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const expected = offset + dims.reduce((a, b) => a * b, 1) * (IDX_TYPES[type] as { bytes: number }).bytes;
  if (size !== expected) {
    throw new AdvxError(
      'INVALID_DATA',
      `${name} holds ${size} bytes but its header (${IDX_TYPES[type]?.name} [${dims.join(', ')}]) needs ${expected}: the file is truncated or damaged.`,
    );
  }
  const sizeBytes = new Uint8Array(new Float64Array([size]).buffer);
  return { type, dims, offset, bytes, file, digest: fnv1a(head.subarray(0, offset), fnv1a(sizeBytes)) };
}

function readBytes(f: IdxFile, position: number, length: number): Buffer {
  if (f.bytes !== undefined) return f.bytes.subarray(position, position + length);
  const buf = Buffer.alloc(length);
  const fd = openSync(f.file, 'r');
  try {
    readSync(fd, buf, 0, length, position);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/**
 * Opens an IDX pair (MNIST's format; gzipped or not): images `[n, h, w]` or `[n, h, w, c]` of unsigned
 * bytes (pixels) or floats (model inputs), labels `[n]` of bytes, shorts or ints. Uncompressed images are
 * read row by row from the file; gzipped ones are inflated into memory once.
 *
 * @throws AdvxError `INVALID_DATA` naming the file for what is not IDX or not supported.
 */
export async function readIdxPair(imagesFile: string, labelsFile: string): Promise<{ reader: ArrayReader; labels: Int32Array }> {
  const images = await openIdx(imagesFile);
  const labelsIdx = await openIdx(labelsFile);
  const iname = path.basename(imagesFile);
  const lname = path.basename(labelsFile);
  if (images.type !== 0x08 && images.type !== 0x0d) {
    throw new AdvxError(
      'INVALID_DATA',
      `${iname}: IDX images of type ${IDX_TYPES[images.type]?.name} are not supported (unsigned byte pixels or float inputs).`,
    );
  }
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new AdvxError('INVALID_DATA', `${iname}: IDX images must be [n, h, w] or [n, h, w, c], got [${images.dims.join(', ')}].`);
  }
  if (labelsIdx.dims.length !== 1 || ![0x08, 0x09, 0x0b, 0x0c].includes(labelsIdx.type)) {
    throw new AdvxError(
      'INVALID_DATA',
      `${lname}: IDX labels must be a 1-D array of integers, got ${IDX_TYPES[labelsIdx.type]?.name} [${labelsIdx.dims.join(', ')}].`,
    );
  }
  const n = labelsIdx.dims[0] as number;
  const lb = readBytes(labelsIdx, labelsIdx.offset, n * (IDX_TYPES[labelsIdx.type] as { bytes: number }).bytes);
  const labels = Int32Array.from({ length: n }, (_, i) =>
    labelsIdx.type === 0x08
      ? (lb[i] as number)
      : labelsIdx.type === 0x09
        ? lb.readInt8(i)
        : labelsIdx.type === 0x0b
          ? lb.readInt16BE(2 * i)
          : lb.readInt32BE(4 * i),
  );
  const [count, h, w, c = 1] = images.dims as [number, number, number, number?];
  const per = h * w * c;
  const float = images.type === 0x0d;
  const reader: ArrayReader = {
    count,
    shape: [h, w, c],
    dtype: float ? 'float32' : 'uint8',
    digest: fnv1a(new Uint8Array(new Uint32Array([labelsIdx.digest]).buffer), images.digest),
    readRow: async (i) => {
      const b = readBytes(images, images.offset + i * per * (float ? 4 : 1), per * (float ? 4 : 1));
      if (!float) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      return Float32Array.from({ length: per }, (_, k) => b.readFloatBE(4 * k));
    },
  };
  return { reader, labels };
}
