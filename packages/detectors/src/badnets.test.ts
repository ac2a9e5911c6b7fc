import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { isAdvxError } from '@advx/core';

import { badNets, stampTrigger } from './badnets.js';

const n = 40;
const labels = Array.from({ length: n }, (_, i) => i % 4);
const pixels = Array.from({ length: n * 6 * 6 }, (_, k) => ((k * 37) % 100) / 200);
const data = () => ({ x: tf.tensor4d(pixels, [n, 6, 6, 1]), y: tf.tensor1d(labels, 'int32') });

describe('badNets (Gu et al. 2017)', () => {
  it('stamps the trigger on round(fraction · |source|) seeded samples of the source class and relabels them', async () => {
    const d = data();
    const before = tf.memory().numTensors;
    const p = await badNets(d, { sourceClass: 2, targetClass: 0, fraction: 0.5, seed: 3 });
    expect(p.poisoned.length).toBe(5); // 10 samples of class 2
    expect(Array.from(p.poisoned).every((i) => labels[i] === 2)).toBe(true);
    const x = (await p.x.array()) as number[][][][];
    const y = Array.from(await p.y.data());
    for (let i = 0; i < n; i++) {
      const hit = p.poisoned.includes(i);
      expect(y[i]).toBe(hit ? 0 : labels[i]);
      for (let r = 0; r < 6; r++) {
        for (let c = 0; c < 6; c++) {
          // default trigger: 3×3 of the high bound with its top-left at (6 − 3 − 1, 6 − 3 − 1) = (2, 2)
          const inTrigger = r >= 2 && r < 5 && c >= 2 && c < 5;
          expect(x[i]![r]![c]![0]).toBeCloseTo(hit && inTrigger ? 1 : pixels[(i * 6 + r) * 6 + c]!, 6);
        }
      }
    }
    const again = await badNets(d, { sourceClass: 2, targetClass: 0, fraction: 0.5, seed: 3 });
    expect(Array.from(again.poisoned)).toEqual(Array.from(p.poisoned));
    const other = await badNets(d, { sourceClass: 2, targetClass: 0, fraction: 0.5, seed: 4 });
    expect(Array.from(other.poisoned)).not.toEqual(Array.from(p.poisoned));
    tf.dispose([p.x, p.y, again.x, again.y, other.x, other.y]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([d.x, d.y]);
  });

  it('stampTrigger writes a custom pattern scaled to the bounds at a position', async () => {
    const x = tf.zeros([1, 4, 4]);
    const t = stampTrigger(x, { pattern: [[1, 0.5]], position: [1, 2], bounds: [-1, 1] });
    const v = (await t.array()) as number[][][];
    expect(v[0]![1]![2]).toBe(1);
    expect(v[0]![1]![3]).toBe(0);
    expect(v[0]![0]![0]).toBe(0);
    tf.dispose([x, t]);
  });

  it('rejects bad options with AdvxErrors before any work, leaking nothing', async () => {
    const d = data();
    const before = tf.memory().numTensors;
    const cases: Array<[Parameters<typeof badNets>[1], string]> = [
      [{ sourceClass: 1, targetClass: 1 }, 'INVALID_OPTION'],
      [{ sourceClass: 9, targetClass: 1 }, 'LABEL_OUT_OF_RANGE'],
      [{ sourceClass: 1, targetClass: 2, fraction: 0 }, 'INVALID_OPTION'],
      [{ sourceClass: 1, targetClass: 2, position: [5, 5] }, 'INVALID_OPTION'],
      [{ sourceClass: 1, targetClass: 2, pattern: [[1, 2]] }, 'INVALID_OPTION'],
    ];
    for (const [options, code] of cases) {
      const e = await badNets(d, options).catch((err: unknown) => err);
      expect(isAdvxError(e, code as never), String(e)).toBe(true);
    }
    const short = tf.tensor1d([0, 1], 'int32');
    const e = await badNets({ x: d.x, y: short }, { sourceClass: 0, targetClass: 1 }).catch((err: unknown) => err);
    expect(isAdvxError(e, 'BATCH_MISMATCH')).toBe(true);
    short.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([d.x, d.y]);
  });
});
