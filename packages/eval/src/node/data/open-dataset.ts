import { promises as fs } from 'node:fs';
import path from 'node:path';

import { AdvxError } from '@advx/core';
import { DATASETS, type DatasetName } from '@advx/models-zoo';

import { arraySource } from './array-source.js';
import { imageSource } from './image-source.js';
import { listImageFolder } from './list-image-folder.js';
import { readIdxPair } from './read-idx.js';
import { readImageList } from './read-image-list.js';
import { readNpyPair } from './read-npy.js';
import type { DataSource, OpenDatasetOptions } from './types.js';
import { zooSource } from './zoo-source.js';

const FORMATS =
  'an image folder (one sub-folder per class), a list.csv / list.json of path,label, an images.idx,labels.idx pair, an x.npy,y.npy pair, ' +
  Object.keys(DATASETS).join(' or ');

function checkOptions(opts: OpenDatasetOptions): void {
  if (opts === null || typeof opts !== 'object') throw new AdvxError('INVALID_OPTION', 'openDataset needs options { inputShape, bounds, numClasses }.');
  const s = opts.inputShape as readonly unknown[];
  if (!Array.isArray(s) || s.length !== 3 || !s.every((d) => Number.isInteger(d) && (d as number) >= 1)) {
    throw new AdvxError('INVALID_SHAPE', `inputShape must be [height, width, channels] of positive integers, got ${JSON.stringify(opts.inputShape)}.`);
  }
  const b = opts.bounds as readonly unknown[];
  if (!Array.isArray(b) || b.length !== 2 || !b.every((v) => Number.isFinite(v)) || (b[0] as number) >= (b[1] as number)) {
    throw new AdvxError('INVALID_OPTION', `bounds must be [lo, hi] with lo < hi, got ${JSON.stringify(opts.bounds)}.`);
  }
  if (!Number.isInteger(opts.numClasses) || opts.numClasses < 1)
    throw new AdvxError('INVALID_OPTION', `numClasses must be a positive integer, got ${String(opts.numClasses)}.`);
  if (opts.n !== undefined && (!Number.isInteger(opts.n) || opts.n < 1))
    throw new AdvxError('INVALID_OPTION', `n must be a positive integer, got ${String(opts.n)}.`);
  if (opts.sample !== undefined && opts.sample !== 'first' && opts.sample !== 'stratified') {
    throw new AdvxError('INVALID_OPTION', `sample must be 'first' or 'stratified', got ${String(opts.sample)}.`);
  }
}

async function kindOf(p: string): Promise<'dir' | 'file' | undefined> {
  const st = await fs.stat(p).catch(() => undefined);
  return st === undefined ? undefined : st.isDirectory() ? 'dir' : 'file';
}

/**
 * Opens labelled data for `evaluate()` and `advx eval --data`, fitted to a model, without decoding it:
 *
 * - a folder with one sub-folder per class of PNG / JPEG images (torchvision `ImageFolder` order:
 *   class folders and files sorted by code point; a class is the model class of the same name when the
 *   model has class names and all folders match them, else the folder's position);
 * - a `.csv` (`path,label` rows, optional header) or `.json` (`[{ path, label }]`) list, paths relative
 *   to the list, labels class indices or names;
 * - `images.idx,labels.idx` (IDX, gzipped or not) or `x.npy,y.npy` (uint8 pixels or float32 inputs);
 * - `mnist` or `fashion-mnist` (the zoo's shipped evaluation sets).
 *
 * Image headers are read at once: unreadable files fail with their name (or are skipped and counted
 * with `skipBad`, which also decodes each candidate image once and skips those whose pixel data is
 * damaged; without it such a file fails the chunk that decodes it, naming the file), images whose size or colour kind differs from the model fail with the file names
 * unless `resize` / `convertChannels` allow converting them. Pixels 0..255 are mapped linearly onto
 * `bounds`. `n` takes the first `n` samples (`sample: 'first'`, the default) or a stratified sample.
 * Samples are decoded only by {@link DataSource.read}, one chunk at a time.
 *
 * @param spec - what `--data` names (see above).
 * @param opts - the model's input shape, bounds and classes, and the sampling.
 * @returns the source; call `dispose()` when done.
 * @throws AdvxError before any decoding: `UNKNOWN_NAME` (not a folder, list, pair or zoo dataset),
 * `INVALID_DATA` (unreadable or malformed file, named), `INVALID_SHAPE` (mismatch with the model, with
 * file names), `LABEL_OUT_OF_RANGE` (naming the folder or row), `BATCH_MISMATCH`, `OUT_OF_BOUNDS`
 * (float arrays), `INVALID_OPTION`.
 *
 * @example
 * ```ts
 * const data = await openDataset('photos/', { inputShape: [224, 224, 3], bounds: [0, 1], numClasses: 3, resize: true });
 * const result = await evaluate({ model, data, attacks: [fgsm()], epsilons: [2 / 255] });
 * data.dispose();
 * ```
 * @public
 */
export async function openDataset(spec: string, opts: OpenDatasetOptions): Promise<DataSource> {
  if (typeof spec !== 'string' || spec.trim() === '') throw new AdvxError('INVALID_OPTION', `data must name ${FORMATS}.`);
  checkOptions(opts);
  if (Object.prototype.hasOwnProperty.call(DATASETS, spec)) return zooSource(spec as DatasetName, opts);
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.length === 2) {
    const [a, b] = parts as [string, string];
    for (const f of parts)
      if ((await kindOf(f)) !== 'file')
        throw new AdvxError('UNKNOWN_NAME', `data '${spec}': ${f} is not a file; a pair is images,labels (IDX) or x.npy,y.npy.`);
    const npy = a.toLowerCase().endsWith('.npy') && b.toLowerCase().endsWith('.npy');
    const { reader, labels } = npy ? await readNpyPair(a, b) : await readIdxPair(a, b);
    const name = `${path.basename(a)},${path.basename(b)}`;
    return arraySource(reader, labels, opts, { name, labelsName: path.basename(b), description: { format: npy ? 'npy' : 'idx', source: spec } });
  }
  const kind = await kindOf(spec);
  if (kind === 'dir') {
    const { entries, mapping, ignored } = await listImageFolder(spec, opts.numClasses, opts.modelClassNames);
    return imageSource(entries, opts, {
      name: path.basename(path.resolve(spec)),
      classNames: mapping.classNames,
      description: {
        format: 'image-folder',
        source: spec,
        order: 'class folders, then files, sorted by code point',
        classIndex: mapping.by,
        classes: mapping.index.size,
        ignoredFiles: ignored,
      },
    });
  }
  if (kind === 'file' && /\.(csv|json)$/i.test(spec)) {
    const { entries, classNames, classIndex } = await readImageList(spec, opts.numClasses, opts.modelClassNames);
    return imageSource(entries, opts, {
      name: path.basename(spec),
      classNames,
      description: { format: spec.toLowerCase().endsWith('.json') ? 'image-list-json' : 'image-list-csv', source: spec, order: 'as listed', classIndex },
    });
  }
  throw new AdvxError('UNKNOWN_NAME', `data '${spec}' is not ${kind === undefined ? 'found' : 'a supported file'}: give ${FORMATS}.`);
}
