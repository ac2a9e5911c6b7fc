import * as tf from '@tensorflow/tfjs-core';

import { BatchRng, option, predictClasses, resolveOptions, type Model, type OptionsInput } from '@advx/core';
import { forEachChunk } from '@advx/core/plugin';

import { checkBatch, checkModel } from './internal/checks.js';

const SMOOTH_GRAD_OPTIONS = {
  samples: option.integer(25, 'noisy copies averaged per sample', { min: 1 }),
  noiseLevel: option.number(0.15, "noise standard deviation as a fraction of the bounds' range (0.15: Smilkov et al.'s 10–20 %)", { min: 0, above: true }),
};

/**
 * SmoothGrad settings of {@link saliencyMap}: `samples` (25), `noiseLevel` (0.15).
 *
 * @public
 */
export type SmoothGradOptions = OptionsInput<typeof SMOOTH_GRAD_OPTIONS>;

const isPlainObject = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);

const SALIENCY_MAP_OPTIONS = {
  classes: option.optional<tf.Tensor1D>('class whose score is explained, one per sample', "the model's prediction", {
    type: 'a 1-D int32 tf.Tensor with one class per sample',
    accepts: (v) => v instanceof tf.Tensor,
  }),
  smoothGrad: option.custom<boolean | SmoothGradOptions>(false, 'average the map over noisy copies of the input (SmoothGrad); true uses the defaults', {
    type: 'true, false or { samples, noiseLevel }',
    accepts: (v) => typeof v === 'boolean' || isPlainObject(v),
    json: true,
  }),
  seed: option.number(0, 'seed of the SmoothGrad noise'),
  batchSize: option.integer(64, 'samples per gradient pass', { min: 1 }),
};

/**
 * Options of {@link saliencyMap}: `classes` (the prediction), `smoothGrad` (`false`), `seed` (0),
 * `batchSize` (64).
 *
 * @public
 */
export type SaliencyMapOptions = OptionsInput<typeof SALIENCY_MAP_OPTIONS>;

/**
 * Gradient saliency map: `|∂ S_c / ∂ x|`, the magnitude of the gradient of the class score
 * (the logit `S_c`, before softmax) with respect to every input value, with the maximum taken over
 * channels for images `[H, W, C]`. SmoothGrad (Smilkov et al. 2017) averages this map over noisy
 * copies `x + N(0, σ²)`, `σ = noiseLevel · (high − low)`, which removes much of its visual noise.
 *
 * Paper: Karen Simonyan, Andrea Vedaldi, Andrew Zisserman (2013), "Deep Inside Convolutional
 * Networks: Visualising Image Classification Models and Saliency Maps", {@link https://arxiv.org/abs/1312.6034};
 * SmoothGrad: Daniel Smilkov, Nikhil Thorat, Been Kim, Fernanda Viégas, Martin Wattenberg (2017),
 * "SmoothGrad: removing noise by adding noise", {@link https://arxiv.org/abs/1706.03825}.
 *
 * Threat model: explanation of a white-box model (needs gradients).
 *
 * Options (defaults): `classes` (the prediction), `smoothGrad` (`false`; `{ samples: 25,
 * noiseLevel: 0.15 }` when `true`), `seed` (0), `batchSize` (64).
 *
 * @param model - a white-box {@link Model}.
 * @param x - batch `[n, ...model.inputShape]` inside the bounds.
 * @returns `[n, H, W]` for image inputs `[H, W, C]`, else `[n, ...inputShape]`; the caller disposes it.
 * Render it with {@link renderHeatmapPng}.
 * @throws AdvxError on a bad model, input, class or option, before any work.
 * @example
 * ```ts
 * const zoo = await loadModel('mnist-cnn');
 * const { x } = await loadDataset('mnist', { count: 4 });
 * const maps = await saliencyMap(zoo.model, x, { smoothGrad: true, seed: 1 }); // [4, 28, 28]
 * const png = await renderHeatmapPng(tf.slice(maps, 0, 1), { image: tf.slice(x, 0, 1) });
 * ```
 * @public
 */
export async function saliencyMap(model: Model, x: tf.Tensor, options: SaliencyMapOptions = {}): Promise<tf.Tensor> {
  checkModel(model, 'saliencyMap', false);
  const o = resolveOptions('saliencyMap', SALIENCY_MAP_OPTIONS, options);
  const { batchSize, seed } = o;
  let samples = 0;
  let noiseLevel = 0;
  if (o.smoothGrad !== false) {
    ({ samples, noiseLevel } = resolveOptions('saliencyMap.smoothGrad', SMOOTH_GRAD_OPTIONS, o.smoothGrad === true ? {} : o.smoothGrad));
  }
  const given = await checkBatch(model, x, o.classes ?? undefined);
  const classes = given ?? (await predictClasses(model, x));
  const sigma = noiseLevel * (model.bounds[1] - model.bounds[0]);
  const image = model.inputShape.length === 3;

  const gradOf = (xb: tf.Tensor, onehot: tf.Tensor2D) => tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(model.logits(inp), onehot)))(xb);

  const parts: tf.Tensor[] = [];
  try {
    await forEachChunk(x, batchSize, async (xb, start) => {
      const b = xb.shape[0] as number;
      const rows = classes.subarray(start, start + b);
      const part = tf.tidy(() => {
        const onehot = tf.oneHot(tf.tensor1d(rows, 'int32'), model.numClasses) as tf.Tensor2D;
        let map: tf.Tensor;
        if (samples === 0) {
          map = tf.abs(gradOf(xb, onehot));
        } else {
          map = tf.zerosLike(xb);
          for (let s = 0; s < samples; s++) {
            const noise = new BatchRng(seed, start, b, s).normal(xb.shape, 0, sigma);
            map = tf.add(map, tf.abs(gradOf(tf.add(xb, noise), onehot)));
          }
          map = tf.div(map, samples);
        }
        return image ? tf.max(map, 3) : map;
      });
      parts.push(part);
    });
    return parts.length === 1 ? (parts[0] as tf.Tensor) : tf.concat(parts, 0);
  } finally {
    if (parts.length > 1) tf.dispose(parts);
  }
}
