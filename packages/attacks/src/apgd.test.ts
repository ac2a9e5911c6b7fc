import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { crossEntropy, dlr, fromFunction, Rng, type Model } from '@advx/core';
import { assertConformance, checkAttack, linearModel } from '@advx/core/testing';

import { expectCode, imageMlp, maxDiff, mislabelledBatch, rows, seededMlp } from '../test/fixtures.js';
import { apgd, apgdCe, apgdDlr } from './apgd.js';
import { apgdCheckpoints, ApgdL1StepSize, apgdStepSizeTrace } from './internal/apgd-engine.js';
import { apgdT } from './apgd-t.js';
import { pgd } from './pgd.js';

// A 4-input, 3-class linear model on [0, 1] (hand-computable gradients).
const W = [
  [1, -1, 0.5, 0],
  [-1, 1, 0, 0.5],
  [0, 0, -0.5, -0.5],
];
const B = [0, 0, 0.6];
const linear = linearModel({ weights: W, bias: B });
const xLin = tf.tensor2d([
  [0.6, 0.4, 0.5, 0.5],
  [0.3, 0.7, 0.4, 0.6],
  [0.5, 0.5, 0.2, 0.1],
  [0.8, 0.1, 0.9, 0.3],
  [0.2, 0.9, 0.1, 0.8],
  [0.45, 0.55, 0.3, 0.2],
]);
const yLin = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');

const mlp = seededMlp(1);
const mlpTimes8 = seededMlp(1, 8);
const mlpTimes10 = seededMlp(1, 10);
const { x: xMlp, labels: yMlp } = mislabelledBatch(mlp);

afterAll(() => tf.dispose([xLin, yLin, xMlp, yMlp]));

async function lossOf(model: Model, x: tf.Tensor, y: tf.Tensor1D, loss: 'ce' | 'dlr'): Promise<number[]> {
  const v = tf.tidy(() => (loss === 'ce' ? crossEntropy(model.logits(x), y) : dlr(model.logits(x), y)));
  const out = Array.from(await v.data());
  v.dispose();
  return out;
}

/** Samples fooled at any iterate of `steps` fixed-size Linf sign steps from x (PGD without random start). */
async function signPgdSuccesses(model: Model, x: tf.Tensor, y: tf.Tensor1D, eps: number, alpha: number, steps: number): Promise<number> {
  const labels = Array.from(await y.data());
  let xa = tf.clone(x);
  const fooled = new Set<number>();
  for (let k = 0; k < steps; k++) {
    const g = tf.grad((z: tf.Tensor) => tf.sum(crossEntropy(model.logits(z), y)))(xa);
    const next = tf.tidy(() => tf.clipByValue(tf.add(x, tf.clipByValue(tf.sub(tf.add(xa, tf.mul(tf.sign(g), alpha)), x), -eps, eps)), 0, 1));
    tf.dispose([xa, g]);
    xa = next;
    const pred = tf.tidy(() => tf.argMax(model.logits(xa), 1));
    (await pred.data()).forEach((p, i) => p !== labels[i] && fooled.add(i));
    pred.dispose();
  }
  xa.dispose();
  return fooled.size;
}

/** Softmax probabilities and the CE gradient Σ_k (p_k − [k = y]) W_k of the linear model, in float64. */
function linearCe(x: number[], y: number): { f: number; g: number[]; pred: number } {
  const z = W.map((w, c) => w.reduce((s, wj, j) => s + wj * (x[j] as number), B[c] as number));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((s, v) => s + v, 0);
  const p = e.map((v) => v / sum);
  const g = x.map((_, j) => W.reduce((s, w, k) => s + ((p[k] as number) - (k === y ? 1 : 0)) * (w[j] as number), 0));
  return { f: -Math.log(p[y] as number), g, pred: z.indexOf(m) };
}

/**
 * Algorithm 1 of Croce & Hein (2020) for Linf, written from the paper in float64 for one sample of the
 * linear model, with earlyStop off (returns the adversarial iterate of highest loss, else x_max).
 * Also returns the smallest |gradient entry| and the smallest gap between compared losses, so the
 * test can check that float32 cannot flip a sign or a comparison.
 */
function referenceApgd(x0: number[], y: number, eps: number, checkpoints: number[], steps: number) {
  const P = (v: number[]) => v.map((vi, j) => Math.min(1, Math.max(0, Math.min((x0[j] as number) + eps, Math.max((x0[j] as number) - eps, vi)))));
  let minGrad = Infinity;
  let minGap = Infinity;
  const sign = (g: number[]) => g.map((gj) => ((minGrad = Math.min(minGrad, Math.abs(gj))), Math.sign(gj)));
  // Exact ties come from identical points (an iterate stuck on a corner) and are ties in float32 too.
  const compare = (a: number, b: number) => (a !== b && (minGap = Math.min(minGap, Math.abs(a - b))), a > b);
  let eta = 2 * eps;
  const xs: number[][] = [x0];
  const fs: number[] = [linearCe(x0, y).f];
  let gk = linearCe(x0, y).g;
  let xMax = x0;
  let fMax = fs[0] as number;
  let best: { x: number[]; f: number } | undefined;
  const record = (x: number[]) => {
    const r = linearCe(x, y);
    if (r.pred !== y && (!best || compare(r.f, best.f))) best = { x, f: r.f };
    return r;
  };
  record(x0);
  const x1 = P(x0.map((v, j) => v + eta * (sign(gk)[j] as number)));
  let r = record(x1);
  xs.push(x1);
  fs.push(r.f);
  gk = r.g;
  if (compare(r.f, fMax)) {
    fMax = r.f;
    xMax = x1;
  }
  let lastCheck = 0;
  let fMaxAtCheck = fs[0] as number;
  let halvedAtCheck = false;
  for (let k = 1; k < steps; k++) {
    const xk = xs[k] as number[];
    const prev = xs[k - 1] as number[];
    const s = sign(gk);
    const z = P(xk.map((v, j) => v + eta * (s[j] as number)));
    let next = P(xk.map((v, j) => v + 0.75 * ((z[j] as number) - v) + 0.25 * (v - (prev[j] as number))));
    r = record(next);
    let fNext = r.f;
    let gNext = r.g;
    if (compare(r.f, fMax)) {
      fMax = r.f;
      xMax = next;
    }
    if (checkpoints.includes(k)) {
      let increases = 0;
      for (let i = lastCheck; i < k; i++) if (compare(fs[i + 1] as number, fs[i] as number)) increases++;
      const condition1 = increases < 0.75 * (k - lastCheck);
      const condition2: boolean = !halvedAtCheck && fMax === fMaxAtCheck;
      halvedAtCheck = condition1 || condition2;
      if (halvedAtCheck) {
        eta /= 2;
        next = xMax;
        fNext = fMax;
        gNext = linearCe(xMax, y).g;
      }
      fMaxAtCheck = fMax;
      lastCheck = k;
    }
    xs.push(next);
    fs.push(fNext);
    gk = gNext;
  }
  const b = best as { x: number[]; f: number } | undefined;
  return { out: b ? b.x : xMax, minGrad, minGap };
}

