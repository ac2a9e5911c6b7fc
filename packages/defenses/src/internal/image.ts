import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '@advx/core';

/** Throws `INVALID_SHAPE` unless `x` is an NHWC image batch `[n, h, w, c]`. */
export function assertImageBatch(who: string, x: tf.Tensor): asserts x is tf.Tensor4D {
  if (!(x instanceof tf.Tensor) || x.rank !== 4) {
    throw new AdvxError(
      'INVALID_SHAPE',
      `${who} works on image batches [n, height, width, channels]; got ${x instanceof tf.Tensor ? `shape [${x.shape.join(', ')}]` : 'no tensor'}. ` +
        'Reshape the data to NHWC (e.g. tf.reshape(x, [-1, 28, 28, 1])).',
    );
  }
}

/**
 * Pads the two spatial axes of an NHWC batch with `scipy.ndimage`'s `reflect` mode (the edge sample is
 * repeated: `d c b a | a b c d | d c b a`). Built from slices, reversals and concatenations, so its
 * gradient is exact (tfjs's own `MirrorPad` gradient drops the reflected contributions).
 */
export function symmetricPad(x: tf.Tensor4D, before: number, after: number): tf.Tensor4D {
  let out = x;
  for (const axis of [1, 2] as const) {
    const size = out.shape[axis];
    const parts: tf.Tensor4D[] = [];
    const begin = (start: number): [number, number, number, number] => (axis === 1 ? [0, start, 0, 0] : [0, 0, start, 0]);
    const extent = (len: number): [number, number, number, number] => (axis === 1 ? [-1, len, -1, -1] : [-1, -1, len, -1]);
    if (before > 0) parts.push(tf.reverse(tf.slice(out, begin(0), extent(before)), axis));
    parts.push(out);
    if (after > 0) parts.push(tf.reverse(tf.slice(out, begin(size - after), extent(after)), axis));
    out = parts.length === 1 ? out : tf.concat(parts, axis);
  }
  return out;
}

/** The `k × k` shifted windows of an NHWC batch padded for a window of size `k` (scipy's origin 0). */
export function windows(x: tf.Tensor4D, k: number): tf.Tensor4D[] {
  const [, h, w] = x.shape;
  const padded = symmetricPad(x, Math.floor(k / 2), Math.floor((k - 1) / 2));
  const out: tf.Tensor4D[] = [];
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) out.push(tf.slice(padded, [0, i, j, 0], [-1, h, w, -1]));
  return out;
}
