import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { apgdCe, fgsm, fmn, pgd } from '@advx/attacks';
import { useWasm } from '@advx/backend-wasm';
import { fromFunction, isAdvxError, Rng, type Model } from '@advx/core';
import { loadDataset, loadModel, type ZooModel } from '@advx/models-zoo';

import { binarizationTest, binarizeSample, type BinarizationTestOptions } from './binarization-test.js';
import { clopperPearson } from './clopper-pearson.js';

/** The values of `t`, which it disposes. */
async function read(t: tf.Tensor): Promise<Float32Array | Int32Array | Uint8Array> {
  const values = await t.data();
  t.dispose();
  return values;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return isAdvxError(e) ? e.code : `not an AdvxError: ${String(e)}`;
  }
  return undefined;
}

/** A linear 8-class model on 16 inputs and 6 samples whose labels are its own predictions, inside [0.3, 0.7]. */
function linearCase(): { model: Model; x: tf.Tensor2D; labels: tf.Tensor1D; dispose: () => void } {
  const rng = new Rng(11);
  const a = tf.tensor2d(
    Array.from({ length: 16 * 8 }, () => rng.normal()),
    [16, 8],
  );
  const model = fromFunction((v) => tf.matMul(v as tf.Tensor2D, a), { inputShape: [16], numClasses: 8, bounds: [0, 1], output: 'logits' });
  const x = tf.tensor2d(
    Array.from({ length: 6 * 16 }, () => 0.3 + 0.4 * rng.uniform()),
    [6, 16],
  );
  const labels = tf.tidy(() => tf.argMax(model.logits(x), 1) as tf.Tensor1D);
  return { model, x, labels, dispose: () => tf.dispose([a, x, labels]) };
}

describe('binarizationTest: options', () => {
  it('rejects bad options with INVALID_OPTION and foreign norms with UNSUPPORTED_NORM, before any work and leaking nothing', async () => {
    const { model, x, labels, dispose } = linearCase();
    const base: BinarizationTestOptions = { model, data: { x, labels }, attack: pgd({ steps: 5 }), epsilon: 0.1, norm: 'linf' };
    const before = tf.memory().numTensors;
    const bad: [Partial<Record<keyof BinarizationTestOptions, unknown>>, string][] = [
      [{ epsilon: 0 }, 'INVALID_OPTION'],
      [{ epsilon: Number.NaN }, 'INVALID_OPTION'],
      [{ inner: 0 }, 'INVALID_OPTION'],
      [{ inner: 2.5 }, 'INVALID_OPTION'],
      [{ seed: -1 }, 'INVALID_OPTION'],
      [{ batchSize: 0 }, 'INVALID_OPTION'],
      [{ fitSteps: 0 }, 'INVALID_OPTION'],
      [{ innerGap: 1.5 }, 'INVALID_OPTION'],
      [{ features: 'logits' }, 'INVALID_OPTION'],
      [{ attack: { name: 'pgd' } }, 'INVALID_OPTION'],
      [{ norm: 'l1' }, 'UNSUPPORTED_NORM'],
      [{ attack: pgd({ norm: 'l2' }) }, 'UNSUPPORTED_NORM'],
      [{ model: {} }, 'INVALID_MODEL'],
    ];
    for (const [override, code] of bad) {
      expect(await codeOf(binarizationTest({ ...base, ...override } as BinarizationTestOptions)), JSON.stringify(override)).toBe(code);
    }
    expect(await codeOf(binarizeSample(base, 6))).toBe('INVALID_OPTION');
    const wrongLabels = tf.tensor1d([0, 1, 2], 'int32');
    expect(await codeOf(binarizationTest({ ...base, data: { x, labels: wrongLabels } }))).toBe('BATCH_MISMATCH');
    wrongLabels.dispose();
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  });
});