describe('apgd: conformance', () => {
  it('APGD-CE, linf, on the linear model (untargeted and targeted)', async () => {
    assertConformance(
      await checkAttack(apgd({ steps: 10 }), { model: linear, x: xLin, labels: yLin, epsilons: [0.05, 0.3, 0.6], minSuccess: 1, minTargetedSuccess: 0.8 }),
    );
  });
  it('APGD-CE, l2, on the linear model', async () => {
    assertConformance(
      await checkAttack(apgd({ steps: 10, norm: 'l2' }), {
        model: linear,
        x: xLin,
        labels: yLin,
        epsilons: [0.1, 0.5, 1],
        minSuccess: 1,
        minTargetedSuccess: 0.8,
      }),
    );
  });
  it('APGD-DLR, linf, on the ReLU network (targeted DLR for the targeted check)', async () => {
    assertConformance(
      await checkAttack(apgd({ steps: 10, loss: 'dlr' }), {
        model: mlp,
        x: xMlp,
        labels: yMlp,
        epsilons: [0.02, 0.1, 0.3],
        minSuccess: 1,
        minTargetedSuccess: 0.8,
      }),
    );
  });
  it('APGD-DLR, l2, on the ReLU network', async () => {
    assertConformance(
      await checkAttack(apgd({ steps: 10, loss: 'dlr', norm: 'l2' }), {
        model: mlp,
        x: xMlp,
        labels: yMlp,
        epsilons: [0.1, 0.5, 1.5],
        minSuccess: 1,
        minTargetedSuccess: 0.8,
      }),
    );
  });
});

describe('apgd: checkpoints and step size (Croce & Hein 2020, §3.2)', () => {
  it('w_j = ⌈p_j·N⌉ with p = 0, 0.22, 0.41, 0.57, 0.70, 0.80, 0.87, 0.93, 0.99, … (N = 100, 10, 5, 2, 1)', () => {
    expect(apgdCheckpoints(100)).toEqual([0, 22, 41, 57, 70, 80, 87, 93, 99]);
    // 0.70·10 and 0.80·10 are exact: ⌈7⌉ = 7 and ⌈8⌉ = 8 (floating point would give 8 and 9).
    expect(apgdCheckpoints(10)).toEqual([0, 3, 5, 6, 7, 8, 9]);
    // ⌈1.1⌉ = 2, ⌈2.05⌉ = 3, ⌈2.85⌉ = 3 (merged), ⌈3.5⌉ = 4, ⌈4.0⌉ = 4 (merged), ⌈4.35⌉ = 5 ≥ N.
    expect(apgdCheckpoints(5)).toEqual([0, 2, 3, 4]);
    expect(apgdCheckpoints(2)).toEqual([0, 1]);
    expect(apgdCheckpoints(1)).toEqual([0]);
  });

  it('a loss that increases at every step never halves η', () => {
    const { halvedAt, eta } = apgdStepSizeTrace(Array.from({ length: 101 }, (_, k) => k));
    expect(halvedAt).toEqual([]);
    expect(eta.at(-1)).toBe(1);
  });

  it('a constant loss halves η at every checkpoint (condition 1: no increase)', () => {
    const { halvedAt, eta } = apgdStepSizeTrace(new Array<number>(101).fill(0));
    expect(halvedAt).toEqual([22, 41, 57, 70, 80, 87, 93, 99]);
    expect(eta.at(-1)).toBe(2 ** -8);
    expect(eta[21]).toBe(1);
    expect(eta[22]).toBe(0.5);
  });

  it('condition 2 halves η when f_max is unchanged and η was not halved at the previous checkpoint', () => {
    // f(x⁰) = 100 is never beaten; afterwards the loss rises 1, 2, 3, … so condition 1 never holds.
    // At 22: 21 of 22 comparisons increase (≥ 16.5), f_max = 100 unchanged since w₀ → halve, x²³ := x_max.
    // At 41: window i = 22…40: f(x²³) = 100 > 22 up, 24 < 100 down, then 17 ups → 18 ≥ 14.25; halved at 22 → keep.
    // At 57: 16 of 16 up, not halved at 41, f_max unchanged → halve. At 70: 12 of 13 up ≥ 9.75 → keep.
    // At 80: halve (condition 2). At 87: 6 of 7 ≥ 5.25 → keep. At 93: halve. At 99: 5 of 6 ≥ 4.5 → keep.
    const losses = Array.from({ length: 101 }, (_, k) => (k === 0 ? 100 : k));
    expect(apgdStepSizeTrace(losses).halvedAt).toEqual([22, 57, 80, 93]);
  });

  it('condition 1 is strict: exactly ρ·(w_j − w_{j−1}) increases does not halve', () => {
    // Up, down, up, down, … with a rising trend: 11 of the 22 comparisons of window 1 increase and f_max grows.
    const losses = Array.from({ length: 101 }, (_, k) => (k % 2 === 0 ? k / 2 : k / 2 + 1));
    expect(apgdStepSizeTrace(losses, 0.5).halvedAt).not.toContain(22);
    expect(apgdStepSizeTrace(losses, 0.75).halvedAt).toContain(22);
  });
});

