import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

import { carliniWagnerLoss, crossEntropy, dlr, logitMargin, targetedDlr } from '../src/index.js';

/** Reads a tensor's values as plain numbers and disposes it. */
async function values(t: tf.Tensor): Promise<number[]> {
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

function expectClose(actual: number[], expected: number[], digits = 5): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(a).toBeCloseTo(expected[i] as number, digits));
}

/** −log softmax(z)_y = log Σ exp z − z_y, in double precision. */
function refCrossEntropy(z: number[], y: number): number {
  const m = Math.max(...z);
  return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - (z[y] as number);
}

/** Runs `fn` (which disposes what it creates) and checks that tf.memory().numTensors is unchanged. */
async function noLeak(fn: () => Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await fn();
  expect(tf.memory().numTensors).toBe(before);
}

// Three rows of 3-class logits used by several tests.
const ROWS = [
  [1, 2, 3],
  [0, 0, 0],
  [2, -1, 0.5],
];
const CLASSES = [2, 0, 1];

describe('crossEntropy', () => {
  it('equals −log softmax(z)_y on hand rows', async () => {
    await noLeak(async () => {
      const logits = tf.tensor2d(ROWS);
      const classes = tf.tensor1d(CLASSES, 'int32');
      const ce = await values(crossEntropy(logits, classes));
      // Hand values: row 0: log(e + e² + e³) − 3 = 0.40761; row 1: log 3 = 1.09861;
      // row 2: log(e² + e⁻¹ + e^0.5) − (−1) = 3.24131.
      expectClose(ce, [0.4076059644, Math.log(3), 3.2413132]);
      expectClose(
        ce,
        ROWS.map((z, i) => refCrossEntropy(z, CLASSES[i] as number)),
      );
      tf.dispose([logits, classes]);
    });
  });

  it('is stable for large logits (no overflow)', async () => {
    await noLeak(async () => {
      const logits = tf.tensor2d([
        [1000, 0, -1000],
        [500, 501, 499],
      ]);
      const classes = tf.tensor1d([1, 2], 'int32');
      const ce = await values(crossEntropy(logits, classes));
      expectClose(ce, [1000, refCrossEntropy([500, 501, 499], 2)], 3);
      tf.dispose([logits, classes]);
    });
  });

  it('has gradient softmax(z) − onehot(y) w.r.t. the logits', async () => {
    await noLeak(async () => {
      const logits = tf.tensor2d(ROWS);
      const classes = tf.tensor1d(CLASSES, 'int32');
      const g = tf.grad((z: tf.Tensor) => tf.sum(crossEntropy(z as tf.Tensor2D, classes)))(logits);
      const got = await values(g);
      const expected = ROWS.flatMap((z, i) => {
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        return e.map((v, c) => v / s - (c === CLASSES[i] ? 1 : 0));
      });
      expectClose(got, expected);
      // Each row of the gradient sums to 0 (softmax sums to 1, the one-hot too).
      for (let r = 0; r < 3; r++) expect(got[3 * r]! + got[3 * r + 1]! + got[3 * r + 2]!).toBeCloseTo(0, 6);
      tf.dispose([logits, classes]);
    });
  });

  it('keeps the relative precision of the true-class gradient when softmax(z)_y rounds to 1 in float32', async () => {
    // The logits of MNIST test image 23 under the zoo's mnist-mlp (label 5): 1 − softmax(z)_5 ≈ 6.3e-8,
    // below float32's spacing of 1.2e-7 near 1; `softmax − 1` gave −1.19e-7 on cpu and 0 on wasm.
    const z = [-7.9259, -3.3848, -6.3392, 3.2172, -10.2382, 19.9539, 1.2447, -10.6765, -2.0195, -0.6416];
    await noLeak(async () => {
      const logits = tf.tensor2d([z]);
      const classes = tf.tensor1d([5], 'int32');
      const got = await values(tf.grad((t: tf.Tensor) => tf.sum(crossEntropy(t as tf.Tensor2D, classes)))(logits));
      const e = z.map((v) => Math.exp(v - 19.9539));
      const s = e.reduce((a, b) => a + b, 0);
      const expected = e.map((v, c) => v / s - (c === 5 ? 1 : 0));
      expect(expected[5]).toBeCloseTo(-6.29e-8, 9);
      got.forEach((g, c) => expect(Math.abs(g - (expected[c] as number))).toBeLessThanOrEqual(1e-5 * Math.abs(expected[c] as number)));
      tf.dispose([logits, classes]);
    });
  });
});

