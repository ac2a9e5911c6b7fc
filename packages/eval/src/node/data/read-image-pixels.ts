import { promises as fs } from 'node:fs';

import { decodeImage, type DecodedImage } from './decode-image.js';
import { UnreadableImage, type ImageHeader } from './read-image-header.js';

/**
 * Reads and decodes one image file whose header {@link readImageHeader} has read, and checks that the
 * decoded size is the header's.
 *
 * @param file - the image file.
 * @param header - its header.
 * @returns the decoded RGBA pixels.
 * @throws UnreadableImage with the reason when the file cannot be read any more, its pixel data does not
 * decode (the header is fine, the data after it is damaged) or it decodes to another size.
 */
export async function readImagePixels(file: string, header: ImageHeader): Promise<DecodedImage> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new UnreadableImage(`cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let image: DecodedImage;
  try {
    image = decodeImage(bytes, header.format);
  } catch (e) {
    const decoder = header.format === 'png' ? 'pngjs' : 'jpeg-js';
    throw new UnreadableImage(`its header is fine but its pixel data is damaged (${decoder}: ${(e as Error).message})`);
  }
  if (image.width !== header.width || image.height !== header.height) {
    throw new UnreadableImage(`it decodes to ${image.height}×${image.width} but its header says ${header.height}×${header.width} (damaged file)`);
  }
  return image;
}