describe('apgd: closed-form answers on the linear model', () => {
  it('one step from x is x + 2ε·sign(∇CE) projected: x + ε·sign(∇CE), clipped to the bounds', async () => {
    const eps = 0.05;
    const r = await apgd({ steps: 1, randomStart: false }).run(linear, xLin, { labels: yLin }, { epsilons: [eps] });
    const xs = await rows(xLin);
    const ys = Array.from(await yLin.data());
    const out = await rows(r.clipped[0] as tf.Tensor);
    xs.forEach((row, i) => {
      const { g } = linearCe(row, ys[i] as number);
      row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(Math.min(1, Math.max(0, v + eps * Math.sign(g[j] as number))), 6));
    });
    r.dispose();
  });

  it('one l2 step is x + ε·∇/‖∇‖₂ (the 2ε step projected onto the ball)', async () => {
    const eps = 0.1;
    const r = await apgd({ steps: 1, randomStart: false, norm: 'l2' }).run(linear, xLin, { labels: yLin }, { epsilons: [eps] });
    const xs = await rows(xLin);
    const ys = Array.from(await yLin.data());
    const out = await rows(r.clipped[0] as tf.Tensor);
    xs.forEach((row, i) => {
      const { g } = linearCe(row, ys[i] as number);
      const norm = Math.hypot(...g);
      // Every coordinate of this fixture stays inside [0, 1], so no clipping happens.
      row.forEach((v, j) => expect(out[i]?.[j]).toBeCloseTo(v + (eps * (g[j] as number)) / norm, 5));
    });
    r.dispose();
  });

  it('five Linf steps with momentum and step-size halving match Algorithm 1 written independently in float64', async () => {
    const steps = 5;
    const xs = await rows(xLin);
    const ys = Array.from(await yLin.data());
    for (const eps of [0.05, 0.15]) {
      const r = await apgd({ steps, randomStart: false, earlyStop: false }).run(linear, xLin, { labels: yLin }, { epsilons: [eps] });
      const out = await rows(r.clipped[0] as tf.Tensor);
      xs.forEach((row, i) => {
        // Checkpoints of N = 5 computed by hand: ⌈1.1⌉ = 2, ⌈2.05⌉ = 3, ⌈3.5⌉ = 4.
        const ref = referenceApgd(row, ys[i] as number, eps, [2, 3, 4], steps);
        expect(ref.minGrad, `sample ${i}: a gradient entry is too close to 0 for a float32 comparison`).toBeGreaterThan(1e-3);
        expect(ref.minGap, `sample ${i}: two compared losses are too close for a float32 comparison`).toBeGreaterThan(1e-5);
        ref.out.forEach((v, j) => expect(out[i]?.[j], `sample ${i}, entry ${j}, eps ${eps}`).toBeCloseTo(v, 5));
      });
      r.dispose();
    }
  });
});

describe('apgd: invariants', () => {
  it('the returned point has a loss ≥ the loss at the start for every sample (best-point bookkeeping)', async () => {
    // Without early stop a sample returns x_max, or the adversarial iterate of highest loss if it has one;
    // for DLR (> 0 exactly when misclassified) that is x_max too.
    for (const [loss, eps] of [
      ['ce', 0.003],
      ['dlr', 0.02],
    ] as const) {
      const r = await apgd({ steps: 30, loss, randomStart: false, earlyStop: false }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [eps] });
      const start = await lossOf(mlp, xMlp, yMlp, loss);
      const end = await lossOf(mlp, r.clipped[0] as tf.Tensor, yMlp, loss);
      end.forEach((f, i) => expect(f, `${loss}, sample ${i}`).toBeGreaterThanOrEqual((start[i] as number) - 1e-6));
      // Row 11 is misclassified already and comes back unchanged; every other loss rose.
      expect(end[11]).toBe(start[11]);
      expect(end.filter((f, i) => f > (start[i] as number)).length, `${loss}: samples whose loss rose`).toBe(11);
      r.dispose();
    }
  });

  it('DLR is invariant to scaling the logits: ×8 gives the identical APGD-DLR result, ×10 the same successes (same seed)', async () => {
    for (const norm of ['linf', 'l2'] as const) {
      const epsilons = norm === 'linf' ? [0.01, 0.03] : [0.05, 0.2];
      const dlrAttack = apgd({ loss: 'dlr', steps: 30, norm, earlyStop: false });
      const ceAttack = apgd({ loss: 'ce', steps: 30, norm, earlyStop: false });
      const base = await dlrAttack.run(mlp, xMlp, { labels: yMlp }, { epsilons, seed: 3 });
      // ×8 is exact in float32, so the invariance holds bit for bit.
      const times8 = await dlrAttack.run(mlpTimes8, xMlp, { labels: yMlp }, { epsilons, seed: 3 });
      // ×10 perturbs the last bits of every logit; a discrete decision (a sign, a comparison) may then flip
      // on some iterate, so only the outcome is compared.
      const times10 = await dlrAttack.run(mlpTimes10, xMlp, { labels: yMlp }, { epsilons, seed: 3 });
      const ceBase = await ceAttack.run(mlp, xMlp, { labels: yMlp }, { epsilons, seed: 3 });
      const ce8 = await ceAttack.run(mlpTimes8, xMlp, { labels: yMlp }, { epsilons, seed: 3 });
      for (let e = 0; e < epsilons.length; e++) {
        expect(await maxDiff(base.clipped[e] as tf.Tensor, times8.clipped[e] as tf.Tensor), `${norm}, eps ${epsilons[e]}`).toBe(0);
        expect(times8.success[e]).toEqual(base.success[e]);
        expect(times10.success[e]).toEqual(base.success[e]);
        // CE is not scale-invariant: the same check fails for APGD-CE, so the test can tell the losses apart.
        expect(await maxDiff(ceBase.clipped[e] as tf.Tensor, ce8.clipped[e] as tf.Tensor)).toBeGreaterThan(1e-3);
      }
      expect(base.success[0]?.some(Boolean) && !base.success[0]?.every(Boolean), 'the fixture must be partly robust').toBe(true);
      tf.dispose([base, times8, times10, ceBase, ce8].flatMap((r) => [r.raw, ...r.clipped]));
    }
  });

  it('same seed → identical output; a batch of N equals N single runs (restarts, random starts, no early stop)', async () => {
    const attack = apgd({ steps: 15, restarts: 3, earlyStop: false });
    const full = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.02], seed: 5 });
    const again = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.02], seed: 5 });
    expect(await maxDiff(full.clipped[0] as tf.Tensor, again.clipped[0] as tf.Tensor)).toBe(0);
    const singles = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.02], seed: 5, batchSize: 1 });
    expect(await maxDiff(full.clipped[0] as tf.Tensor, singles.clipped[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(singles.success).toEqual(full.success);
    const other = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.02], seed: 6 });
    expect(await maxDiff(full.clipped[0] as tf.Tensor, other.clipped[0] as tf.Tensor)).toBeGreaterThan(0);
    tf.dispose([full, again, singles, other].flatMap((r) => [r.raw, ...r.clipped]));
  });

  it('with early stop, rows that found an adversarial leave the run: a batch still equals single runs, with fewer passes (linf, l2, l1)', async () => {
    const steps = 40;
    for (const [norm, eps] of [
      ['linf', 0.03],
      ['l2', 0.1],
      ['l1', 0.4],
    ] as const) {
      const attack = apgd({ norm, steps, restarts: 2 });
      const full = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [eps], seed: 5 });
      const singles = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [eps], seed: 5, batchSize: 1 });
      const ok = full.success[0]!.filter(Boolean).length;
      expect(ok, `${norm}: some rows succeed, not all`).toBeGreaterThan(2);
      expect(ok, norm).toBeLessThan(12);
      expect(await maxDiff(full.clipped[0] as tf.Tensor, singles.clipped[0] as tf.Tensor), norm).toBeLessThan(1e-6);
      expect(singles.success, norm).toEqual(full.success);
      // Single rows never compute a finished row; the batch computes at most a third more than they do.
      const [pb, ps] = [full.passes!.backward, singles.passes!.backward];
      expect(pb, norm).toBeGreaterThanOrEqual(ps);
      expect(pb, norm).toBeLessThanOrEqual((4 / 3) * ps + 12);
      tf.dispose([full, singles].flatMap((r) => [r.raw, ...r.clipped]));
    }
  });

  it('more restarts never lose a success (the first run is the same, later runs only attack the survivors)', async () => {
    for (const loss of ['ce', 'dlr'] as const) {
      const one = await apgd({ steps: 10, loss }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.01], seed: 2 });
      const four = await apgd({ steps: 10, loss, restarts: 4 }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.01], seed: 2 });
      one.success[0]?.forEach((ok, i) => {
        if (ok) expect(four.success[0]?.[i], `${loss}, sample ${i}`).toBe(true);
      });
      one.dispose();
      four.dispose();
    }
  });

  // Skipped on wasm: the Gaussian-peak fixture below has no usable gradient there (wasm's exp/sign
  // round its tiny values to 0), so both methods find nothing; the comparison runs on cpu.
  it.skipIf(process.env.ADVX_BACKEND === 'wasm')('APGD-CE succeeds at least as often as fixed-step sign PGD with the same number of steps', async () => {
    const steps = 10;
    // The seeded ReLU network: every method finds the same adversarials here (a tie is allowed).
    const eps = 0.02;
    const r = await apgd({ steps, randomStart: false }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [eps] });
    const apgdCount = r.success[0]?.filter(Boolean).length ?? 0;
    r.dispose();
    for (const alpha of [(2.5 * eps) / steps, eps / 4, eps / 10]) {
      expect(apgdCount).toBeGreaterThanOrEqual(await signPgdSuccesses(mlp, xMlp, yMlp, eps, alpha, steps));
    }

    // A 2-layer network with a Gaussian activation whose adversarial region is a narrow peak inside the
    // ball (width 0.2ε around seeded centres): fixed sign steps of Madry et al.'s size 2.5ε/N oscillate
    // around the peak, APGD halves η and lands on it.
    const d = 8;
    const ball = 0.1;
    const rng = new Rng(3);
    const centres = Array.from({ length: d }, () => 0.3 + 0.4 * rng.uniform());
    const c = tf.tensor1d(centres);
    const peak = fromFunction(
      (x) =>
        tf.tidy(() => {
          const h = tf.exp(tf.neg(tf.square(tf.div(tf.sub(x, c), 0.2 * ball))));
          const m = x.shape[0] as number;
          return tf.concat([tf.fill([m, 1], 2.5), tf.mul(tf.sum(h, 1, true), 3 / d), tf.zeros([m, 1])], 1) as tf.Tensor2D;
        }),
      { inputShape: [d], numClasses: 3, bounds: [0, 1], output: 'logits' },
    );
    const xPeak = tf.tensor2d(
      Array.from({ length: 16 * d }, (_, i) => (centres[i % d] as number) + (rng.uniform() * 1.6 - 0.8) * ball),
      [16, d],
    );
    const yPeak = tf.zeros([16], 'int32') as tf.Tensor1D;
    const rp = await apgd({ steps, randomStart: false }).run(peak, xPeak, { labels: yPeak }, { epsilons: [ball] });
    const apgdPeak = rp.success[0]?.filter(Boolean).length ?? 0;
    rp.dispose();
    expect(apgdPeak).toBeGreaterThan(await signPgdSuccesses(peak, xPeak, yPeak, ball, (2.5 * ball) / steps, steps));
    expect(apgdPeak).toBeGreaterThanOrEqual(await signPgdSuccesses(peak, xPeak, yPeak, ball, ball / 4, steps));
    tf.dispose([c, xPeak, yPeak]);
  });
});

