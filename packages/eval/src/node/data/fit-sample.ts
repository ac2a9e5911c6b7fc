import * as tf from '@tensorflow/tfjs-core';

/** ITU-R BT.601 luma weights (R, G, B), the weights of PIL's `convert('L')` and tf.image.rgb_to_grayscale. */
export const LUMA_601 = [0.299, 0.587, 0.114] as const;

/**
 * One sample as values on the 0..255 pixel scale (or the raw scale of float arrays), laid out
 * `height × width × stride`; `channels` of the `stride` values per pixel are used (RGBA images:
 * stride 4, channels 3 or 1 when grey).
 */
export interface RawSample {
  readonly height: number;
  readonly width: number;
  readonly stride: number;
  readonly channels: 1 | 3;
  readonly values: ArrayLike<number>;
}

/** Converts a sample's channels to `channels`: grey → colour repeats the channel, colour → grey takes BT.601 luma. */
export function convertChannels(s: RawSample, channels: 1 | 3): Float32Array {
  const n = s.height * s.width;
  const out = new Float32Array(n * channels);
  const v = s.values;
  for (let p = 0; p < n; p++) {
    const i = p * s.stride;
    if (channels === s.channels) {
      for (let c = 0; c < channels; c++) out[p * channels + c] = v[i + c] as number;
    } else if (channels === 3) {
      const g = v[i] as number;
      out[p * 3] = g;
      out[p * 3 + 1] = g;
      out[p * 3 + 2] = g;
    } else {
      out[p] = LUMA_601[0] * (v[i] as number) + LUMA_601[1] * (v[i + 1] as number) + LUMA_601[2] * (v[i + 2] as number);
    }
  }
  return out;
}

/**
 * Fits one sample to `[h, w, c]` and writes it into `out` at `offset`: channels converted, resized with
 * `tf.image.resizeBilinear` (`alignCorners: false`, `halfPixelCenters: false`, tfjs' defaults) when the
 * size differs, then mapped linearly by `scale` (value × scale + shift). Leaves no tensor behind.
 */
export async function fitSample(
  s: RawSample,
  shape: readonly [number, number, number],
  map: { readonly scale: number; readonly shift: number },
  out: Float32Array,
  offset: number,
): Promise<void> {
  const [h, w, c] = shape;
  let values = convertChannels(s, c as 1 | 3);
  if (s.height !== h || s.width !== w) {
    const resized = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(values, [s.height, s.width, c]), [h, w], false, false));
    values = (await resized.data()) as Float32Array;
    resized.dispose();
  }
  for (let i = 0; i < values.length; i++) out[offset + i] = (values[i] as number) * map.scale + map.shift;
}
