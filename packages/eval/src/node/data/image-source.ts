import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '@advx/core';

import { fnv1a } from '../../internal/fingerprint.js';
import { fitSample } from './fit-sample.js';
import { readImageHeader, UnreadableImage, type ImageHeader } from './read-image-header.js';
import { readImagePixels } from './read-image-pixels.js';
import { selectDecodable } from './select-decodable.js';
import { selectSample } from './select-sample.js';
import type { DataChunk, DataSource, OpenDatasetOptions, SkippedFile } from './types.js';

/** One image file with its class index. */
export interface ImageEntry {
  /** Path to read. */
  readonly file: string;
  /** Name in messages and the description (relative to the folder or as listed). */
  readonly name: string;
  /** Class index of the model. */
  readonly label: number;
}

/** Headers read at once (open files). */
const PARALLEL_HEADERS = 16;
/** Files named in a mismatch message and in the description's list of skipped files. */
const SHOWN = 5;
const LISTED_SKIPPED = 100;

async function readHeaders(entries: readonly ImageEntry[]): Promise<(ImageHeader | UnreadableImage)[]> {
  const out = new Array<ImageHeader | UnreadableImage>(entries.length);
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await readImageHeader((entries[i] as ImageEntry).file).catch((e: unknown) => {
        if (e instanceof UnreadableImage) return e;
        throw e;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_HEADERS, entries.length) }, worker));
  return out;
}

function describeSize(h: ImageHeader): string {
  return `${h.height}×${h.width}×${h.grey ? 1 : 3}${h.grey ? ' (grey)' : ''}`;
}

/**
 * A {@link DataSource} over image files: every header is read when it opens (unreadable files fail or
 * are skipped, mismatches with the model are reported with the file names), pixels are decoded
 * in {@link DataSource.read}, one chunk at a time (and, with `skipBad`, once more when it opens, to
 * pass over damaged files before the sample is fixed).
 */