describe('apgd: presets, losses and validation', () => {
  it('apgdCe and apgdDlr are apgd with loss ce and dlr, registered under their own names', async () => {
    expect([apgd.meta.name, apgdCe.meta.name, apgdDlr.meta.name]).toEqual(['apgd', 'apgd-ce', 'apgd-dlr']);
    expect('loss' in apgdCe.defaults).toBe(false);
    for (const [preset, loss] of [
      [apgdCe, 'ce'],
      [apgdDlr, 'dlr'],
    ] as const) {
      const a = await preset({ steps: 8, norm: 'l2' }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.1], seed: 4 });
      const b = await apgd({ steps: 8, norm: 'l2', loss }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.1], seed: 4 });
      expect(await maxDiff(a.clipped[0] as tf.Tensor, b.clipped[0] as tf.Tensor)).toBe(0);
      a.dispose();
      b.dispose();
    }
  });

  it('the DLR loss (core dlr) has the hand-derived gradient', async () => {
    const logits = tf.tensor2d([
      [3, 1, 0, -1],
      [0.5, 2, -1, 1],
      [1, 1, 1, 0],
    ]);
    const classes = tf.tensor1d([0, 2, 1], 'int32');
    // Row 0: L = −(π1 − π2)/(π1 − π3) with π = 3, 1, 0: ∂L/∂π1 = −(π2 − π3)/(π1 − π3)² = −1/9,
    // ∂L/∂π2 = 1/(π1 − π3) = 1/3, ∂L/∂π3 = (π1 − π2)·(−1)/(π1 − π3)² = −2/9, ∂L/∂π4 = 0.
    const g = tf.grad((z: tf.Tensor) => tf.sum(dlr(z as tf.Tensor2D, tf.tensor1d([0], 'int32'))))(tf.slice(logits, [0, 0], [1, 4]));
    const row = Array.from(await g.data());
    [-1 / 9, 1 / 3, -2 / 9, 0].forEach((v, j) => expect(row[j]).toBeCloseTo(v, 6));
    tf.dispose([logits, classes, g]);
  });

  it('rejects bad options with INVALID_OPTION', async () => {
    const bad: Record<string, unknown>[] = [
      { steps: 0 },
      { steps: 1.5 },
      { restarts: 0 },
      { rho: 1.5 },
      { rho: -0.1 },
      { alpha: 0 },
      { alpha: 1.2 },
      { loss: 'margin' },
      { randomStart: 'yes' },
      { numTargets: 3 },
    ];
    for (const options of bad) {
      await expectCode('INVALID_OPTION', () => apgd(options as Parameters<typeof apgd>[0]));
    }
    await expectCode('INVALID_OPTION', () => apgdCe({ loss: 'dlr' } as Parameters<typeof apgdCe>[0]));
    expect(apgd({ alpha: 1, rho: 0 }).options.alpha).toBe(1);
  });

  it('DLR on too few classes fails with INVALID_OPTION at run time and leaks nothing', async () => {
    const twoClass = linearModel({
      weights: [
        [1, -1],
        [-1, 1],
      ],
    });
    const x2 = tf.tensor2d([[0.6, 0.4]]);
    const y2 = tf.tensor1d([0], 'int32');
    await expectCode('INVALID_OPTION', () => apgd({ loss: 'dlr', steps: 2 }).run(twoClass, x2, { labels: y2 }, { epsilons: [0.1] }));
    // Targeted DLR needs 4 classes: the 3-class linear model is enough for untargeted DLR only.
    const t = tf.tensor1d([1, 2, 0, 1, 2, 0], 'int32');
    await expectCode('INVALID_OPTION', () => apgdDlr({ steps: 2 }).run(linear, xLin, { targets: t, labels: yLin }, { epsilons: [0.1] }));
    const ok = await apgdDlr({ steps: 2 }).run(linear, xLin, { labels: yLin }, { epsilons: [0.1] });
    ok.dispose();
    tf.dispose([x2, y2, t]);
  });
});

