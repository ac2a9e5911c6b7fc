import { decode as decodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';

/** Decoded pixels: `height × width × 4` bytes, RGBA (grey images have R = G = B; alpha is ignored later). */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/**
 * Decodes a PNG (pngjs; 16-bit samples are scaled to 8 bits, palettes expanded) or a baseline or
 * progressive JPEG (jpeg-js) to RGBA bytes.
 *
 * @throws Error with the decoder's reason when the data is damaged.
 */
export function decodeImage(bytes: Buffer, format: 'png' | 'jpeg'): DecodedImage {
  if (format === 'png') {
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
  }
  const jpg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
  return { width: jpg.width, height: jpg.height, rgba: jpg.data };
}
