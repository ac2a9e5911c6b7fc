import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from './errors.js';

const TWO_POW_32 = 4294967296;

/** splitmix32 finaliser: a bijective avalanche of a 32-bit integer. */
function mix32(a: number): number {
  let z = (a + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * Derives a 32-bit seed from a base seed and a list of integer keys (sample index, restart, ...).
 * Deterministic and platform independent.
 *
 * @public
 */
export function deriveSeed(seed: number, ...keys: number[]): number {
  let h = mix32(seed >>> 0);
  for (const k of keys) h = mix32((h ^ mix32(k >>> 0)) >>> 0);
  return h;
}

/**
 * A small, fast, seeded pseudo-random generator (sfc32) with the draws adversarial methods need.
 * Every random choice in advx goes through an `Rng`, so the same seed gives the same result on
 * every backend (tfjs's own random ops differ between backends).
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * rng.uniform(); // 0.5496...
 * ```
 * @public
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal: number | undefined;

  /** @param seed - any finite number; it is reduced to 32 bits. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) {
      throw new AdvxError('INVALID_OPTION', `seed must be a finite number, got ${seed}. Pass an integer such as 0 or 42.`);
    }
    const s = Math.floor(seed) >>> 0;
    this.a = mix32(s);
    this.b = mix32(this.a ^ 0x1b873593);
    this.c = mix32(this.b ^ 0xcc9e2d51);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform draw in [0, 1). */
  uniform(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Standard normal draw (Box–Muller). */
  normal(): number {
    if (this.spareNormal !== undefined) {
      const s = this.spareNormal;
      this.spareNormal = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) {
      throw new AdvxError('INVALID_OPTION', `Rng.int(n) needs a positive integer n, got ${n}.`);
    }
    return Math.floor(this.uniform() * n);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i] as number;
      p[i] = p[j] as number;
      p[j] = t;
    }
    return p;
  }

  /** An independent stream derived from this generator's current state and `key`; does not advance this one. */
  fork(key: number): Rng {
    return new Rng(deriveSeed(this.a ^ this.c, key, this.b ^ this.d));
  }
}

/**
 * One independent {@link Rng} stream per sample of a batch. Row `j` of every tensor it draws comes from
 * the stream of sample `offset + j`, so a result does not depend on how the data was batched:
 * running 8 samples at once or one at a time gives identical random starts.
 *
 * @public
 */
export class BatchRng {
  /** The per-sample streams, one per row. */
  readonly streams: readonly Rng[];

  /**
   * @param seed - base seed.
   * @param offset - index of the first row within the whole call (global sample index).
   * @param count - number of rows.
   * @param keys - extra keys (e.g. restart number) mixed into every stream.
   */
  constructor(seed: number, offset: number, count: number, ...keys: number[]) {
    const streams: Rng[] = [];
    for (let j = 0; j < count; j++) streams.push(new Rng(deriveSeed(seed, offset + j, ...keys)));
    this.streams = streams;
  }

  /**
   * The streams of rows `rows` (indices into this batch), shared with this generator: a draw from
   * either advances the same per-sample stream, so a subset of rows draws what those rows would
   * have drawn in the whole batch.
   */
  select(rows: Int32Array): BatchRng {
    const picked = Object.create(BatchRng.prototype) as { streams: readonly Rng[] };
    picked.streams = Array.from(rows, (row) => {
      const stream = this.streams[row];
      if (stream === undefined) throw new AdvxError('INVALID_SHAPE', `BatchRng.select: row ${row} is outside the batch of ${this.streams.length}.`);
      return stream;
    });
    return picked as BatchRng;
  }

  /** Number of rows. */
  get size(): number {
    return this.streams.length;
  }

  private fill(shape: readonly number[], draw: (r: Rng) => number): tf.Tensor {
    const [rows, ...rest] = shape;
    if (rows !== this.streams.length) {
      throw new AdvxError('INVALID_SHAPE', `BatchRng has ${this.streams.length} rows but shape[0] is ${rows}.`);
    }
    const per = rest.reduce((p, s) => p * s, 1);
    const values = new Float32Array(rows * per);
    this.streams.forEach((r, j) => {
      for (let i = 0; i < per; i++) values[j * per + i] = draw(r);
    });
    return tf.tensor(values, [...shape], 'float32');
  }

  /** Tensor of shape `shape` (shape[0] = rows) with entries uniform in [lo, hi). */
  uniform(shape: readonly number[], lo = 0, hi = 1): tf.Tensor {
    return this.fill(shape, (r) => lo + (hi - lo) * r.uniform());
  }

  /** Tensor of shape `shape` (shape[0] = rows) with normal entries. */
  normal(shape: readonly number[], mean = 0, std = 1): tf.Tensor {
    return this.fill(shape, (r) => mean + std * r.normal());
  }

  /** One uniform integer in [0, n) per row. */
  ints(n: number): Int32Array {
    return Int32Array.from(this.streams, (r) => r.int(n));
  }

  /** One uniform number in [0, 1) per row. */
  uniforms(): Float32Array {
    return Float32Array.from(this.streams, (r) => r.uniform());
  }
}
