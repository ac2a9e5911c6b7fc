import { encode as encodePng } from 'fast-png';

import type { ExampleRecord } from '../types.js';

/** The three PNGs of an example: the original, the perturbation magnified, the adversarial. */
export interface ExampleImages {
  readonly original: Uint8Array;
  readonly perturbation: Uint8Array;
  readonly adversarial: Uint8Array;
  /** Factor the perturbation was magnified by (grey = no change). */
  readonly magnification: number;
}

export { drawable } from './report-data.js';

function encode(values: ArrayLike<number>, shape: readonly number[], toByte: (v: number) => number): Uint8Array {
  const [h, w] = shape as [number, number];
  const c = shape[2] ?? 1;
  const data = new Uint8Array(4 * h * w);
  for (let i = 0; i < h * w; i++) {
    for (let k = 0; k < 3; k++) data[4 * i + k] = toByte(values[i * c + (c === 3 ? k : 0)] as number);
    data[4 * i + 3] = 255;
  }
  // fast-png: plain JavaScript, so the report renders in browsers as in Node.
  return encodePng({ width: w, height: h, data, depth: 8, channels: 4 });
}

/** Renders an example as PNGs, mapping the model's bounds to 0–255. */
export function exampleImages(example: ExampleRecord, bounds: readonly [number, number]): ExampleImages {
  const [lo, hi] = bounds;
  const byte = (v: number) => Math.max(0, Math.min(255, Math.round((255 * (v - lo)) / (hi - lo))));
  const delta = example.adversarial.map((v, i) => v - (example.original[i] as number));
  const peak = delta.reduce((m, d) => Math.max(m, Math.abs(d)), 0);
  // Grey 128 is "no change"; the largest change reaches black or white.
  const magnification = peak > 0 ? 0.5 / peak : 1;
  const perturbationByte = (d: number) => Math.max(0, Math.min(255, Math.round(255 * (0.5 + d * magnification))));
  return {
    original: encode(example.original, example.shape, byte),
    perturbation: encode(delta, example.shape, perturbationByte),
    adversarial: encode(example.adversarial, example.shape, byte),
    magnification: magnification * (hi - lo),
  };
}
