/**
 * The plugin kit (`@advx/core/plugin`): checkpoints abort before and after progress and yield to the
 * event loop, chunks cover every row once and release their slices, disposable results release once,
 * image shapes reject non-image models, and Adam matches the update computed by hand.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { isAdvxError, resolveOptions, type Progress } from '../src/index.js';
import { abortedError, adamStep, asNhwc, CHECKPOINT_OPTIONS, disposable, forEachChunk, imageShapeOf, makeCheckpoint } from '../src/plugin/index.js';

const progress = (step: number): Progress => ({ fraction: step / 10, batch: 0, batches: 1, epsilonIndex: 0, step, steps: 10 });

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return isAdvxError(e) ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
}

describe('makeCheckpoint', () => {
  it('reports progress and resolves while the signal is not aborted', async () => {
    const seen: number[] = [];
    const checkpoint = makeCheckpoint('demo', { signal: new AbortController().signal, onProgress: (p) => seen.push(p.step) });
    for (let step = 0; step < 3; step++) await checkpoint(progress(step));
    expect(seen).toEqual([0, 1, 2]);
  });

  it('throws ABORTED naming the method before reporting when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const seen: number[] = [];
    const checkpoint = makeCheckpoint('trainDemo', { signal: controller.signal, onProgress: (p) => seen.push(p.step) });
    expect(await codeOf(checkpoint(progress(0)))).toBe('ABORTED: [ABORTED] trainDemo was aborted through its AbortSignal; partial results were released.');
    expect(seen).toEqual([]);
  });

  it('throws ABORTED when the progress callback aborts', async () => {
    const controller = new AbortController();
    const checkpoint = makeCheckpoint('demo', { signal: controller.signal, onProgress: (p) => p.step === 2 && controller.abort() });
    await checkpoint(progress(0));
    await checkpoint(progress(1));
    expect(await codeOf(checkpoint(progress(2)))).toMatch(/^ABORTED: /);
  });

  it('gives the event loop a turn during a long loop, so that a timer can abort it', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 5);
    const checkpoint = makeCheckpoint('busy', { signal: controller.signal });
    let steps = 0;
    const busy = async (): Promise<void> => {
      for (;;) {
        const until = Date.now() + 2;
        while (Date.now() < until); // 2 ms of work per step, never awaiting anything else
        await checkpoint(progress(steps++));
      }
    };
    expect(await codeOf(busy())).toMatch(/^ABORTED: \[ABORTED\] busy was aborted/);
    expect(steps).toBeGreaterThan(2);
  });

  it('works without a signal or a callback, and its options resolve from CHECKPOINT_OPTIONS', async () => {
    const o = resolveOptions('demo', CHECKPOINT_OPTIONS, {});
    expect(o).toEqual({ signal: null, onProgress: null });
    await makeCheckpoint('demo', o)(progress(0));
    expect(await codeOf(() => resolveOptions('demo', CHECKPOINT_OPTIONS, { signal: 'stop' }))).toMatch(
      /^INVALID_OPTION: .*demo: signal must be an AbortSignal or null/,
    );
    expect(abortedError('x').code).toBe('ABORTED');
  });
});

describe('forEachChunk', () => {
  it('visits consecutive slices of at most `size` rows in order, releases them, and passes a batch that fits as is', async () => {
    const x = tf.tensor2d(Array.from({ length: 7 }, (_, i) => [i, -i]));
    const before = tf.memory().numTensors;
    const seen: [number, number[]][] = [];
    await forEachChunk(x, 3, async (rows, offset) => {
      seen.push([offset, Array.from(await rows.data()).filter((_, k) => k % 2 === 0)]);
    });
    expect(seen).toEqual([
      [0, [0, 1, 2]],
      [3, [3, 4, 5]],
      [6, [6]],
    ]);
    expect(tf.memory().numTensors).toBe(before);
    let whole: tf.Tensor | undefined;
    await forEachChunk(x, 7, async (rows) => {
      whole = rows;
    });
    expect(whole).toBe(x);
    expect(x.isDisposed).toBe(false);
    x.dispose();
  });

  it('releases the slice when the callback throws, and stops there', async () => {
    const x = tf.zeros([5, 2]);
    const before = tf.memory().numTensors;
    const offsets: number[] = [];
    const run = forEachChunk(x, 2, async (_rows, offset) => {
      offsets.push(offset);
      if (offset === 2) throw new Error('stop');
    });
    await expect(run).rejects.toThrow('stop');
    expect(offsets).toEqual([0, 2]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('disposable', () => {
  it('keeps the fields and releases its tensors once, however often dispose is called', () => {
    const before = tf.memory().numTensors;
    const t = tf.ones([2]);
    const v = tf.tidy(() => tf.variable(tf.zeros([3])));
    const r = disposable({ patch: t, loss: 0.5 }, [t, v]);
    expect(r.patch).toBe(t);
    expect(r.loss).toBe(0.5);
    r.dispose();
    r.dispose();
    expect(t.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('imageShapeOf and asNhwc', () => {
  it('reads [h, w, c] and [h, w] shapes and reshapes batches channels last', () => {
    expect(imageShapeOf([28, 28, 1], 'demo')).toEqual({ height: 28, width: 28, channels: 1 });
    expect(imageShapeOf([4, 6], 'demo')).toEqual({ height: 4, width: 6, channels: 1 });
    const x = tf.zeros([2, 4, 6]);
    const y = asNhwc(x, imageShapeOf([4, 6], 'demo'));
    expect(y.shape).toEqual([2, 4, 6, 1]);
    tf.dispose([x, y]);
  });

  it('rejects models that do not take images, or too small ones, with UNSUPPORTED_MODEL naming the method', async () => {
    expect(await codeOf(() => imageShapeOf([784], 'square'))).toMatch(/^UNSUPPORTED_MODEL: .*square works on images \[h, w, c\] or \[h, w\].*\[784\]/);
    expect(await codeOf(() => imageShapeOf([2, 2, 3], 'patch', 3))).toMatch(/^UNSUPPORTED_MODEL: .*patch needs images of at least 3×3 pixels, got 2×2/);
  });
});

describe('adamStep', () => {
  it('matches Adam computed by hand on the quadratic ½·Σ a(w − b)²', async () => {
    const a = [1, 4, 0.25];
    const b = [3, -1, 0.5];
    const lr = 0.1;
    const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
    // Scalar reference, in float64.
    let wRef = [0, 0, 0];
    let mRef = [0, 0, 0];
    let vRef = [0, 0, 0];
    let w: tf.Tensor = tf.tensor1d(wRef);
    let m: tf.Tensor = tf.zeros([3]);
    let v: tf.Tensor = tf.zeros([3]);
    for (let t = 1; t <= 5; t++) {
      const g = wRef.map((wi, j) => (a[j] as number) * (wi - (b[j] as number)));
      mRef = mRef.map((mi, j) => beta1 * mi + (1 - beta1) * (g[j] as number));
      vRef = vRef.map((vi, j) => beta2 * vi + (1 - beta2) * (g[j] as number) ** 2);
      wRef = wRef.map((wi, j) => {
        const mHat = (mRef[j] as number) / (1 - beta1 ** t);
        const vHat = (vRef[j] as number) / (1 - beta2 ** t);
        return wi - (lr * mHat) / (Math.sqrt(vHat) + eps);
      });
      const grad = tf.tidy(() => tf.mul(tf.tensor1d(a), tf.sub(w, tf.tensor1d(b))));
      const next = adamStep(w, grad, m, v, t, lr);
      tf.dispose([w, m, v, grad]);
      ({ w, m, v } = next);
      if (t === 1) {
        // The first bias-corrected step is lr·g/(|g| + ε): exactly lr towards the minimum per coordinate.
        const first = Array.from(await w.data());
        first.forEach((wi, j) => expect(wi).toBeCloseTo(lr * Math.sign(b[j] as number), 6));
      }
    }
    const got = Array.from(await w.data());
    got.forEach((wi, j) => expect(wi).toBeCloseTo(wRef[j] as number, 6));
    tf.dispose([w, m, v]);
  });

  it('is element-wise: a batch of rows steps like each row alone', async () => {
    const w = tf.tensor2d([
      [0.5, -1],
      [2, 0.25],
    ]);
    const g = tf.tensor2d([
      [1, -2],
      [0.5, 3],
    ]);
    const m = tf.tensor2d([
      [0.1, 0],
      [-0.2, 0.3],
    ]);
    const v = tf.tensor2d([
      [0.01, 0.02],
      [0.03, 0.04],
    ]);
    const all = adamStep(w, g, m, v, 3, 0.01);
    const both = await all.w.array();
    for (let r = 0; r < 2; r++) {
      const row = (t: tf.Tensor) => tf.slice(t, [r, 0], [1, 2]);
      const [wr, gr, mr, vr] = [row(w), row(g), row(m), row(v)];
      const one = adamStep(wr, gr, mr, vr, 3, 0.01);
      expect(await one.w.array()).toEqual([(both as number[][])[r]]);
      tf.dispose([wr, gr, mr, vr, one.w, one.m, one.v]);
    }
    tf.dispose([w, g, m, v, all.w, all.m, all.v]);
  });
});