type Ce = (x: number[], y: number) => { f: number; g: number[]; pred: number };

/** CE value, gradient and prediction of the linear model `z = W·x + b`, in float64. */
function linearCeFor(w: number[][], b: number[]): Ce {
  return (x, y) => {
    const z = w.map((wc, c) => wc.reduce((s, wj, j) => s + wj * (x[j] as number), b[c] as number));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const sum = e.reduce((s, v) => s + v, 0);
    const p = e.map((v) => v / sum);
    const g = x.map((_, j) => w.reduce((s, wk, k) => s + ((p[k] as number) - (k === y ? 1 : 0)) * (wk[j] as number), 0));
    return { f: -Math.log(p[y] as number), g, pred: z.indexOf(m) };
  };
}

/**
 * The projection onto {‖δ‖₁ ≤ ε} ∩ {0 ≤ x + δ ≤ 1} in float64, by bisection on the multiplier λ of
 * δᵢ = sign(vᵢ)·min(max(|vᵢ| − λ, 0), uᵢ) (independent of the breakpoint sort of the implementation).
 */
function projectReference(x: number[], v: number[], eps: number): number[] {
  const at = (lambda: number) =>
    v.map((vi, i) => Math.sign(vi) * Math.min(Math.max(Math.abs(vi) - lambda, 0), Math.max(0, vi >= 0 ? 1 - (x[i] as number) : (x[i] as number))));
  const h = (lambda: number) => at(lambda).reduce((s, di) => s + Math.abs(di), 0);
  if (h(0) <= eps) return at(0);
  let a = 0;
  let b = Math.max(...v.map(Math.abs));
  for (let i = 0; i < 200; i++) {
    const m = (a + b) / 2;
    if (h(m) > eps) a = m;
    else b = m;
  }
  return at((a + b) / 2);
}

/**
 * l1-APGD (Croce & Hein 2021, the L1 branch of the authors' autopgd_base.py) written from the paper
 * in float64 for one sample of the linear model, from x, with earlyStop off: η₀ = ε, sparse step on
 * the top coordinates of |g| (blocked ones left out), exact projection, no momentum, a checkpoint
 * every max(⌊0.04·N⌋, 1) iterations adapting the sparsity and η. Returns the adversarial iterate of
 * highest loss, else x_max, and the smallest gaps of the discrete decisions (for a float32 margin).
 */
function referenceApgdL1(ce: Ce, x0: number[], y: number, eps: number, steps: number) {
  const d = x0.length;
  let minGap = Infinity;
  // Differences below 1e-12 come from the same point reached along two float64 paths (a step the
  // projection undoes): float32 sees identical points there, and either branch keeps that point.
  const compare = (a: number, b: number) => (Math.abs(a - b) > 1e-12 && (minGap = Math.min(minGap, Math.abs(a - b))), a > b);
  let eta = eps;
  let topk = 0.2;
  let spOld = d;
  const interval = Math.max(Math.floor(0.04 * steps), 1);
  let xk = x0;
  let { f: fMax, g: gk } = ce(x0, y);
  let xMax = x0;
  let gMax = gk;
  let best: { x: number[]; f: number } | undefined;
  for (let k = 0; k < steps; k++) {
    const count = d - Math.min(Math.max(Math.floor((1 - topk) * d), 0), d - 1);
    const g = gk;
    const xs = xk;
    const mag = g.map((gj, j) => (((xs[j] as number) <= 0 && gj < 0) || ((xs[j] as number) >= 1 && gj > 0) ? 0 : Math.abs(gj)));
    const sorted = [...mag].sort((a, b) => b - a);
    const threshold = sorted[count - 1] as number;
    sorted.forEach((m, j) => j > 0 && m !== sorted[j - 1] && (minGap = Math.min(minGap, Math.abs(m - (sorted[j - 1] as number)))));
    const chosen = mag.map((m) => m >= threshold && m > 0);
    const n = Math.max(1, chosen.filter(Boolean).length);
    const v = xk.map((xj, j) => xj + (chosen[j] ? (eta * Math.sign(g[j] as number)) / n : 0) - (x0[j] as number));
    const delta = projectReference(x0, v, eps);
    const next = x0.map((xj, j) => Math.min(1, Math.max(0, xj + (delta[j] as number))));
    const r = ce(next, y);
    if (r.pred !== y && (!best || compare(r.f, best.f))) best = { x: next, f: r.f };
    if (compare(r.f, fMax)) {
      fMax = r.f;
      xMax = next;
      gMax = r.g;
    }
    xk = next;
    gk = r.g;
    if ((k + 1) % interval === 0) {
      // Equal step shares can put λ exactly on a breakpoint (a coordinate projected to exactly 0);
      // bisection leaves ~1e-17 there, so entries below 1e-12 count as unchanged, and any entry
      // that is neither clearly 0 nor clearly moved is reported as a gap.
      const moved = xMax.map((v2, j) => Math.abs(v2 - (x0[j] as number)));
      moved.forEach((m) => m > 1e-12 && (minGap = Math.min(minGap, m)));
      const sp = moved.filter((m) => m > 1e-12).length;
      const reset = sp / spOld < 0.95;
      topk = sp / d / 1.5;
      eta = Math.min(Math.max(reset ? eps : eta / 1.5, eps / 10), eps);
      spOld = sp;
      if (reset) {
        xk = xMax;
        gk = gMax;
      }
    }
  }
  return { out: best ? best.x : xMax, minGap };
}

