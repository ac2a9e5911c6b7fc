import * as tf from '@tensorflow/tfjs-core';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';

import { isAdvxError } from '@advx/core';

import { renderHeatmapPng } from './render-heatmap-png.js';

const decode = (bytes: Uint8Array) => pngjs.PNG.sync.read(Buffer.from(bytes));
const pixel = (png: pngjs.PNG, i: number, j: number) => Array.from(png.data.subarray((i * png.width + j) * 4, (i * png.width + j) * 4 + 4));

describe('renderHeatmapPng', () => {
  it('colours min → black, max → white, mid → hot red/yellow', async () => {
    const map = tf.tensor2d([
      [0, 0.5],
      [1, 0.25],
    ]);
    const png = decode(await renderHeatmapPng(map));
    expect([png.width, png.height]).toEqual([2, 2]);
    expect(pixel(png, 0, 0)).toEqual([0, 0, 0, 255]);
    expect(pixel(png, 1, 0)).toEqual([255, 255, 255, 255]);
    // t = 0.5: r = 1, g = 0.5, b = 0; t = 0.25: r = 0.75, g = b = 0.
    expect(pixel(png, 0, 1)).toEqual([255, 128, 0, 255]);
    expect(pixel(png, 1, 1)).toEqual([191, 0, 0, 255]);
    map.dispose();
  });

  it('resizes a coarse map to the image (nearest) and blends it over the gray image', async () => {
    const map = tf.tensor2d([[1, 0]]); // left half hot, right half cold
    const image = tf.fill([1, 2, 4, 1], 0.4);
    const png = decode(await renderHeatmapPng(map, { image, alpha: 0.25, scale: 2 }));
    expect([png.width, png.height]).toEqual([8, 4]);
    const hot = Math.round(255 * (0.75 * 0.4 + 0.25));
    const cold = Math.round(255 * 0.75 * 0.4);
    expect(pixel(png, 3, 3)).toEqual([hot, hot, hot, 255]);
    expect(pixel(png, 0, 4)).toEqual([cold, cold, cold, 255]);
    tf.dispose([map, image]);
  });

  it('rejects bad shapes and options with AdvxErrors', async () => {
    const before = tf.memory().numTensors;
    const cube = tf.zeros([2, 2, 2, 2]);
    const nan = tf.tensor2d([[NaN, 1]]);
    const map = tf.zeros([2, 2]);
    for (const [fn, code] of [
      [() => renderHeatmapPng(cube), 'INVALID_SHAPE'],
      [() => renderHeatmapPng(nan), 'NON_FINITE_INPUT'],
      [() => renderHeatmapPng(map, { scale: 0 }), 'INVALID_OPTION'],
      [() => renderHeatmapPng(map, { alpha: 2 }), 'INVALID_OPTION'],
    ] as const) {
      const e = await fn().catch((err: unknown) => err);
      expect(isAdvxError(e, code), String(e)).toBe(true);
    }
    tf.dispose([cube, nan, map]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
