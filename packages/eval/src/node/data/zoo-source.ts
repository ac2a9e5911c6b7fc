import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '@advx/core';
import { DATASETS, loadDataset, type DatasetName } from '@advx/models-zoo';

import { fingerprint } from '../../internal/fingerprint.js';
import { fitSample } from './fit-sample.js';
import { selectSample } from './select-sample.js';
import type { DataChunk, DataSource, OpenDatasetOptions } from './types.js';

/**
 * A {@link DataSource} over a zoo dataset (`mnist`, `fashion-mnist`: 28×28 grey in [0, 1], the
 * evaluation split of `loadDataset`), held in memory. With the model's shape and bounds [0, 1] a chunk
 * is a slice of the loaded tensor (the in-memory path of `evaluate`, bit for bit); other bounds map
 * [0, 1] linearly onto them, other shapes need `resize` / `convertChannels`.
 */
export async function zooSource(name: DatasetName, opts: OpenDatasetOptions): Promise<DataSource> {
  const [h, w, c] = opts.inputShape;
  const problems: string[] = [];
  if ((h !== 28 || w !== 28) && opts.resize !== true) problems.push('its images are 28×28: pass --resize (resize: true) to resize them on load (bilinear)');
  if (c !== 1 && opts.convertChannels !== true) problems.push('its images are grey: pass --convert-channels (convertChannels: true) to repeat the channel');
  if (c !== 1 && c !== 3) throw new AdvxError('INVALID_SHAPE', `images need a model input with 1 or 3 channels; the model takes ${h}×${w}×${c}.`);
  if (problems.length > 0) throw new AdvxError('INVALID_SHAPE', `data ${name} does not match the model's input ${h}×${w}×${c}: ${problems.join('; ')}.`);
  const stratified = opts.sample === 'stratified' && opts.n !== undefined;
  const data = await loadDataset(name, stratified ? {} : opts.n !== undefined ? { count: opts.n } : {});
  let x: tf.Tensor = data.x;
  let y: tf.Tensor1D = data.y;
  const all = (await y.data()) as Int32Array;
  if (stratified) {
    const rows = selectSample(Int32Array.from(all), opts.n, 'stratified');
    const idx = tf.tensor1d(rows, 'int32');
    x = tf.gather(data.x, idx);
    y = tf.gather(data.y, idx) as tf.Tensor1D;
    tf.dispose([idx, data.x, data.y]);
  }
  // Labels are checked against the model by evaluate(), after the inputs' shape (the order of the in-memory path).
  const labels = Int32Array.from((await y.data()) as Int32Array);
  const [lo, hi] = opts.bounds;
  const same = h === 28 && w === 28 && c === 1;
  const identity = lo === 0 && hi === 1;
  const count = labels.length;
  return {
    name,
    count,
    labels,
    classNames: [...DATASETS[name].classNames],
    skipped: [],
    fingerprint: fingerprint({ name, shape: opts.inputShape, bounds: opts.bounds }, (await x.data()) as Float32Array, labels),
    description: {
      format: 'zoo',
      source: name,
      count,
      sample: stratified ? 'stratified' : opts.n !== undefined ? 'first' : 'all',
      classIndex: 'label-index',
      resize: h !== 28 || w !== 28 ? 'tf.image.resizeBilinear, alignCorners false, halfPixelCenters false' : null,
      channelConversion: c === 3 ? 'grey channel repeated to RGB' : null,
      pixels: identity ? 'as shipped, in [0, 1]' : `[0, 1] mapped linearly onto [${lo}, ${hi}]`,
      skipped: 0,
    },
    async read(start: number, end: number): Promise<DataChunk> {
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > count || start >= end) {
        throw new AdvxError('INVALID_OPTION', `read(${start}, ${end}): give 0 ≤ start < end ≤ ${count}.`);
      }
      const labelsOut = tf.tensor1d(labels.subarray(start, end), 'int32');
      if (same) {
        const xb = identity ? tf.slice(x, start, end - start) : tf.tidy(() => tf.add(tf.mul(tf.slice(x, start, end - start), hi - lo), lo));
        return { x: xb as tf.Tensor4D, labels: labelsOut };
      }
      const xb = tf.slice(x, start, end - start);
      const values = (await xb.data()) as Float32Array;
      xb.dispose();
      const per = h * w * c;
      const buf = new Float32Array((end - start) * per);
      for (let i = 0; i < end - start; i++) {
        const sample = { height: 28, width: 28, stride: 1, channels: 1 as const, values: values.subarray(i * 784, (i + 1) * 784) };
        await fitSample(sample, opts.inputShape, { scale: hi - lo, shift: lo }, buf, i * per);
      }
      return { x: tf.tensor4d(buf, [end - start, h, w, c]), labels: labelsOut };
    },
    dispose: () => tf.dispose([x, y]),
  };
}
