import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '../errors.js';

/**
 * Height, width and channels of a model whose inputs are images `[H, W, C]` (or `[H, W]`, one
 * channel), channels last.
 *
 * @public
 */
export interface ImageShape {
  /** Rows `H`. */
  readonly height: number;
  /** Columns `W`. */
  readonly width: number;
  /** Channels `C` (1 for `[H, W]`). */
  readonly channels: number;
}

/**
 * The image shape of a model's `inputShape`; throws `UNSUPPORTED_MODEL`, naming `who`, for a model
 * that does not take images (or whose sides are below `minSide`).
 *
 * @example
 * ```ts
 * imageShapeOf([28, 28, 1], 'square'); // { height: 28, width: 28, channels: 1 }
 * imageShapeOf([784], 'square'); // throws UNSUPPORTED_MODEL
 * ```
 * @public
 */
export function imageShapeOf(inputShape: readonly number[], who: string, minSide = 1): ImageShape {
  if (inputShape.length !== 2 && inputShape.length !== 3) {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${who} works on images [h, w, c] or [h, w] (channels last), but the model's input shape is [${inputShape.join(', ')}]. ` +
        'Wrap the model so that it takes image-shaped input.',
    );
  }
  const [height, width, channels = 1] = inputShape as [number, number, number?];
  if (Math.min(height, width) < minSide) {
    throw new AdvxError('UNSUPPORTED_MODEL', `${who} needs images of at least ${minSide}×${minSide} pixels, got ${height}×${width}.`);
  }
  return { height, width, channels };
}

/**
 * A `[n, H, W, C]` view of an image batch (`[n, H, W]` gets its channel axis).
 *
 * @public
 */
export function asNhwc(x: tf.Tensor, s: ImageShape): tf.Tensor4D {
  return tf.reshape(x, [x.shape[0] as number, s.height, s.width, s.channels]);
}
