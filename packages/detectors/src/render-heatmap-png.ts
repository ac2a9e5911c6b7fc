import * as tf from '@tensorflow/tfjs-core';
import { encode as encodePng } from 'fast-png';

import { AdvxError, checkNumber, type Bounds } from '@advx/core';

import { checkKnownOptions } from './internal/checks.js';

/**
 * Options of {@link renderHeatmapPng}.
 *
 * @public
 */
export interface HeatmapPngOptions {
  /** Image under the heat map, `[H, W]`, `[H, W, C]` or with a leading batch axis of 1; shown in gray. */
  readonly image?: tf.Tensor;
  /** Value range of `image` (default `[0, 1]`). */
  readonly bounds?: Bounds;
  /** Opacity of the heat map over the image, in [0, 1] (default 0.5; 1 without an image). */
  readonly alpha?: number;
  /** Integer upscaling of the output, ≥ 1 (default 1). */
  readonly scale?: number;
}

const OPTIONS = ['image', 'bounds', 'alpha', 'scale'];

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
  checkKnownOptions('renderHeatmapPng', options, OPTIONS);
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) {
    throw new AdvxError('INVALID_OPTION', `renderHeatmapPng: scale must be an integer in [1, 64], got ${String(scale)}.`);
  }
  const alpha = checkNumber('renderHeatmapPng: alpha', options.alpha ?? (options.image ? 0.5 : 1), 0, 1);
  const [lo, hi] = options.bounds ?? [0, 1];
  if (!(hi > lo)) throw new AdvxError('INVALID_OPTION', 'renderHeatmapPng: bounds must be [low, high] with low < high.');
  const m = await as2d(map, 'map');
  const img = options.image ? await as2d(options.image, 'image') : undefined;
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