describe('apgd: l1 (Croce & Hein 2021, "Mind the box")', () => {
  it('conformance: APGD-CE and APGD-DLR with norm l1 on the linear model and the ReLU network', async () => {
    assertConformance(
      await checkAttack(apgd({ steps: 10, norm: 'l1' }), {
        model: linear,
        x: xLin,
        labels: yLin,
        epsilons: [0.1, 0.5, 1.5],
        minSuccess: 1,
        minTargetedSuccess: 0.8,
      }),
    );
    assertConformance(
      await checkAttack(apgd({ steps: 10, norm: 'l1', loss: 'dlr' }), {
        model: mlp,
        x: xMlp,
        labels: yMlp,
        epsilons: [0.1, 0.5, 2],
        minSuccess: 1,
        minTargetedSuccess: 0.8,
      }),
    );
  });

  it('the step-size and sparsity rule: η₀ = ε, 20 % of the coordinates, checkpoints every max(⌊0.04·N⌋, 1) iterations', () => {
    const rule = new ApgdL1StepSize([0, 0], 12, 100, 784);
    expect(rule.interval).toBe(4);
    expect(new ApgdL1StepSize([0], 1, 10, 4).interval).toBe(1);
    expect(Array.from(rule.eta)).toEqual([12, 12]);
    // ⌊0.8·784⌋ = 627: the 784 − 627 = 157 largest entries move.
    expect(Array.from(rule.coordinates())).toEqual([157, 157]);
    expect([0, 1, 2, 3, 7].map((k) => rule.isCheckpoint(k))).toEqual([false, false, false, true, true]);
    expect(Array.from(rule.observe([1, -1]))).toEqual([1, 0]);
    expect(Array.from(rule.fMax)).toEqual([1, 0]);
    // Row 0 got sparse (150/784 < 0.95): η back to ε, restart from x_max; row 1 kept all 784: η/1.5.
    expect(Array.from(rule.check([150, 784]))).toEqual([1, 0]);
    expect(Array.from(rule.eta)).toEqual([12, 8]);
    // topk = s/(1.5·d): 150/1176 → 784 − ⌊(1 − 150/1176)·784⌋ = 100; 784/1176 → 784 − ⌊261.33⌋ = 523.
    expect(Array.from(rule.coordinates())).toEqual([100, 523]);
    // Unchanged sparsity: η/1.5 per checkpoint until the floor ε/10 (12/1.5⁶ < 1.2).
    for (let c = 0; c < 3; c++) rule.check([150, 784]);
    expect(rule.eta[0]).toBeCloseTo(12 / 1.5 ** 3, 12);
    expect(rule.eta[1]).toBeCloseTo(8 / 1.5 ** 3, 12);
    for (let c = 0; c < 3; c++) rule.check([150, 784]);
    expect(Array.from(rule.eta)).toEqual([1.2, 1.2]);
    // Sparsity 0 (x_max = x) moves only the single largest entry.
    rule.check([0, 784]);
    expect(rule.coordinates()[0]).toBe(1);
  });

  it('one step from x moves the top 20 % of the unblocked coordinates by ε/k along sign(g) (no clipping needed)', async () => {
    // 10 inputs, 3 classes; x = 0.5 except coordinates on a bound whose gradient points out of the box.
    const w = [
      [1, -2, 0.5, 3, -1, 0.2, 0.7, -0.4, 2.5, -0.1],
      [-1, 1, 0, -0.5, 0.5, 0, 0.3, 0.2, 0, 0.6],
      [0, 0.5, -0.5, 0, 0, 0.4, -0.6, 0, -1, 0],
    ];
    // The bias keeps both rows classified as 0.
    const model = linearModel({ weights: w, bias: [2, 0, 0] });
    const x = tf.tensor2d([
      [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
      [0.5, 0.5, 0.5, 0, 0.5, 0.5, 0.5, 0.5, 0, 0.5],
    ]);
    const y = tf.tensor1d([0, 0], 'int32');
    const eps = 0.2;
    const r = await apgd({ norm: 'l1', steps: 1, randomStart: false, earlyStop: false }).run(model, x, { labels: y }, { epsilons: [eps] });
    const out = await rows(r.clipped[0] as tf.Tensor);
    const g = tf.grad((z: tf.Tensor) => tf.sum(crossEntropy(model.logits(z), y)))(x);
    const gs = await rows(g);
    // k = 10 − ⌊0.8·10⌋ = 2. Row 0: the two largest |g|. Row 1: coordinates 3 and 8 sit at 0 with
    // a gradient pushing them below 0 (class 0's weights are the largest there), so they are skipped.
    const xs = await rows(x);
    xs.forEach((row, i) => {
      const gi = gs[i] as number[];
      const order = gi
        .map((gj, j) => [j, gj] as const)
        .filter(([j, gj]) => !(row[j] === 0 && gj < 0))
        .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
      const top = new Set(order.slice(0, 2).map(([j]) => j));
      if (i === 1) expect(gi[3]! < 0 && gi[8]! < 0, 'the fixture must block coordinates 3 and 8').toBe(true);
      row.forEach((v, j) => expect(out[i]?.[j], `row ${i}, entry ${j}`).toBeCloseTo(top.has(j) ? v + (eps / 2) * Math.sign(gi[j] as number) : v, 6));
    });
    r.dispose();
    tf.dispose([x, y, g]);
  });

  it('ten l1 steps (a checkpoint after every one) match l1-APGD written independently in float64', async () => {
    // Seeded generic weights on 20 inputs (the fixture above has |∂/∂x₀| = |∂/∂x₁| exactly, a tie of
    // the top-k ranking); inputs in [0, 1] with some on a bound, so the box binds.
    const rng = new Rng(21);
    const d = 20;
    const w = Array.from({ length: 3 }, () => Array.from({ length: d }, () => rng.normal()));
    const b = [0, 0.1, 0.2];
    const model = linearModel({ weights: w, bias: b });
    const xs = Array.from({ length: 6 }, () => Array.from({ length: d }, () => (rng.uniform() < 0.2 ? Math.round(rng.uniform()) : rng.uniform())));
    const x = tf.tensor2d(xs);
    const y = tf.tidy(() => tf.cast(tf.argMax(model.logits(x), 1), 'int32') as tf.Tensor1D);
    const ys = Array.from(await y.data());
    const steps = 10;
    for (const eps of [0.3, 1.5, 4]) {
      const r = await apgd({ norm: 'l1', steps, randomStart: false, earlyStop: false }).run(model, x, { labels: y }, { epsilons: [eps] });
      const out = await rows(r.clipped[0] as tf.Tensor);
      xs.forEach((row, i) => {
        const ref = referenceApgdL1(linearCeFor(w, b), row, ys[i] as number, eps, steps);
        // float32 resolves these values (≤ 10) to ~1e-6; smaller gaps could flip a decision.
        expect(ref.minGap, `sample ${i}, eps ${eps}: two compared values are too close for a float32 comparison`).toBeGreaterThan(1e-6);
        ref.out.forEach((v, j) => expect(out[i]?.[j], `sample ${i}, entry ${j}, eps ${eps}`).toBeCloseTo(v, 5));
      });
      r.dispose();
    }
    tf.dispose([x, y]);
  });

  it('stays inside the ε-L1 ball and the bounds, spends the budget, and is sparse (random starts, 28×28 inputs)', async () => {
    const model = fromFunction((x) => imageMlp.flat.logits(tf.reshape(tf.slice(tf.reshape(x, [-1, 784]), [0, 0], [-1, 64]), [-1, 64])), {
      inputShape: [28, 28, 1],
      numClasses: 4,
      bounds: [0, 1],
      output: 'logits',
    });
    const rng = new Rng(12);
    const x = tf.tensor4d(
      Array.from({ length: 4 * 784 }, () => (rng.uniform() < 0.7 ? 0 : rng.uniform())),
      [4, 28, 28, 1],
    );
    const y = tf.tidy(() => tf.cast(tf.argMax(model.logits(x), 1), 'int32') as tf.Tensor1D);
    const eps = 3;
    const r = await apgd({ norm: 'l1', steps: 8, earlyStop: false }).run(model, x, { labels: y }, { epsilons: [eps], seed: 1 });
    const out = await rows(r.clipped[0] as tf.Tensor);
    const xr = await rows(x);
    out.forEach((row, i) => {
      const delta = row.map((v, j) => v - (xr[i]?.[j] as number));
      const l1Norm = delta.reduce((s, v) => s + Math.abs(v), 0);
      expect(l1Norm).toBeLessThanOrEqual(eps * (1 + 1e-5));
      row.forEach((v) => expect(v >= 0 && v <= 1).toBe(true));
      // The random start x + P(N(0, I)) lies on the sphere; the best point is kept, so the budget stays spent.
      expect(l1Norm).toBeGreaterThan(0.5 * eps);
      expect(delta.filter((v) => v !== 0).length).toBeLessThan(784);
    });
    r.dispose();
    tf.dispose([x, y]);
  });

  it('same seed → identical output; a batch of N equals N single runs (restarts, random starts, no early stop)', async () => {
    const attack = apgd({ norm: 'l1', steps: 12, restarts: 2, earlyStop: false });
    const full = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.4], seed: 5 });
    const again = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.4], seed: 5 });
    expect(await maxDiff(full.clipped[0] as tf.Tensor, again.clipped[0] as tf.Tensor)).toBe(0);
    const singles = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.4], seed: 5, batchSize: 1 });
    expect(await maxDiff(full.clipped[0] as tf.Tensor, singles.clipped[0] as tf.Tensor)).toBeLessThan(1e-6);
    expect(singles.success).toEqual(full.success);
    const other = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [0.4], seed: 6 });
    expect(await maxDiff(full.clipped[0] as tf.Tensor, other.clipped[0] as tf.Tensor)).toBeGreaterThan(0);
    tf.dispose([full, again, singles, other].flatMap((r) => [r.raw, ...r.clipped]));
  });

  it('succeeds at least as often as PGD-L1 (SLIDE) with the same number of steps, and more often at a small budget', async () => {
    // Seeded ReLU network (16 inputs, 11 attackable samples), 20 steps, one random start each.
    const steps = 20;
    const counts: Record<string, number[]> = { apgd: [], pgd: [], pgdLarge: [] };
    const epsilons = [0.3, 0.6, 1];
    for (const eps of epsilons) {
      const count = async (attack: ReturnType<typeof apgd> | ReturnType<typeof pgd>) => {
        const r = await attack.run(mlp, xMlp, { labels: yMlp }, { epsilons: [eps], seed: 1 });
        const c = r.success[0]?.filter(Boolean).length ?? 0;
        r.dispose();
        return c;
      };
      counts.apgd?.push(await count(apgd({ norm: 'l1', steps })));
      counts.pgd?.push(await count(pgd({ norm: 'l1', steps })));
      counts.pgdLarge?.push(await count(pgd({ norm: 'l1', steps, relStepSize: 0.2 })));
    }
    // Measured (cpu): APGD-L1 8, 10, 12; PGD-L1 (α = ε/30) 7, 9, 10; PGD-L1 (α = ε/5) 7, 9, 11 of 12.
    epsilons.forEach((_, e) => {
      expect(counts.apgd?.[e]).toBeGreaterThanOrEqual(counts.pgd?.[e] as number);
      expect(counts.apgd?.[e]).toBeGreaterThanOrEqual(counts.pgdLarge?.[e] as number);
    });
    expect(counts.apgd?.reduce((s, v) => s + v, 0)).toBeGreaterThan(counts.pgdLarge?.reduce((s, v) => s + v, 0) as number);
  });

  it('rejects l0 with UNSUPPORTED_NORM; apgd-ce and apgd-dlr accept l1', async () => {
    await expectCode('UNSUPPORTED_NORM', () => apgd({ norm: 'l0' } as unknown as Parameters<typeof apgd>[0]));
    expect(apgd.meta.norms).toEqual(['linf', 'l2', 'l1']);
    expect(apgdCe({ norm: 'l1' }).options.norm).toBe('l1');
    expect(apgdDlr({ norm: 'l1' }).options.norm).toBe('l1');
    expect(apgdT.meta.norms).not.toContain('l0');
  });
});

