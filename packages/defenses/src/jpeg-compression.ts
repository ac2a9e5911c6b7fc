import * as tf from '@tensorflow/tfjs-core';
import { decode, encode } from 'jpeg-js';

import { AdvxError, defineFactory, option, type Preprocessor, type FactoryOptions } from '@advx/core';

import { assertImageBatch } from './internal/image.js';

const JPEG_COMPRESSION_OPTIONS = {
  quality: option.integer(75, "JPEG quality (75: Guo et al.'s setting)", { min: 1, max: 100 }),
};

/**
 * JPEG compression: every image is rounded to 8 bits of the model's bounds, encoded as a baseline
 * JPEG at `quality` and decoded again (the baseline encoder and decoder of jpeg-js;
 * 1-channel images go through as gray RGB), so high-frequency perturbations are quantized away.
 *
 * Papers: Gintare Karolina Dziugaite, Zoubin Ghahramani, Daniel M. Roy (2016), "A study of the effect
 * of JPG compression on adversarial images", {@link https://arxiv.org/abs/1608.00853}; Chuan Guo,
 * Mayank Rana, Moustapha Cisse, Laurens van der Maaten (2018), "Countering Adversarial Images using
 * Input Transformations", ICLR, {@link https://arxiv.org/abs/1711.00117}.
 *
 * Gradient: `bpda-identity` — the encoder is not differentiable (rounding, quantization tables).
 *
 * Threat model addressed: small, high-frequency perturbations crafted without knowledge of the
 * compression (transfer and oblivious attacks). Not addressed: adaptive white-box attacks. Known
 * bypass: BPDA (Athalye, Carlini & Wagner 2018, {@link https://arxiv.org/abs/1802.00420}) — this
 * preprocessor declares it, so PGD through `defend(model, jpegCompression())` is the adaptive attack;
 * also differentiable JPEG approximations (Shin & Song 2017).
 *
 * Input: image batches `[n, h, w, c]` with 1 or 3 channels, in the model's bounds. Runs on the CPU
 * (`dataSync`); outputs lie on the 8-bit grid of the bounds. Options: {@link jpegCompression}.schema (each declared
 * once, with its default, range and doc).
 *
 * <!-- options:jpeg-compression -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `quality` | integer in [1, 100] | 75 | JPEG quality (75: Guo et al.'s setting) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { defend } from '@advx/core';
 * import { jpegCompression } from '@advx/defenses';
 *
 * const defended = defend(model, jpegCompression({ quality: 50 }));
 * ```
 * @public
 */
export const jpegCompression = defineFactory('jpegCompression', JPEG_COMPRESSION_OPTIONS, (o): Preprocessor => {
  const { quality } = o;
  return Object.freeze({
    name: 'jpeg-compression',
    gradient: 'bpda-identity' as const,
    randomized: false,
    apply: (x: tf.Tensor, bounds: readonly [number, number]) => {
      assertImageBatch('jpegCompression', x);
      const [n, height, width, channels] = x.shape;
      if (channels !== 1 && channels !== 3) {
        throw new AdvxError('INVALID_SHAPE', `jpegCompression: images need 1 or 3 channels, got ${channels}.`);
      }
      const [lo, hi] = bounds;
      const byteTensor = tf.tidy(() => tf.round(tf.mul(tf.clipByValue(tf.div(tf.sub(x, lo), hi - lo), 0, 1), 255)));
      const bytes = byteTensor.dataSync();
      byteTensor.dispose();
      const out = new Float32Array(bytes.length);
      const pixels = height * width;
      const rgba = new Uint8Array(pixels * 4);
      for (let i = 0; i < n; i++) {
        const base = i * pixels * channels;
        for (let p = 0; p < pixels; p++) {
          for (let k = 0; k < 3; k++) rgba[4 * p + k] = bytes[base + p * channels + (channels === 3 ? k : 0)] as number;
          rgba[4 * p + 3] = 255;
        }
        const decoded = decode(encode({ data: rgba, width, height }, quality).data, { useTArray: true, formatAsRGBA: true }).data;
        for (let p = 0; p < pixels; p++) {
          if (channels === 3) {
            for (let k = 0; k < 3; k++) out[base + p * 3 + k] = decoded[4 * p + k] as number;
          } else {
            out[base + p] = Math.round(((decoded[4 * p] as number) + (decoded[4 * p + 1] as number) + (decoded[4 * p + 2] as number)) / 3);
          }
        }
      }
      return tf.tidy(() => tf.add(tf.mul(tf.tensor(out, x.shape, 'float32'), (hi - lo) / 255), lo));
    },
  });
});

/**
 * Options of {@link jpegCompression}.
 *
 * @public
 */
export type JpegCompressionOptions = FactoryOptions<typeof jpegCompression>;