describe('logitMargin and carliniWagnerLoss', () => {
  it('logitMargin = z_y − max_{i≠y} z_i', async () => {
    await noLeak(async () => {
      const logits = tf.tensor2d(ROWS);
      const classes = tf.tensor1d(CLASSES, 'int32');
      // row 0: 3 − 2 = 1; row 1: 0 − 0 = 0; row 2: −1 − 2 = −3
      expectClose(await values(logitMargin(logits, classes)), [1, 0, -3]);
      tf.dispose([logits, classes]);
    });
  });

  it('carliniWagnerLoss(kappa) = max(margin, −κ), clamping at −κ', async () => {
    await noLeak(async () => {
      const logits = tf.tensor2d(ROWS);
      const classes = tf.tensor1d(CLASSES, 'int32');
      expectClose(await values(carliniWagnerLoss()(logits, classes)), [1, 0, 0]);
      expectClose(await values(carliniWagnerLoss(0.5)(logits, classes)), [1, 0, -0.5]);
      expectClose(await values(carliniWagnerLoss(2)(logits, classes)), [1, 0, -2]);
      // κ larger than every violation: no clamp, equals the margin.
      expectClose(await values(carliniWagnerLoss(5)(logits, classes)), [1, 0, -3]);
      tf.dispose([logits, classes]);
    });
  });

  it('carliniWagnerLoss has zero gradient where clamped and the margin gradient elsewhere', async () => {
    await noLeak(async () => {
      const logits = tf.tensor2d(ROWS);
      const classes = tf.tensor1d(CLASSES, 'int32');
      const g = await values(tf.grad((z: tf.Tensor) => tf.sum(carliniWagnerLoss(0.5)(z as tf.Tensor2D, classes)))(logits));
      // row 0 (margin 1, not clamped): +1 on class 2, −1 on the runner-up class 1.
      // row 2 (margin −3 < −0.5): clamped, zero gradient.
      expectClose(g.slice(0, 3), [0, -1, 1]);
      expectClose(g.slice(6, 9), [0, 0, 0]);
      tf.dispose([logits, classes]);
    });
  });
});

describe('dlr', () => {
  it('equals −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3) on hand rows', async () => {
    await noLeak(async () => {
      // row 0: sorted [4, 3, 1, 0]; y = 0: margin 4 − 3 = 1; denom 4 − 1 = 3 → −1/3
      // row 1: same logits, y = 2: margin 3 − 4 = −1 → +1/3
      // row 2: sorted [2, 0.5, −1, −1]; y = 1: margin 2 − 0.5 = 1.5; denom 2 − (−1) = 3 → −0.5
      const logits = tf.tensor2d([
        [4, 1, 3, 0],
        [4, 1, 3, 0],
        [0.5, 2, -1, -1],
      ]);
      const classes = tf.tensor1d([0, 2, 1], 'int32');
      expectClose(await values(dlr(logits, classes)), [-1 / 3, 1 / 3, -0.5]);
      tf.dispose([logits, classes]);
    });
  });

  it('works on exactly 3 classes', async () => {
    await noLeak(async () => {
      // sorted [5, 2, −1]; y = 2: margin −1 − 5 = −6; denom 6 → 1
      const logits = tf.tensor2d([[2, 5, -1]]);
      const classes = tf.tensor1d([2], 'int32');
      expectClose(await values(dlr(logits, classes)), [1]);
      tf.dispose([logits, classes]);
    });
  });

  it('is invariant to shifting and to positive scaling of the logits', async () => {
    await noLeak(async () => {
      const logits = tf.tensor2d([
        [0.3, -1.2, 2.5, 0.9, -0.4],
        [1.1, 0.2, -0.7, 3.3, 2.0],
      ]);
      const classes = tf.tensor1d([2, 4], 'int32');
      const base = await values(dlr(logits, classes));
      const shifted = tf.add(logits, 7.5) as tf.Tensor2D;
      const scaled = tf.mul(logits, 3) as tf.Tensor2D;
      expectClose(await values(dlr(shifted, classes)), base);
      expectClose(await values(dlr(scaled, classes)), base);
      // And both agree with the closed form: row 0 sorted [2.5, 0.9, 0.3, ...], y = 2:
      // −(2.5 − 0.9)/(2.5 − 0.3); row 1 sorted [3.3, 2.0, 1.1, ...], y = 4: −(2.0 − 3.3)/(3.3 − 1.1).
      expectClose(base, [-(1.6 / 2.2), 1.3 / 2.2]);
      tf.dispose([logits, classes, shifted, scaled]);
    });
  });
});