describe('apgd: eotSteps (expectation over transformation, eot_iter of the reference code)', () => {
  /** Wraps a model and counts its forward passes. */
  function counting(model: Model): { model: Model; calls: () => number } {
    let calls = 0;
    const counted = fromFunction(
      (x) => {
        calls++;
        return model.logits(x);
      },
      { inputShape: [...model.inputShape], numClasses: model.numClasses, bounds: model.bounds, output: 'logits' },
    );
    return { model: counted, calls: () => calls };
  }

  it('conformance with eotSteps 3 (APGD-CE linf and l1 on the linear model)', async () => {
    assertConformance(
      await checkAttack(apgd({ steps: 8, eotSteps: 3 }), {
        model: linear,
        x: xLin,
        labels: yLin,
        epsilons: [0.05, 0.3, 0.6],
        minSuccess: 1,
        minTargetedSuccess: 0.8,
      }),
    );
    assertConformance(
      await checkAttack(apgdCe({ steps: 5, eotSteps: 3, norm: 'l1' }), {
        model: linear,
        x: xLin,
        labels: yLin,
        epsilons: [0.3, 1, 2],
        minSuccess: 1,
        minTargetedSuccess: 0.5,
      }),
    );
  });

  it('a gradient costs eotSteps passes: N steps take (eotSteps − 1)·N more passes than plain APGD (the last iterate needs no gradient)', async () => {
    for (const norm of ['linf', 'l1'] as const) {
      for (const steps of [4, 7]) {
        const passes: number[] = [];
        for (const eotSteps of [1, 3]) {
          const { model, calls } = counting(linear);
          const r = await apgd({ norm, steps, eotSteps, earlyStop: false, randomStart: false }).run(model, xLin, { labels: yLin }, { epsilons: [0.05] });
          passes.push(calls());
          r.dispose();
        }
        expect((passes[1] as number) - (passes[0] as number), `${norm}, ${steps} steps`).toBe(2 * steps);
      }
    }
  });

  it('on a deterministic model eotSteps 4 gives the result of eotSteps 1 (linf, l2, l1; restarts, no early stop)', async () => {
    for (const [norm, eps] of [
      ['linf', 0.02],
      ['l2', 0.3],
      ['l1', 0.6],
    ] as const) {
      const one = await apgd({ norm, steps: 12, restarts: 2, earlyStop: false }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [eps], seed: 3 });
      const four = await apgd({ norm, steps: 12, restarts: 2, earlyStop: false, eotSteps: 4 }).run(mlp, xMlp, { labels: yMlp }, { epsilons: [eps], seed: 3 });
      expect(await maxDiff(one.clipped[0] as tf.Tensor, four.clipped[0] as tf.Tensor), norm).toBeLessThan(1e-5);
      expect(four.success, norm).toEqual(one.success);
      expect(one.success[0]?.some(Boolean) && !one.success[0]?.every(Boolean), `${norm}: the fixture must be partly robust`).toBe(true);
      one.dispose();
      four.dispose();
    }
  });

  it('on a randomized model, eotSteps 20 fools the majority vote of the model more often than eotSteps 1', async () => {
    // A randomized defense: Gaussian input noise (σ = 0.05, drawn per pass from a seeded stream) in
    // front of a linear classifier with a small high-frequency ripple, z = W·x̃ + a·V·sin(ω·x̃), x̃ = x + σ·n,
    // a = 0.05, ω = 100. One pass's gradient is dominated by the ripple's random phase (a·ω = 5 against
    // entries of W ~ N(0, 1)); its expectation is W plus the ripple damped by exp(−ω²σ²/2) ≈ 4·10⁻⁶.
    const d = 16;
    const c = 5;
    const wr = new Rng(11);
    const w = tf.tensor2d(
      Array.from({ length: d * c }, () => wr.normal()),
      [d, c],
    );
    const v = tf.tensor2d(
      Array.from({ length: d * c }, () => wr.normal()),
      [d, c],
    );
    const noisy = (seed: number): Model => {
      const rng = new Rng(seed);
      return fromFunction(
        (x) =>
          tf.tidy(() => {
            const noise = tf.tensor(
              Float32Array.from({ length: x.size }, () => 0.05 * rng.normal()),
              x.shape,
            );
            const xn = tf.add(x, noise) as tf.Tensor2D;
            return tf.add(tf.matMul(xn, w), tf.mul(tf.matMul(tf.sin(tf.mul(xn, 100)), v), 0.05)) as tf.Tensor2D;
          }),
        { inputShape: [d], numClasses: c, bounds: [0, 1], output: 'logits' },
      );
    };
    const n = 24;
    const r0 = new Rng(5);
    const x = tf.tensor2d(
      Array.from({ length: n * d }, () => r0.uniform()),
      [n, d],
    );
    const y = tf.tidy(() => tf.cast(tf.argMax(tf.matMul(x, w), 1), 'int32') as tf.Tensor1D);
    const labels = Array.from(await y.data());
    /** Samples that the model misclassifies in a majority of 101 fresh passes. */
    const fooled = async (xs: tf.Tensor): Promise<number> => {
      const judge = noisy(999);
      const votes = tf.tidy(() => {
        let acc: tf.Tensor = tf.zeros([n, c]);
        for (let i = 0; i < 101; i++) acc = tf.add(acc, tf.oneHot(tf.argMax(judge.logits(xs), 1), c));
        return acc;
      });
      const counts = (await votes.array()) as number[][];
      votes.dispose();
      return counts.filter((row, i) => (row[labels[i] as number] as number) < 51).length;
    };
    expect(await fooled(x)).toBe(0);
    const before = tf.memory().numTensors;
    const counts: Record<number, number[]> = { 1: [], 20: [] };
    for (const seed of [0, 1, 2]) {
      for (const eps of [0.05, 0.08]) {
        for (const eotSteps of [1, 20]) {
          const r = await apgd({ steps: 20, eotSteps }).run(noisy(1 + seed), x, { labels: y }, { epsilons: [eps], seed });
          counts[eotSteps]?.push(await fooled(r.clipped[0] as tf.Tensor));
          r.dispose();
        }
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    // Measured (cpu), of 24 (seeds 0, 1, 2 × ε 0.05, 0.08): eotSteps 1: 3, 8, 4, 4, 4, 7 (30);
    // eotSteps 20: 10, 13, 7, 11, 9, 14 (64). The noise-free linear model W·x has 15 and 19 samples
    // within ε 0.05 and 0.08 of its decision boundary (closed form, box included).
    const one = counts[1] as number[];
    const twenty = counts[20] as number[];
    twenty.forEach((k, i) => expect(k, `run ${i}`).toBeGreaterThan(one[i] as number));
    const sum = (a: number[]) => a.reduce((s, k) => s + k, 0);
    expect(sum(twenty)).toBeGreaterThanOrEqual(1.5 * sum(one));
    tf.dispose([w, v, x, y]);
  });

  it('rejects eotSteps that is not an integer ≥ 1 with INVALID_OPTION (apgd, apgd-ce, apgd-dlr); the default is 1', async () => {
    for (const eotSteps of [0, -1, 2.5, Number.NaN, '20']) {
      for (const factory of [apgd, apgdCe, apgdDlr]) {
        await expectCode('INVALID_OPTION', () => factory({ eotSteps } as unknown as Parameters<typeof apgdCe>[0]));
      }
    }
    expect([apgd.defaults.eotSteps, apgdCe.defaults.eotSteps, apgdDlr.defaults.eotSteps]).toEqual([1, 1, 1]);
    expect(apgdDlr({ eotSteps: 20, norm: 'l1' }).options.eotSteps).toBe(20);
  });
});
