/**
 * Test helpers (not exported by the package): seeded data and cpu-vs-wasm comparison.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

/** mulberry32: a small deterministic PRNG; returns uniform floats in [-1, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  };
}

/** `n` seeded values in [-1, 1). */
export function randomData(n: number, rand: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rand();
  return out;
}

/** max |a − b| / max(1, max |b|). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? Number.NaN;
    const y = b[i] ?? Number.NaN;
    const d = Math.abs(x - y);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
    scale = Math.max(scale, Math.abs(y));
  }
  return diff / scale;
}

/** Runs `compute` on `backend` and reads every output back. */
export async function onBackend(backend: string, compute: () => tf.Tensor[]): Promise<Float32Array[]> {
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  const outs = compute();
  try {
    return await Promise.all(outs.map(async (t) => new Float32Array(await t.data())));
  } finally {
    tf.dispose(outs);
  }
}