export async function imageSource(
  entries: readonly ImageEntry[],
  opts: OpenDatasetOptions,
  meta: { name: string; classNames: readonly string[] | undefined; description: Record<string, unknown> },
): Promise<DataSource> {
  const [h, w, c] = opts.inputShape;
  if (c !== 1 && c !== 3) {
    throw new AdvxError('INVALID_SHAPE', `images need a model input with 1 (grey) or 3 (RGB) channels; the model takes ${h}×${w}×${c}.`);
  }
  if (entries.length === 0) throw new AdvxError('INVALID_DATA', `data ${meta.name}: no PNG or JPEG images found.`);
  const headers = await readHeaders(entries);
  const skipped: SkippedFile[] = [];
  const good: { entry: ImageEntry; header: ImageHeader }[] = [];
  headers.forEach((header, i) => {
    const entry = entries[i] as ImageEntry;
    if (header instanceof UnreadableImage) skipped.push({ file: entry.name, reason: header.message });
    else good.push({ entry, header });
  });
  if (skipped.length > 0 && opts.skipBad !== true) {
    const first = skipped[0] as SkippedFile;
    throw new AdvxError(
      'INVALID_DATA',
      `cannot read ${first.file}: ${first.reason}` +
        (skipped.length > 1 ? ` (and ${skipped.length - 1} more unreadable files)` : '') +
        '. Fix or remove it, or pass --skip-bad (skipBad: true) to skip and count unreadable files.',
      { unreadable: skipped.length },
    );
  }
  if (good.length === 0)
    throw new AdvxError('INVALID_DATA', `data ${meta.name}: all ${entries.length} images are unreadable (first: ${skipped[0]?.file}: ${skipped[0]?.reason}).`);
  const goodLabels = Int32Array.from(good, (g) => g.entry.label);
  // With skipBad every candidate is decoded once before the run (one file at a time), so a file whose
  // header is fine but whose pixel data is damaged is passed over here, while the indices are still open.
  const selection =
    opts.skipBad === true
      ? await selectDecodable(goodLabels, opts.n, opts.sample, async (i) => {
          const g = good[i] as (typeof good)[number];
          return readImagePixels(g.entry.file, g.header).then(
            () => undefined,
            (e: unknown) => {
              if (e instanceof UnreadableImage) return e.message;
              throw e;
            },
          );
        })
      : { picked: selectSample(goodLabels, opts.n, opts.sample), bad: [], checked: 0 };
  for (const b of selection.bad) skipped.push({ file: (good[b.index] as (typeof good)[number]).entry.name, reason: b.reason });
  if (selection.picked.length === 0) {
    throw new AdvxError(
      'INVALID_DATA',
      `data ${meta.name}: all ${entries.length} images are unreadable or damaged (first: ${skipped[0]?.file}: ${skipped[0]?.reason}).`,
    );
  }
  const picked = selection.picked.map((i) => good[i] as (typeof good)[number]);

  const sizeOff = picked.filter((p) => p.header.height !== h || p.header.width !== w);
  const channelOff = picked.filter((p) => (p.header.grey ? 1 : 3) !== c);
  const problems: string[] = [];
  if (sizeOff.length > 0 && opts.resize !== true) {
    problems.push(
      `${sizeOff.length} of ${picked.length} images are not ${h}×${w} (${sizeOff
        .slice(0, SHOWN)
        .map((p) => `${p.entry.name} is ${describeSize(p.header)}`)
        .join(', ')}${sizeOff.length > SHOWN ? ', …' : ''}): pass --resize (resize: true) to resize them on load (bilinear)`,
    );
  }
  if (channelOff.length > 0 && opts.convertChannels !== true) {
    const kind = c === 1 ? 'colour images for a grey model' : 'grey images for a colour model';
    problems.push(
      `${channelOff.length} of ${picked.length} are ${kind} (${channelOff
        .slice(0, SHOWN)
        .map((p) => p.entry.name)
        .join(', ')}${channelOff.length > SHOWN ? ', …' : ''}): pass --convert-channels (convertChannels: true) to convert them`,
    );
  }
  if (problems.length > 0) {
    throw new AdvxError('INVALID_SHAPE', `data ${meta.name} does not match the model's input ${h}×${w}×${c}: ${problems.join('; ')}.`, {
      sizeMismatches: sizeOff.length,
      channelMismatches: channelOff.length,
    });
  }

  const [lo, hi] = opts.bounds;
  const map = { scale: (hi - lo) / 255, shift: lo };
  const labels = Int32Array.from(picked, (p) => p.entry.label);
  let hash = fnv1a(new TextEncoder().encode(JSON.stringify({ shape: opts.inputShape, bounds: opts.bounds, labels: Array.from(labels) })));
  for (const p of picked) hash = fnv1a(new TextEncoder().encode(p.entry.name), fnv1a(new Uint8Array(new Uint32Array([p.header.digest]).buffer), hash));

  return {
    name: meta.name,
    count: picked.length,
    labels,
    classNames: meta.classNames,
    skipped,
    fingerprint: hash.toString(16).padStart(8, '0'),
    description: {
      ...meta.description,
      count: picked.length,
      sample: picked.length < good.length - selection.bad.length ? (opts.sample ?? 'first') : 'all',
      resized: sizeOff.length,
      resize: sizeOff.length > 0 ? 'tf.image.resizeBilinear, alignCorners false, halfPixelCenters false' : null,
      channelsConverted: channelOff.length,
      channelConversion: channelOff.length === 0 ? null : c === 3 ? 'grey channel repeated to RGB' : 'ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B',
      alpha: 'dropped',
      pixels: `0..255 mapped linearly onto [${lo}, ${hi}]`,
      decodeChecked: selection.checked,
      skipped: skipped.length,
      skippedFiles: skipped.slice(0, LISTED_SKIPPED),
    },
    async read(start: number, end: number): Promise<DataChunk> {
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > picked.length || start >= end) {
        throw new AdvxError('INVALID_OPTION', `read(${start}, ${end}): give 0 ≤ start < end ≤ ${picked.length}.`);
      }
      const per = h * w * c;
      const buf = new Float32Array((end - start) * per);
      for (let i = start; i < end; i++) {
        const { entry, header } = picked[i] as (typeof picked)[number];
        let image;
        try {
          image = await readImagePixels(entry.file, header);
        } catch (e) {
          if (!(e instanceof UnreadableImage)) throw e;
          throw new AdvxError(
            'INVALID_DATA',
            `cannot decode ${entry.name} (sample ${i}): ${e.message}. ` +
              (opts.skipBad === true
                ? 'It decoded when the data was opened, so it changed during the run: restore or remove it and rerun.'
                : 'Fix or remove the file, or pass --skip-bad (skipBad: true) to decode every image before the run and skip the damaged ones.'),
            { file: entry.name, sample: i },
          );
        }
        await fitSample(
          { height: image.height, width: image.width, stride: 4, channels: header.grey ? 1 : 3, values: image.rgba },
          opts.inputShape,
          map,
          buf,
          (i - start) * per,
        );
      }
      return { x: tf.tensor4d(buf, [end - start, h, w, c]), labels: tf.tensor1d(labels.subarray(start, end), 'int32') };
    },
    dispose: () => undefined,
  };
}
