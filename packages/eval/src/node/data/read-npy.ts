import { closeSync, openSync, promises as fs, readSync } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';

import { fnv1a } from '../../internal/fingerprint.js';
import type { ArrayReader } from './array-source.js';

/** A parsed `.npy` header (NumPy format versions 1–3). */
interface NpyHeader {
  readonly kind: string;
  readonly bytes: number;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
  readonly digest: number;
}

async function readNpyHeader(file: string): Promise<NpyHeader> {
  const name = path.basename(file);
  const fh = await fs.open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    throw new AdvxError('INVALID_DATA', `cannot open the .npy file ${file} (${e.code ?? e.message}).`);
  });
  let head: Buffer;
  let size: number;
  try {
    size = (await fh.stat()).size;
    head = Buffer.alloc(Math.min(size, 65536));
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (head.length < 10 || head[0] !== 0x93 || head.toString('latin1', 1, 6) !== 'NUMPY')
    throw new AdvxError('INVALID_DATA', `${name} is not a .npy file (no \\x93NUMPY magic).`);
  const major = head[6] as number;
  if (major < 1 || major > 3) throw new AdvxError('INVALID_DATA', `${name}: .npy format version ${major} is not supported (1, 2 or 3).`);
  const len = major === 1 ? head.readUInt16LE(8) : head.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const dict = head.toString('latin1', start, start + len);
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(dict);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict);
  if (!descr || !fortran || !shape)
    throw new AdvxError(
      'INVALID_DATA',
      `${name}: cannot read the .npy header ${JSON.stringify(dict.trim().slice(0, 120))} (structured dtypes are not supported).`,
    );
  if (descr[1] === '>' && descr[3] !== '1')
    throw new AdvxError('INVALID_DATA', `${name}: big-endian .npy data is not supported; save it with arr.astype('<${descr[2]}${descr[3]}').`);
  if (fortran[1] === 'True') throw new AdvxError('INVALID_DATA', `${name} is in Fortran order; save it in C order (np.save(f, np.ascontiguousarray(arr))).`);
  const dims = (shape[1] as string)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const bytes = Number(descr[3]);
  const expected = start + len + dims.reduce((a, b) => a * b, 1) * bytes;
  if (size < expected)
    throw new AdvxError(
      'INVALID_DATA',
      `${name} holds ${size} bytes but its header (${descr[2]}${bytes} [${dims.join(', ')}]) needs ${expected}: the file is truncated.`,
    );
  const sizeBytes = new Uint8Array(new Float64Array([size]).buffer);
  return { kind: descr[2] as string, bytes, shape: dims, offset: start + len, size, digest: fnv1a(head.subarray(0, start + len), fnv1a(sizeBytes)) };
}

function readAt(file: string, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, length, position);
  } finally {
    closeSync(fd);
  }
  return buf;
}

/**
 * Opens an `x.npy, y.npy` pair (NumPy's format, C order, little-endian): `x` uint8 (pixels) or float32
 * (model inputs), shape `[n, h, w]` or `[n, h, w, c]`; `y` 1-D integers (int8 … int64, uint8 … uint64).
 * Samples are read row by row from the file.
 *
 * @throws AdvxError `INVALID_DATA` naming the file for what is not supported.
 */
export async function readNpyPair(xFile: string, yFile: string): Promise<{ reader: ArrayReader; labels: Int32Array }> {
  const x = await readNpyHeader(xFile);
  const y = await readNpyHeader(yFile);
  const xn = path.basename(xFile);
  const yn = path.basename(yFile);
  const float = x.kind === 'f' && x.bytes === 4;
  if (!float && !(x.kind === 'u' && x.bytes === 1)) {
    throw new AdvxError(
      'INVALID_DATA',
      `${xn}: dtype ${x.kind}${x.bytes} is not supported: save uint8 pixels (0..255) or float32 model inputs (arr.astype('float32')).`,
    );
  }
  if (x.shape.length !== 3 && x.shape.length !== 4)
    throw new AdvxError('INVALID_DATA', `${xn}: shape (${x.shape.join(', ')}) is not [n, h, w] or [n, h, w, c].`);
  if ((y.kind !== 'i' && y.kind !== 'u') || y.shape.length !== 1 || y.bytes > 8) {
    throw new AdvxError('INVALID_DATA', `${yn}: labels must be a 1-D integer array, got ${y.kind}${y.bytes} (${y.shape.join(', ')}).`);
  }
  const n = y.shape[0] as number;
  const lb = readAt(yFile, y.offset, n * y.bytes);
  const labels = Int32Array.from({ length: n }, (_, i) => {
    const o = i * y.bytes;
    if (y.bytes === 8) return Number(y.kind === 'i' ? lb.readBigInt64LE(o) : lb.readBigUInt64LE(o));
    return y.kind === 'i' ? lb.readIntLE(o, y.bytes) : lb.readUIntLE(o, y.bytes);
  });
  const [count, h, w, c = 1] = x.shape as [number, number, number, number?];
  const per = h * w * c;
  const reader: ArrayReader = {
    count,
    shape: [h, w, c],
    dtype: float ? 'float32' : 'uint8',
    digest: fnv1a(new Uint8Array(new Uint32Array([y.digest]).buffer), x.digest),
    readRow: async (i) => {
      const b = readAt(xFile, x.offset + i * per * x.bytes, per * x.bytes);
      if (!float) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    },
  };
  return { reader, labels };
}