describe('binarizationTest on a linear model (closed form)', () => {
  it.each(['linf', 'l2'] as const)(
    '%s: the readout is linear in x, the known adversarial lies on the ε-sphere, and FGM, the exact maximiser of a linear score, reaches s(x) + ε‖v‖ (dual norm)',
    async (norm) => {
      const { model, x, labels, dispose } = linearCase();
      const eps = 0.1;
      const options: BinarizationTestOptions = { model, data: { x, labels }, attack: fgsm({ norm }), epsilon: eps, norm };
      const before = tf.memory().numTensors;
      const result = await binarizationTest(options);
      expect(result.config.inner).toBe(5); // the default for 8 logits features: d − 3
      expect(result.counts.valid).toBeGreaterThanOrEqual(5);
      const dual = (g: Float32Array) => (norm === 'linf' ? g.reduce((a, v) => a + Math.abs(v), 0) : Math.hypot(...g));
      const length = (d: number[]) => (norm === 'linf' ? Math.max(...d.map(Math.abs)) : Math.hypot(...d));
      for (const s of result.samples.filter((e) => e.status !== 'indeterminate')) {
        const b = await binarizeSample(options, s.index);
        const xi = tf.slice(x, s.index, 1);
        // s(x') = v·(x' − x) + s(x): v is the gradient, the same everywhere for a linear model.
        const score = (v: tf.Tensor) => tf.sum(tf.slice(b.model!.logits(v), [0, 1], [-1, 1]));
        const v = tf.grad(score)(xi);
        const s0 = (await read(tf.tidy(() => score(xi))))[0]!;
        const [known, clean, grad] = [await b.knownAdversarial!.data(), await xi.data(), (await v.data()) as Float32Array];
        const delta = Array.from(known, (k, j) => k - clean[j]!);
        expect(length(delta)).toBeLessThanOrEqual(eps);
        expect(length(delta)).toBeGreaterThan(eps * (1 - 1e-5));
        expect(b.boundaryScore).toBeCloseTo(s0 + delta.reduce((acc, d, j) => acc + d * grad[j]!, 0), 4);
        expect(s.boundaryScore).toBe(b.boundaryScore);
        // The least distance to class 1 is −s(x)/‖v‖ (dual norm): positive, and at most ε since x̃ is class 1.
        expect(s0).toBeLessThan(0);
        expect(-s0 / dual(grad)).toBeLessThanOrEqual(eps);
        // FGM steps to the maximiser of s over the ball (no clipping: x ∈ [0.3, 0.7], ε = 0.1).
        expect(s.attackScore).toBeCloseTo(s0 + eps * dual(grad), 4);
        expect(s.attackScore).toBeGreaterThanOrEqual(s.boundaryScore - 1e-5);
        expect(s.status).toBe('pass');
        tf.dispose([xi, v]);
        b.dispose();
      }
      expect(tf.memory().numTensors).toBe(before);
      dispose();
    },
  );
});

