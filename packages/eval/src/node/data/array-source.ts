import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '@advx/core';

import { fnv1a } from '../../internal/fingerprint.js';
import { fitSample } from './fit-sample.js';
import { selectSample } from './select-sample.js';
import type { DataChunk, DataSource, OpenDatasetOptions } from './types.js';

/** Row access to an array of samples `[count, h, w, c]` (IDX, .npy). */
export interface ArrayReader {
  readonly count: number;
  readonly shape: readonly [number, number, number];
  /** `uint8`: pixels 0..255, mapped onto the bounds; `float32`: model inputs as they are. */
  readonly dtype: 'uint8' | 'float32';
  /** Sample `i`, `h·w·c` values. */
  readRow(i: number): Promise<Uint8Array | Float32Array>;
  /** Identifies the files (sizes and bytes read). */
  readonly digest: number;
}

/** Rows scanned at once by the bounds check of float arrays. */
const SCAN = 256;

/**
 * A {@link DataSource} over an array of samples and its labels: labels checked against the model's
 * classes (the message names the row), shapes against the model (resize / channel conversion only
 * when asked), float arrays checked against the bounds (streamed); rows are read per chunk.
 */
export async function arraySource(
  reader: ArrayReader,
  labelsAll: Int32Array,
  opts: OpenDatasetOptions,
  meta: { name: string; description: Record<string, unknown>; labelsName: string },
): Promise<DataSource> {
  const [h, w, c] = opts.inputShape;
  const [sh, sw, sc] = reader.shape;
  if (labelsAll.length !== reader.count) {
    throw new AdvxError(
      'BATCH_MISMATCH',
      `data ${meta.name}: ${reader.count} samples but ${labelsAll.length} labels in ${meta.labelsName}; give the labels of exactly these samples.`,
    );
  }
  if (c !== 1 && c !== 3) throw new AdvxError('INVALID_SHAPE', `image arrays need a model input with 1 or 3 channels; the model takes ${h}×${w}×${c}.`);
  if (sc !== 1 && sc !== 3) throw new AdvxError('INVALID_SHAPE', `data ${meta.name}: samples with ${sc} channels are not supported (1 grey or 3 RGB).`);
  const bad = labelsAll.findIndex((l) => l < 0 || l >= opts.numClasses);
  if (bad >= 0) {
    throw new AdvxError(
      'LABEL_OUT_OF_RANGE',
      `${meta.labelsName} row ${bad}: label ${labelsAll[bad]} is outside the model's ${opts.numClasses} classes (0 … ${opts.numClasses - 1}).`,
      {
        row: bad,
        label: labelsAll[bad],
      },
    );
  }
  const problems: string[] = [];
  if ((sh !== h || sw !== w) && opts.resize !== true)
    problems.push(`its samples are ${sh}×${sw}: pass --resize (resize: true) to resize them on load (bilinear)`);
  if (sc !== c && opts.convertChannels !== true)
    problems.push(`its samples have ${sc} channel${sc === 1 ? '' : 's'}: pass --convert-channels (convertChannels: true) to convert them`);
  if (problems.length > 0) throw new AdvxError('INVALID_SHAPE', `data ${meta.name} does not match the model's input ${h}×${w}×${c}: ${problems.join('; ')}.`);

  const rows = selectSample(labelsAll, opts.n, opts.sample);
  const [lo, hi] = opts.bounds;
  const map = reader.dtype === 'uint8' ? { scale: (hi - lo) / 255, shift: lo } : { scale: 1, shift: 0 };
  if (reader.dtype === 'float32') {
    // Float arrays are model inputs: every picked row must be finite and inside the bounds before any work.
    const tol = 1e-6 * Math.max(1, hi - lo);
    for (let s = 0; s < rows.length; s += SCAN) {
      for (const r of rows.slice(s, s + SCAN)) {
        const v = (await reader.readRow(r)) as Float32Array;
        for (let i = 0; i < v.length; i++) {
          const x = v[i] as number;
          if (!Number.isFinite(x) || x < lo - tol || x > hi + tol) {
            throw new AdvxError(
              'OUT_OF_BOUNDS',
              `data ${meta.name} sample ${r} holds ${x}, outside the bounds [${lo}, ${hi}]: float32 arrays are taken as model inputs; ` +
                'scale them into the bounds, or save uint8 pixels (0..255) to have them mapped.',
              { row: r, value: x },
            );
          }
        }
      }
    }
  }
  const labels = Int32Array.from(rows, (r) => labelsAll[r] as number);
  const hash = fnv1a(
    new Uint8Array(Int32Array.from(rows).buffer),
    fnv1a(new TextEncoder().encode(JSON.stringify({ shape: opts.inputShape, bounds: opts.bounds })), reader.digest),
  );
  const classNames = opts.modelClassNames !== undefined && opts.modelClassNames.length === opts.numClasses ? [...opts.modelClassNames] : undefined;
  return {
    name: meta.name,
    count: rows.length,
    labels,
    classNames,
    skipped: [],
    fingerprint: hash.toString(16).padStart(8, '0'),
    description: {
      ...meta.description,
      count: rows.length,
      sampleShape: [sh, sw, sc],
      dtype: reader.dtype,
      sample: opts.n !== undefined && opts.n < reader.count ? (opts.sample ?? 'first') : 'all',
      classIndex: 'label-index',
      resize: sh !== h || sw !== w ? 'tf.image.resizeBilinear, alignCorners false, halfPixelCenters false' : null,
      channelConversion: sc === c ? null : c === 3 ? 'grey channel repeated to RGB' : 'ITU-R BT.601 luma 0.299 R + 0.587 G + 0.114 B',
      pixels: reader.dtype === 'uint8' ? `0..255 mapped linearly onto [${lo}, ${hi}]` : 'float32 values used as they are',
      skipped: 0,
    },
    async read(start: number, end: number): Promise<DataChunk> {
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > rows.length || start >= end) {
        throw new AdvxError('INVALID_OPTION', `read(${start}, ${end}): give 0 ≤ start < end ≤ ${rows.length}.`);
      }
      const per = h * w * c;
      const buf = new Float32Array((end - start) * per);
      for (let i = start; i < end; i++) {
        const values = await reader.readRow(rows[i] as number);
        await fitSample({ height: sh, width: sw, stride: sc, channels: sc, values }, opts.inputShape, map, buf, (i - start) * per);
      }
      return { x: tf.tensor4d(buf, [end - start, h, w, c]), labels: tf.tensor1d(labels.subarray(start, end), 'int32') };
    },
    dispose: () => undefined,
  };
}
