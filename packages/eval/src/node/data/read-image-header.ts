import { promises as fs } from 'node:fs';

import { fnv1a } from '../../internal/fingerprint.js';

/** What the header of a PNG or JPEG file says, read without decoding the pixels. */
export interface ImageHeader {
  readonly format: 'png' | 'jpeg';
  readonly width: number;
  readonly height: number;
  /** True for grey images (PNG colour types 0 and 4, one-component JPEG). */
  readonly grey: boolean;
  /** File size in bytes. */
  readonly size: number;
  /** FNV-1a of the size, the first 4 KiB and the last 1 KiB: identifies the file for resumable runs. */
  readonly digest: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const HEAD = 4096;
const TAIL = 1024;

/** A file that is not a readable image; the message is the reason. */
export class UnreadableImage extends Error {}

async function readAt(fh: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

function pngHeader(head: Buffer, tail: Buffer): Omit<ImageHeader, 'size' | 'digest'> {
  if (head.length < 26 || head.toString('latin1', 12, 16) !== 'IHDR') throw new UnreadableImage('PNG without an IHDR chunk');
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  const colourType = head[25] as number;
  if (![0, 2, 3, 4, 6].includes(colourType)) throw new UnreadableImage(`PNG colour type ${colourType} is not valid`);
  if (tail.length < 12 || tail.toString('latin1', tail.length - 8, tail.length - 4) !== 'IEND') {
    throw new UnreadableImage('PNG is truncated (no IEND chunk at the end)');
  }
  return { format: 'png', width, height, grey: colourType === 0 || colourType === 4 };
}

/** Walks the JPEG markers up to the frame header (SOF). */
async function jpegHeader(fh: fs.FileHandle, size: number, tail: Buffer): Promise<Omit<ImageHeader, 'size' | 'digest'>> {
  let pos = 2;
  for (;;) {
    const m = await readAt(fh, pos, 10);
    if (m.length < 4) throw new UnreadableImage('JPEG ends before its frame header (SOF)');
    if (m[0] !== 0xff) throw new UnreadableImage(`JPEG marker expected at byte ${pos}`);
    const marker = m[1] as number;
    if (marker === 0xff) {
      pos += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) throw new UnreadableImage('JPEG has no frame header (SOF) before its image data');
    const length = m.readUInt16BE(2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (m.length < 10) throw new UnreadableImage('JPEG frame header is truncated');
      if (marker !== 0xc0 && marker !== 0xc1 && marker !== 0xc2) {
        throw new UnreadableImage(
          `JPEG coding SOF${marker - 0xc0} (lossless or arithmetic) is not supported: save it as baseline or progressive JPEG or as PNG`,
        );
      }
      const height = m.readUInt16BE(5);
      const width = m.readUInt16BE(7);
      const components = m[9] as number;
      if (components !== 1 && components !== 3 && components !== 4) throw new UnreadableImage(`JPEG with ${components} components is not supported`);
      // The end-of-image marker: a truncated file lacks it (some writers pad a few bytes after it).
      let eoi = false;
      for (let i = tail.length - 2; i >= 0 && !eoi; i--) eoi = tail[i] === 0xff && tail[i + 1] === 0xd9;
      if (!eoi) throw new UnreadableImage('JPEG is truncated (no end-of-image marker)');
      return { format: 'jpeg', width, height, grey: components === 1 };
    }
    pos += 2 + length;
    if (pos >= size) throw new UnreadableImage('JPEG ends before its frame header (SOF)');
  }
}

/**
 * Reads the size and colour kind of a PNG (IHDR) or JPEG (SOF) file without decoding it, and checks
 * that the file is complete (PNG IEND, JPEG end-of-image marker).
 *
 * @throws UnreadableImage with the reason when the file is not a complete PNG or JPEG.
 */
export async function readImageHeader(file: string): Promise<ImageHeader> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    throw new UnreadableImage(`cannot open it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) throw new UnreadableImage('empty file');
    const head = await readAt(fh, 0, Math.min(size, HEAD));
    const tail = await readAt(fh, Math.max(0, size - TAIL), Math.min(size, TAIL));
    let header: Omit<ImageHeader, 'size' | 'digest'>;
    if (PNG_SIGNATURE.every((b, i) => head[i] === b)) header = pngHeader(head, tail);
    else if (head[0] === 0xff && head[1] === 0xd8) header = await jpegHeader(fh, size, tail);
    else throw new UnreadableImage('neither PNG nor JPEG (unknown signature)');
    if (header.width < 1 || header.height < 1) throw new UnreadableImage(`image size ${header.width}×${header.height} is empty`);
    const sizeBytes = new Uint8Array(new Float64Array([size]).buffer);
    const digest = fnv1a(tail, fnv1a(head, fnv1a(sizeBytes)));
    return { ...header, size, digest };
  } finally {
    await fh.close();
  }
}