describe('targetedDlr', () => {
  it('equals −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2) on hand rows', async () => {
    await noLeak(async () => {
      // row 0: z = [4, 1, 3, 0, 2], sorted [4, 3, 2, 1, 0]; y = 0, t = 3: −(4 − 0)/(4 − (2 + 1)/2) = −4/2.5
      // row 1: z = [1, 5, 2, 0, 0], sorted [5, 2, 1, 0, 0]; y = 1, t = 2: −(5 − 2)/(5 − (1 + 0)/2) = −3/4.5
      // row 2: z = [0, 1, 2, 3, 4], sorted [4, 3, 2, 1, 0]; y = 1, t = 4: −(1 − 4)/(4 − (2 + 1)/2) = 3/2.5
      const logits = tf.tensor2d([
        [4, 1, 3, 0, 2],
        [1, 5, 2, 0, 0],
        [0, 1, 2, 3, 4],
      ]);
      const labels = tf.tensor1d([0, 1, 1], 'int32');
      const targets = tf.tensor1d([3, 2, 4], 'int32');
      expectClose(await values(targetedDlr(logits, labels, targets)), [-4 / 2.5, -3 / 4.5, 3 / 2.5]);
      tf.dispose([logits, labels, targets]);
    });
  });

  it('works on exactly 4 classes and is shift/scale invariant', async () => {
    await noLeak(async () => {
      // z = [2, −1, 0.5, 1], sorted [2, 1, 0.5, −1]; y = 3, t = 1: −(1 − (−1))/(2 − (0.5 − 1)/2) = −2/2.25
      const logits = tf.tensor2d([[2, -1, 0.5, 1]]);
      const labels = tf.tensor1d([3], 'int32');
      const targets = tf.tensor1d([1], 'int32');
      const moved = tf.tidy(() => tf.sub(tf.mul(logits, 3), 4) as tf.Tensor2D);
      expectClose(await values(targetedDlr(logits, labels, targets)), [-2 / 2.25]);
      expectClose(await values(targetedDlr(moved, labels, targets)), [-2 / 2.25]);
      tf.dispose([logits, labels, targets, moved]);
    });
  });
});

describe('DLR losses are differentiable (no TopK on the gradient path)', () => {
  it('dlr and targetedDlr gradients equal central finite differences', async () => {
    const z = tf.tensor2d([[2.0, 0.5, 1.2, -0.3, 0.9]]);
    const y = tf.tensor1d([0], 'int32');
    const t = tf.tensor1d([2], 'int32');
    const fns = [(l: tf.Tensor2D) => tf.sum(dlr(l, y)), (l: tf.Tensor2D) => tf.sum(targetedDlr(l, y, t))];
    for (const f of fns) {
      const g = tf.grad((l: tf.Tensor) => f(l as tf.Tensor2D))(z);
      const gv = await g.data();
      const zv = await z.data();
      for (let j = 0; j < 5; j++) {
        const h = 1e-2;
        const plus = Float32Array.from(zv);
        const minus = Float32Array.from(zv);
        plus[j]! += h;
        minus[j]! -= h;
        const fp = tf.tidy(() => f(tf.tensor2d(plus, [1, 5])));
        const fm = tf.tidy(() => f(tf.tensor2d(minus, [1, 5])));
        const fd = ((await fp.data())[0]! - (await fm.data())[0]!) / (2 * h);
        tf.dispose([fp, fm]);
        expect(gv[j]).toBeCloseTo(fd, 2);
      }
      g.dispose();
    }
    tf.dispose([z, y, t]);
  });
});
