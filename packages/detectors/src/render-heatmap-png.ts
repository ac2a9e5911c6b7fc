import * as tf from '@tensorflow/tfjs-core';
import { encode as encodePng } from 'fast-png';

import { AdvxError, option, resolveOptions, type Bounds, type OptionsInput } from '@advx/core';

const HEATMAP_PNG_OPTIONS = {
  image: option.optional<tf.Tensor>('image under the heat map, [H, W], [H, W, C] or with a leading batch axis of 1; shown in gray', 'the heat map alone', {
    type: 'a tf.Tensor',
    accepts: (v) => v instanceof tf.Tensor,
  }),
  bounds: option.custom<Bounds>(Object.freeze([0, 1]) as Bounds, 'value range of image', {
    type: '[low, high] with low < high',
    accepts: (v) => Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && Number.isFinite(v[1]) && (v[1] as number) > (v[0] as number),
    json: true,
  }),
  alpha: option.optional<number>('opacity of the heat map over the image', '0.5 with an image, else 1', {
    type: 'a finite number in [0, 1]',
    accepts: (v) => typeof v === 'number' && v >= 0 && v <= 1,
  }),
  scale: option.integer(1, 'integer upscaling of the output', { min: 1, max: 64 }),
};

/**
 * Options of {@link renderHeatmapPng}: `image` (none), `bounds` (`[0, 1]`), `alpha` (0.5 with an
 * image, else 1), `scale` (1).
 *
 * @public
 */
export type HeatmapPngOptions = OptionsInput<typeof HEATMAP_PNG_OPTIONS>;

/** The `hot` colour map: black → red → yellow → white for t in [0, 1]. */
function hotColor(t: number): [number, number, number] {
  const clamp = (v: number) => Math.max(0, Math.min(1, v));
  return [clamp(3 * t), clamp(3 * t - 1), clamp(3 * t - 2)];
}

async function as2d(t: tf.Tensor, what: string): Promise<{ values: Float32Array; h: number; w: number; channels: number }> {
  if (!(t instanceof tf.Tensor)) throw new AdvxError('INVALID_SHAPE', `renderHeatmapPng: ${what} must be a tf.Tensor.`);
  const shape = t.shape[0] === 1 && t.rank >= 3 ? t.shape.slice(1) : t.shape;
  if (shape.length !== 2 && shape.length !== 3) {
    throw new AdvxError('INVALID_SHAPE', `renderHeatmapPng: ${what} must be [H, W] or [H, W, C] (optionally [1, ...]), got [${t.shape.join(', ')}].`);
  }
  const values = Float32Array.from(await t.data());
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new AdvxError('NON_FINITE_INPUT', `renderHeatmapPng: ${what} has a non-finite value at flat index ${bad}.`);
  return { values, h: shape[0] as number, w: shape[1] as number, channels: (shape[2] as number | undefined) ?? 1 };
}

/**
 * Renders a heat map (a {@link saliencyMap} or {@link occlusionMap} of one image) to PNG bytes: the
 * map is scaled to [0, 1] by its minimum and maximum, coloured with the `hot` map (black → red →
 * yellow → white) and, when `image` is given, resized to the image (nearest neighbour) and blended
 * over the image in gray: `pixel = (1 − alpha)·gray + alpha·colour`. Multi-channel maps are reduced
 * by their maximum over channels. Encodes with fast-png (pure JavaScript: Node and browsers).
 *
 * Options (defaults): `image` (none), `bounds` (`[0, 1]`), `alpha` (0.5 with an image, else 1), `scale` (1).
 *
 * @param map - `[h, w]`, `[h, w, C]` or `[1, h, w(, C)]`.
 * @returns the encoded PNG (RGBA, 8 bits).
 * @throws AdvxError `INVALID_SHAPE`, `NON_FINITE_INPUT` or `INVALID_OPTION`.
 * @example
 * ```ts
 * import { writeFileSync } from 'node:fs';
 * const maps = await saliencyMap(model, x);
 * writeFileSync('saliency.png', await renderHeatmapPng(tf.slice(maps, 0, 1), { image: tf.slice(x, 0, 1), scale: 8 }));
 * ```
 * @public
 */
export async function renderHeatmapPng(map: tf.Tensor, options: HeatmapPngOptions = {}): Promise<Uint8Array> {
  const o = resolveOptions('renderHeatmapPng', HEATMAP_PNG_OPTIONS, options);
  const { scale } = o;
  const alpha = o.alpha ?? (o.image ? 0.5 : 1);
  const [lo, hi] = o.bounds;
  const m = await as2d(map, 'map');
  const img = o.image ? await as2d(o.image, 'image') : undefined;
  const [h, w] = img ? [img.h, img.w] : [m.h, m.w];

  const heat = new Float32Array(m.h * m.w);
  for (let k = 0; k < heat.length; k++) {
    let v = -Infinity;
    for (let c = 0; c < m.channels; c++) v = Math.max(v, m.values[k * m.channels + c] as number);
    heat[k] = v;
  }
  let min = Infinity;
  let max = -Infinity;
  for (const v of heat) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const range = max - min;

  const width = w * scale;
  const data = new Uint8Array(width * h * scale * 4);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const mi = Math.min(m.h - 1, Math.floor((i * m.h) / h));
      const mj = Math.min(m.w - 1, Math.floor((j * m.w) / w));
      const t = range > 0 ? ((heat[mi * m.w + mj] as number) - min) / range : 0;
      const color = hotColor(t);
      let gray = 0;
      if (img) {
        let s = 0;
        for (let c = 0; c < img.channels; c++) s += img.values[(i * w + j) * img.channels + c] as number;
        gray = Math.max(0, Math.min(1, (s / img.channels - lo) / (hi - lo)));
      }
      const rgb = color.map((v) => Math.round(255 * ((1 - alpha) * gray + alpha * v)));
      for (let di = 0; di < scale; di++) {
        for (let dj = 0; dj < scale; dj++) {
          const o = ((i * scale + di) * width + (j * scale + dj)) * 4;
          data[o] = rgb[0] as number;
          data[o + 1] = rgb[1] as number;
          data[o + 2] = rgb[2] as number;
          data[o + 3] = 255;
        }
      }
    }
  }
  return encodePng({ width, height: h * scale, data, depth: 8, channels: 4 });
}
