/**
 * Parser for the IDX format of the MNIST family (`idx3-ubyte` images, `idx1-ubyte` labels).
 *
 * Layout: two zero bytes, a type byte (`0x08` = unsigned byte), a rank byte, `rank` big-endian
 * uint32 dimensions, then the data in row-major order.
 *
 * @packageDocumentation
 */
import { AdvxError } from './internal/core.js';

/**
 * A parsed unsigned-byte IDX array.
 *
 * @public
 */
export interface IdxArray {
  /** Dimensions from the header, e.g. `[10000, 28, 28]` for images, `[10000]` for labels. */
  readonly shape: readonly number[];
  /** The values, row-major; a view on the input bytes (no copy). */
  readonly data: Uint8Array;
}

const IDX_UBYTE = 0x08;

/**
 * Parses an unsigned-byte IDX file (already gunzipped). Checks the magic number, the element
 * type and that the byte length matches the dimensions.
 *
 * @param bytes - the whole file.
 * @param name - a name for error messages (e.g. the file path).
 * @returns the shape and a zero-copy view of the data.
 * @throws AdvxError `INVALID_OPTION` when `bytes` is not a well-formed unsigned-byte IDX file.
 *
 * @example
 * ```ts
 * const labels = parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 3]));
 * labels.shape; // [2]
 * labels.data;  // Uint8Array [7, 3]
 * ```
 * @public
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  const fail = (why: string): never => {
    throw new AdvxError('INVALID_OPTION', `${name} is not a valid IDX file: ${why}. Re-install or regenerate the file.`, { name });
  };
  if (bytes.length < 4) fail(`only ${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`bad magic number (first two bytes ${bytes[0]}, ${bytes[1]}; expected 0, 0)`);
  if (bytes[2] !== IDX_UBYTE) fail(`element type 0x${(bytes[2] ?? 0).toString(16)} is not supported (only 0x08, unsigned byte)`);
  const rank = bytes[3] ?? 0;
  if (rank < 1) fail('rank 0');
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) fail(`truncated header (${bytes.length} bytes, rank ${rank})`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let size = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    shape.push(d);
    size *= d;
  }
  if (bytes.length !== headerBytes + size) {
    fail(`dimensions [${shape.join(', ')}] need ${headerBytes + size} bytes, the file has ${bytes.length}`);
  }
  return { shape, data: bytes.subarray(headerBytes) };
}