describe('binarizationTest on mnist-cnn (Zimmermann et al. 2022, penultimate-layer features)', () => {
  const N = 30;
  const EPS = 0.3;
  let x: tf.Tensor4D;
  let y: tf.Tensor1D;
  let cnn: ZooModel;
  let features: (v: tf.Tensor) => tf.Tensor2D;
  const opts = (o: Partial<BinarizationTestOptions> = {}): BinarizationTestOptions => ({
    model: cnn.model,
    data: { x, labels: y },
    attack: pgd({ steps: 100 }),
    epsilon: EPS,
    norm: 'linf',
    features,
    inner: 99,
    ...o,
  });

  beforeAll(async () => {
    await useWasm();
    ({ x, y } = await loadDataset('mnist', { count: N, source: 'shipped' }));
    cnn = await loadModel('mnist-cnn');
    const layers = cnn.layers.layers;
    const penultimate = layers[layers.length - 2]!.output as { name: string };
    features = (v) => cnn.layers.execute(v, penultimate.name) as tf.Tensor2D;
  });
  afterAll(() => {
    tf.dispose([x, y]);
    cnn.layers.dispose();
  });

  it(
    'PGD-100 passes ≥ 95 % of the valid tests; a broken attack (one step of 0.001·ε) fails nearly all; misclassified samples are counted as indeterminate',
    { timeout: 120_000 },
    async () => {
      const before = tf.memory().numTensors;
      const strong = await binarizationTest(opts());
      const broken = await binarizationTest(opts({ attack: pgd({ steps: 1, relStepSize: 0.001, randomStart: false }) }));
      expect(tf.memory().numTensors).toBe(before);
      const predicted = tf.tidy(() => tf.argMax(cnn.model.logits(x), 1));
      const [p, l] = [await predicted.data(), await y.data()];
      predicted.dispose();
      const misclassified = Array.from(p).filter((c, i) => c !== l[i]).length;
      for (const r of [strong, broken]) {
        expect(r.counts.pass + r.counts.fail + r.counts.indeterminate).toBe(N);
        expect(r.indeterminateReasons.misclassified).toBe(misclassified);
        expect(r.counts.indeterminate).toBe(misclassified + r.indeterminateReasons['not-separable'] + r.indeterminateReasons['no-boundary-point']);
        expect(r.counts.valid).toBeGreaterThanOrEqual(N - 3);
        expect(r.interval).toEqual(clopperPearson(r.counts.pass, r.counts.valid));
      }
      // Same seed, same construction: the two attacks face the same binary models.
      expect(broken.samples.map((s) => s.status === 'indeterminate')).toEqual(strong.samples.map((s) => s.status === 'indeterminate'));
      // Measured: 29/29 valid tests pass for PGD-100, 0/29 for the broken attack.
      expect(strong.passRate).toBeGreaterThanOrEqual(0.95);
      expect(broken.passRate).toBeLessThanOrEqual(0.1);
      for (const s of strong.samples.filter((e) => e.status === 'pass')) expect(s.attackScore).toBeGreaterThan(0);
      for (const s of broken.samples.filter((e) => e.status === 'fail')) expect(s.attackScore).toBeLessThanOrEqual(0);
    },
  );

  it('APGD-CE (100 steps) and FMN (100 steps, L∞) pass ≥ 95 % as PGD-100 does; FGSM, one step, passes fewer', { timeout: 240_000 }, async () => {
    const rates: Record<string, number> = {};
    for (const [name, attack] of [
      ['APGD-CE', apgdCe({ steps: 100 })],
      ['FMN', fmn({ norm: 'linf', steps: 100 })],
      ['FGSM', fgsm()],
    ] as const) {
      const r = await binarizationTest(opts({ attack }));
      rates[name] = r.passRate;
      console.info(`binarization test, mnist-cnn, ε 0.3 L∞, ${N} samples: ${name} passes ${r.counts.pass}/${r.counts.valid} valid tests`);
    }
    expect(rates['APGD-CE']).toBeGreaterThanOrEqual(0.95);
    expect(rates.FMN).toBeGreaterThanOrEqual(0.95);
    expect(rates.FGSM).toBeLessThan(0.95);
  });

  it(
    'every valid test’s known adversarial is inside the bounds, on the ε-sphere and class 1 of its binary model, which puts the clean sample and every inner point in class 0',
    { timeout: 60_000 },
    async () => {
      const before = tf.memory().numTensors;
      let valid = 0;
      for (let i = 0; i < 10; i++) {
        const b = await binarizeSample(opts(), i);
        if (b.reason !== undefined) {
          b.dispose();
          continue;
        }
        valid++;
        const xi = tf.slice(x, i, 1);
        const dist = (await read(tf.tidy(() => tf.max(tf.abs(tf.sub(b.knownAdversarial!, xi))))))[0]!;
        const lo = (await read(tf.min(b.knownAdversarial!)))[0]!;
        const hi = (await read(tf.max(b.knownAdversarial!)))[0]!;
        expect(dist).toBeLessThanOrEqual(EPS);
        expect(dist).toBeGreaterThan(EPS * (1 - 1e-5));
        expect(lo).toBeGreaterThanOrEqual(0);
        expect(hi).toBeLessThanOrEqual(1);
        const classes = (v: tf.Tensor) => read(tf.tidy(() => tf.argMax(b.model!.logits(v), 1)));
        expect(Array.from(await classes(b.knownAdversarial!))).toEqual([1]);
        const innerClasses = await classes(b.innerPoints!);
        expect(innerClasses.length).toBe(100);
        expect(innerClasses.every((c) => c === 0)).toBe(true);
        expect((await read(tf.tidy(() => tf.max(tf.abs(tf.sub(b.innerPoints!, xi))))))[0]).toBeLessThanOrEqual(0.95 * EPS + 1e-6);
        xi.dispose();
        b.dispose();
      }
      expect(valid).toBeGreaterThanOrEqual(8);
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('is deterministic under a seed, independent of batchSize, and changes with the seed', { timeout: 60_000 }, async () => {
    const xs = tf.slice(x, 0, 4);
    const ys = tf.slice(y, 0, 4);
    const run = (o: Partial<BinarizationTestOptions>) => binarizationTest(opts({ data: { x: xs, labels: ys }, attack: pgd({ steps: 10 }), ...o }));
    const a = await run({ seed: 5 });
    const b = await run({ seed: 5, batchSize: 7 });
    const c = await run({ seed: 6 });
    expect(b.samples).toEqual(a.samples);
    expect(c.samples.map((s) => s.boundaryScore)).not.toEqual(a.samples.map((s) => s.boundaryScore));
    tf.dispose([xs, ys]);
  });

  it('aborts with ABORTED and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(binarizationTest(opts({ signal: controller.signal })))).toBe('ABORTED');
    expect(tf.memory().numTensors).toBe(before);
  });
});
