import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';

import type { ImageEntry } from './image-source.js';
import { byCodePoint, mapClassNames, type ClassMapping } from './map-class-names.js';

/** File name endings read as images (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'] as const;

/** True for a file name ending in .png, .jpg or .jpeg (any case) that is not hidden. */
export function isImageName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.some((e) => name.toLowerCase().endsWith(e));
}

/**
 * Lists an image folder with one sub-folder per class (torchvision's `ImageFolder`, Keras'
 * `image_dataset_from_directory`): class folders sorted by code point, the PNG and JPEG files of each
 * sorted by code point (sub-folders of a class folder are not entered; hidden entries and other files
 * are ignored and counted).
 *
 * @throws AdvxError `INVALID_DATA` when there is no class folder with an image.
 */
export async function listImageFolder(
  dir: string,
  numClasses: number,
  modelClassNames: readonly string[] | undefined,
): Promise<{ entries: ImageEntry[]; mapping: ClassMapping; ignored: number }> {
  const top = await fs.readdir(dir, { withFileTypes: true });
  const classDirs = top
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort(byCodePoint);
  let ignored = top.filter((d) => !d.isDirectory()).length;
  const files = new Map<string, string[]>();
  for (const name of classDirs) {
    const inside = await fs.readdir(path.join(dir, name), { withFileTypes: true });
    const images = inside
      .filter((d) => !d.isDirectory() && isImageName(d.name))
      .map((d) => d.name)
      .sort(byCodePoint);
    ignored += inside.length - images.length;
    files.set(name, images);
  }
  const classes = classDirs.filter((name) => (files.get(name) as string[]).length > 0);
  if (classes.length === 0) {
    throw new AdvxError(
      'INVALID_DATA',
      `${dir} has no class folder with PNG or JPEG images: put the images of each class into a sub-folder named after the class (${dir}/cat/1.jpg, ${dir}/dog/2.png).`,
    );
  }
  const mapping = mapClassNames(classes, numClasses, modelClassNames, 'class folder');
  const entries = classes.flatMap((cls) =>
    (files.get(cls) as string[]).map((f) => ({ file: path.join(dir, cls, f), name: `${cls}/${f}`, label: mapping.index.get(cls) as number })),
  );
  return { entries, mapping, ignored };
}
