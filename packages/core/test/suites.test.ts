import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import {
  AdvxError,
  Rng,
  rocAuc,
  type AnyModel,
  type Detector,
  type Inspection,
  type Inspector,
  type LabeledData,
  type Model,
  type Preprocessor,
} from '../src/index.js';
import { assertConformance, checkDetector, checkInspector, checkPreprocessor, linearModel, type ConformanceReport } from '../src/testing/index.js';

function failed(report: ConformanceReport): string[] {
  return report.failures.map((f) => f.name);
}

function status(report: ConformanceReport, name: string): string | undefined {
  return report.checks.find((c) => c.name === name)?.status;
}

function message(report: ConformanceReport, name: string): string {
  return report.checks.find((c) => c.name === name)?.message ?? '';
}

/** Expects `report` to fail `check` (among possibly others) and assertConformance to name it. */
function expectCaught(report: ConformanceReport, check: string): void {
  expect(report.passed).toBe(false);
  expect(failed(report)).toContain(check);
  expect(() => assertConformance(report)).toThrow(`  - ${check}: `);
}

function expectPasses(report: ConformanceReport): void {
  expect(failed(report)).toEqual([]);
  expect(report.passed).toBe(true);
  expect(() => assertConformance(report)).not.toThrow();
}

// ---------------------------------------------------------------------------------------------
// Preprocessors
// ---------------------------------------------------------------------------------------------

describe('checkPreprocessor', () => {
  // 4 inputs in [0, 1], 3 classes. Row 0 of W has non-integer entries so that no ±1 direction
  // makes the class-0 directional derivative vanish.
  const model = linearModel({
    weights: [
      [1, 2, -1, 0.5],
      [0, 1, 1, -1],
      [-1, 0, 2, 1],
    ],
  });
  // Away from the rounding threshold 0.5 and from the bounds (finite differences step by 1e-3).
  const x = tf.keep(
    tf.tensor2d([
      [0.1, 0.3, 0.7, 0.9],
      [0.8, 0.2, 0.35, 0.65],
      [0.4, 0.6, 0.15, 0.85],
    ]),
  );
  afterAll(() => x.dispose());

  const affine: Preprocessor = {
    name: 'affine',
    gradient: 'exact',
    randomized: false,
    apply: (t) => tf.tidy(() => tf.add(tf.mul(t, 0.5), 0.25)),
  };
  const roundBpda: Preprocessor = { name: 'round', gradient: 'bpda-identity', randomized: false, apply: (t) => tf.round(t) };

  async function check(p: Preprocessor): Promise<ConformanceReport> {
    const before = tf.memory().numTensors;
    const report = await checkPreprocessor(p, { model, x });
    expect(tf.memory().numTensors).toBe(before);
    return report;
  }

  it('passes a correct affine preprocessor (exact gradient)', async () => {
    const report = await check(affine);
    expectPasses(report);
    expect(report.subject).toBe('affine');
    expect(report.checks.map((c) => c.name)).toEqual([
      'gradient-declared',
      'shape-and-bounds',
      'deterministic',
      'no-leak',
      'gradient-flows',
      'gradient-matches-declaration',
    ]);
    expect(report.checks.every((c) => c.status === 'passed')).toBe(true);
  });

  it('passes a correct rounding preprocessor (bpda-identity)', async () => {
    expectPasses(await check(roundBpda));
  });

  it('passes a custom gradient with a backward, and a randomized one declared randomized', async () => {
    const custom: Preprocessor = {
      name: 'custom',
      gradient: 'custom',
      randomized: false,
      apply: (t) => tf.square(t),
      backward: (t, dy) => tf.tidy(() => tf.mul(dy, tf.mul(t, 2))),
    };
    const report = await check(custom);
    expectPasses(report);
    expect(message(report, 'gradient-matches-declaration')).toContain('custom gradient');
    const noisy: Preprocessor = {
      name: 'noisy',
      gradient: 'bpda-identity',
      randomized: true,
      apply: (t) => tf.tidy(() => tf.clipByValue(tf.add(t, (Math.random() - 0.5) * 0.01), 0, 1)),
    };
    const r2 = await check(noisy);
    expectPasses(r2);
    expect(message(r2, 'deterministic')).toContain('declared randomized');
  });

  it("catches rounding declared 'exact' (zero gradient) in gradient-flows", async () => {
    const report = await check({ ...roundBpda, name: 'round-exact', gradient: 'exact' });
    expectCaught(report, 'gradient-flows');
    expect(failed(report)).toEqual(['gradient-flows']);
    expect(message(report, 'gradient-flows')).toContain('zero everywhere');
  });

  it('catches a shape-changing preprocessor in shape-and-bounds', async () => {
    // Appends a copy of the first row: [3, 4] → [4, 4].
    const report = await check({ ...affine, name: 'grows', apply: (t) => tf.tidy(() => tf.concat([t, tf.slice(t, [0, 0], [1, -1])], 0)) });
    expectCaught(report, 'shape-and-bounds');
    expect(message(report, 'shape-and-bounds')).toContain('from [3,4] to [4,4]');
  });

  it('catches an out-of-bounds preprocessor (x·2 on [0, 1]) in shape-and-bounds', async () => {
    const report = await check({ ...affine, name: 'doubles', apply: (t) => tf.mul(t, 2) });
    expectCaught(report, 'shape-and-bounds');
    // 2x spans [2·0.1, 2·0.9] = [0.2, 1.8] (float32)
    const m = /spans \[(\S+), (\S+)\], outside bounds \[0, 1\]/.exec(message(report, 'shape-and-bounds'));
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(0.2, 6);
    expect(Number(m![2])).toBeCloseTo(1.8, 6);
  });

  it('catches a nondeterministic preprocessor declared randomized: false in deterministic', async () => {
    const report = await check({
      ...affine,
      name: 'jitter',
      apply: (t) => tf.tidy(() => tf.mul(t, 1 - 0.01 * (Math.random() + 0.01))),
    });
    expectCaught(report, 'deterministic');
  });

  it('catches a preprocessor that keeps a tensor in no-leak', async () => {
    const leaked: tf.Tensor[] = [];
    const before = tf.memory().numTensors;
    const report = await checkPreprocessor(
      {
        ...affine,
        name: 'leaky',
        apply: (t) => {
          leaked.push(tf.keep(tf.zeros([2])));
          return tf.tidy(() => tf.add(tf.mul(t, 0.5), 0.25));
        },
      },
      { model, x },
    );
    expectCaught(report, 'no-leak');
    expect(failed(report)).toEqual(['no-leak']);
    // apply() + one gradient through defend() run inside the check: 2 leaked tensors there.
    expect(message(report, 'no-leak')).toMatch(/from (\d+) to (\d+)/);
    const [, a, b] = /from (\d+) to (\d+)/.exec(message(report, 'no-leak')) as RegExpExecArray;
    expect(Number(b) - Number(a)).toBe(2);
    expect(tf.memory().numTensors - before).toBe(leaked.length);
    tf.dispose(leaked);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("catches an 'exact' preprocessor with a wrong gradient (3·dy for the identity) in gradient-matches-declaration", async () => {
    const tripled: Preprocessor = {
      name: 'wrong-gradient',
      gradient: 'exact',
      randomized: false,
      apply: (t) =>
        tf.customGrad((input: tf.Tensor | tf.GradSaveFunc) => ({
          value: tf.clone(input as tf.Tensor),
          gradFunc: (dy: tf.Tensor) => tf.mul(dy, 3),
        }))(t),
    };
    const report = await check(tripled);
    expectCaught(report, 'gradient-matches-declaration');
    expect(failed(report)).toEqual(['gradient-matches-declaration']);
    // The analytic directional derivative is exactly 3× the finite-difference one.
    const m = /derivative (\S+) differs from finite differences (\S+)$/.exec(message(report, 'gradient-matches-declaration'));
    expect(m).not.toBeNull();
    expect(Number(m![1]) / Number(m![2])).toBeCloseTo(3, 2);
  });

  it('catches undeclared gradients in gradient-declared', async () => {
    const noBackward = await check({ ...affine, name: 'no-backward', gradient: 'custom' });
    expectCaught(noBackward, 'gradient-declared');
    const before = tf.memory().numTensors;
    const badMode = await checkPreprocessor({ ...affine, name: 'bad-mode', gradient: 'magic' as 'exact' }, { model, x });
    expectCaught(badMode, 'gradient-declared');
    expect(message(badMode, 'gradient-declared')).toContain("gradient 'magic' is not exact, bpda-identity or custom");
    expect(tf.memory().numTensors).toBe(before);
  });

  it('skip marks a check skipped with its reason', async () => {
    const report = await checkPreprocessor(
      { ...affine, name: 'doubles', apply: (t) => tf.mul(t, 2) },
      { model, x, skip: { 'shape-and-bounds': 'scales on purpose' } },
    );
    expect(status(report, 'shape-and-bounds')).toBe('skipped');
    expect(message(report, 'shape-and-bounds')).toBe('scales on purpose');
    expect(failed(report)).not.toContain('shape-and-bounds');
  });
});

// ---------------------------------------------------------------------------------------------
// Detectors
// ---------------------------------------------------------------------------------------------

/** Euclidean distance of each row of `x` to `center`, as a Float32Array; leaks nothing. */
async function distances(x: tf.Tensor, center: Float32Array): Promise<Float32Array> {
  const d = tf.tidy(() => tf.sqrt(tf.sum(tf.square(tf.sub(tf.reshape(x, [x.shape[0], -1]), tf.tensor1d(center))), 1)));
  const v = Float32Array.from(await d.data());
  d.dispose();
  return v;
}

/** Correct detector: score = distance to the mean of the clean inputs seen by fit(). */
function meanDistance(): Detector {
  let mean: Float32Array | undefined;
  return {
    name: 'mean-distance',
    needsFit: true,
    async fit(_model, clean) {
      const m = tf.tidy(() => tf.mean(tf.reshape(clean, [clean.shape[0], -1]), 0));
      mean = Float32Array.from(await m.data());
      m.dispose();
    },
    async score(_model, x) {
      if (!mean) throw new AdvxError('NOT_FITTED', 'mean-distance: call fit() first.');
      return distances(x, mean);
    },
  };
}

describe('checkDetector', () => {
  const model: AnyModel = linearModel({
    weights: [
      [1, 0, 0],
      [0, 1, 0],
    ],
  });
  // 8 clean points near 0.2 and 8 "adversarial" points near 0.8, with deterministic jitter of ±0.05.
  const jitter = (i: number, j: number) => 0.05 * Math.sin(1 + 3 * i + 7 * j);
  const grid = (c: number) => Array.from({ length: 8 }, (_, i) => Array.from({ length: 3 }, (_, j) => c + jitter(i, j)));
  const clean = tf.keep(tf.tensor2d(grid(0.2)));
  const adversarial = tf.keep(tf.tensor2d(grid(0.8)));
  afterAll(() => tf.dispose([clean, adversarial]));

  async function check(make: () => Detector, extra: { minAuc?: number } = {}): Promise<ConformanceReport> {
    const before = tf.memory().numTensors;
    const report = await checkDetector(make, { model, clean, adversarial, ...extra });
    expect(tf.memory().numTensors).toBe(before);
    return report;
  }

  it('passes a correct fitted detector with ROC-AUC 1', async () => {
    const report = await check(meanDistance, { minAuc: 1 });
    expectPasses(report);
    expect(report.checks.map((c) => c.name)).toEqual(['not-fitted', 'scores', 'deterministic', 'no-leak', 'separates']);
    expect(message(report, 'separates')).toBe('ROC-AUC 1.000');
    // Closed form on the same data: every adversarial distance (≈ 0.6·√3) exceeds every clean one (≤ 0.05·√3·2).
    const d = meanDistance();
    await d.fit!(model, clean);
    const c = await d.score(model, clean);
    const a = await d.score(model, adversarial);
    expect(Math.max(...c)).toBeLessThan(0.2);
    expect(Math.min(...a)).toBeGreaterThan(0.8);
    expect(rocAuc(c, a)).toBe(1);
  });

  it('catches random scores: seeded ones do not separate (AUC 0.5), Math.random ones are not deterministic', async () => {
    // Same seed and same batch size for clean and adversarial: identical scores, so AUC = 1/2 exactly.
    const seeded = (): Detector => ({
      name: 'seeded-random',
      needsFit: false,
      score: async (_m, t, options) => {
        const rng = new Rng(options?.seed ?? 0);
        return Float32Array.from({ length: t.shape[0] }, () => rng.uniform());
      },
    });
    const r1 = await check(seeded, { minAuc: 0.9 });
    expectCaught(r1, 'separates');
    expect(failed(r1)).toEqual(['separates']);
    expect(message(r1, 'separates')).toContain('ROC-AUC 0.500');
    expect(message(r1, 'not-fitted')).toBe('needs no fit');

    const unseeded = (): Detector => ({
      name: 'math-random',
      needsFit: false,
      score: async (_m, t) => Float32Array.from({ length: t.shape[0] }, () => Math.random()),
    });
    const r2 = await check(unseeded, { minAuc: 0.9 });
    expectCaught(r2, 'deterministic');
  });

  it('catches a wrong number of scores in scores', async () => {
    const short = (): Detector => {
      const inner = meanDistance();
      return { ...inner, name: 'short', score: async (m, t) => (await inner.score(m, t)).slice(1) };
    };
    const report = await check(short);
    expectCaught(report, 'scores');
    expect(message(report, 'scores')).toContain('expected a Float32Array of 8, got 7');
  });

  it('catches non-finite scores in scores', async () => {
    const nan = (): Detector => ({ name: 'nan', needsFit: false, score: async (_m, t) => new Float32Array(t.shape[0]).fill(NaN) });
    const report = await check(nan);
    expectCaught(report, 'scores');
    expect(message(report, 'scores')).toContain('clean score 0 is NaN');
    // NaN scores have no ROC-AUC: 'separates' fails too (rather than hanging in rocAuc's tie loop).
    expect(failed(report)).toContain('separates');
    expect(message(report, 'separates')).toContain('ROC-AUC NaN');
  });

  it('catches score() before fit() not throwing NOT_FITTED in not-fitted', async () => {
    const eager = (): Detector => {
      let mean = new Float32Array(3); // silently uses a zero mean until fitted
      return {
        name: 'eager',
        needsFit: true,
        async fit(_m, c) {
          const m = tf.tidy(() => tf.mean(c, 0));
          mean = Float32Array.from(await m.data());
          m.dispose();
        },
        score: async (_m, t) => distances(t, mean),
      };
    };
    const report = await check(eager, { minAuc: 1 });
    expectCaught(report, 'not-fitted');
    expect(failed(report)).toEqual(['not-fitted']);
    expect(message(report, 'not-fitted')).toContain('expected AdvxError NOT_FITTED, but the call succeeded');
    const noFit = await check(() => ({ name: 'no-fit', needsFit: true, score: meanDistance().score }));
    expectCaught(noFit, 'not-fitted');
  });

  it('catches a leaking score() in no-leak', async () => {
    const leaked: tf.Tensor[] = [];
    const leaky = (): Detector => {
      const inner = meanDistance();
      return {
        ...inner,
        name: 'leaky',
        score: async (m, t) => {
          const s = await inner.score(m, t); // throws NOT_FITTED (leak-free) before fit
          leaked.push(tf.ones([1]));
          return s;
        },
      };
    };
    const before = tf.memory().numTensors;
    const report = await checkDetector(leaky, { model, clean, adversarial });
    expectCaught(report, 'no-leak');
    expect(failed(report)).toEqual(['no-leak']);
    const [, a, b] = /from (\d+) to (\d+)/.exec(message(report, 'no-leak')) as RegExpExecArray;
    expect(Number(b) - Number(a)).toBe(1);
    expect(tf.memory().numTensors - before).toBe(leaked.length);
    tf.dispose(leaked);
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ---------------------------------------------------------------------------------------------
// Inspectors
// ---------------------------------------------------------------------------------------------

/** Correct inspector: score = distance of the model's output to its class mean; flag the top `k`. */
function classMeanInspector(k: number): Inspector {
  return {
    name: 'class-mean',
    async inspect(model: Model, data: LabeledData): Promise<Inspection> {
      const f = tf.tidy(() => model.logits(data.x));
      const feats = await f.data();
      f.dispose();
      const labels = await data.y.data();
      const [n, d] = f.shape as [number, number];
      const sums = new Map<number, { s: number[]; c: number }>();
      for (let i = 0; i < n; i++) {
        const y = labels[i] as number;
        const e = sums.get(y) ?? { s: new Array<number>(d).fill(0), c: 0 };
        for (let j = 0; j < d; j++) e.s[j] = (e.s[j] as number) + (feats[i * d + j] as number);
        e.c++;
        sums.set(y, e);
      }
      const scores = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const e = sums.get(labels[i] as number)!;
        let s = 0;
        for (let j = 0; j < d; j++) s += ((feats[i * d + j] as number) - (e.s[j] as number) / e.c) ** 2;
        scores[i] = Math.sqrt(s);
      }
      const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
      return { scores, flagged: Int32Array.from(order.slice(0, k)) };
    },
  };
}

describe('checkInspector', () => {
  const model = linearModel({
    weights: [
      [1, 0],
      [0, 1],
    ],
  }); // logits = x
  // Class 0 around (0.2, 0.2), class 1 around (0.8, 0.8); poisoned: #3 (label 0 at 0.85) and #12 (label 1 at 0.15).
  const points: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 16; i++) {
    const y = i < 8 ? 0 : 1;
    const c = y === 0 ? 0.2 : 0.8;
    points.push([c + 0.03 * Math.sin(i + 1), c + 0.03 * Math.cos(2 * i + 1)]);
    labels.push(y);
  }
  points[3] = [0.85, 0.8];
  points[12] = [0.15, 0.2];
  const poisoned = [3, 12];
  const data: LabeledData = { x: tf.keep(tf.tensor2d(points)), y: tf.keep(tf.tensor1d(labels, 'int32')) };
  afterAll(() => tf.dispose([data.x, data.y]));

  async function check(inspector: Inspector, minRecall?: number): Promise<ConformanceReport> {
    const before = tf.memory().numTensors;
    const report = await checkInspector(inspector, { model, data, poisoned, ...(minRecall === undefined ? {} : { minRecall }) });
    expect(tf.memory().numTensors).toBe(before);
    return report;
  }

  /** The correct inspector with its flagged list rewritten. */
  function rewrite(name: string, k: number, f: (flagged: Int32Array) => Int32Array): Inspector {
    const inner = classMeanInspector(k);
    return {
      name,
      inspect: async (m, d) => {
        const r = await inner.inspect(m, d);
        return { scores: r.scores, flagged: f(r.flagged) };
      },
    };
  }

  it('passes a correct inspector with recall 1 on planted outliers', async () => {
    const report = await check(classMeanInspector(2), 1);
    expectPasses(report);
    expect(report.checks.map((c) => c.name)).toEqual(['scores', 'flagged', 'deterministic', 'no-leak', 'recall']);
    expect(message(report, 'recall')).toBe('recall 1.000, 2 flagged');
    const r = await classMeanInspector(2).inspect(model, data);
    expect([...r.flagged].sort((a, b) => a - b)).toEqual(poisoned);
  });

  it('catches duplicate flagged indices in flagged', async () => {
    const report = await check(rewrite('duplicates', 2, (f) => Int32Array.from([f[0]!, f[0]!])));
    expectCaught(report, 'flagged');
    expect(message(report, 'flagged')).toContain('duplicate');
  });

  it('catches flagged indices not ordered by decreasing score in flagged', async () => {
    const report = await check(rewrite('unordered', 4, (f) => f.slice().reverse()));
    expectCaught(report, 'flagged');
    expect(message(report, 'flagged')).toContain('not ordered by decreasing score');
  });

  it('catches an out-of-range flagged index in flagged', async () => {
    const report = await check(rewrite('out-of-range', 2, (f) => Int32Array.from([f[0]!, 16])));
    expectCaught(report, 'flagged');
    expect(message(report, 'flagged')).toContain('flagged[1] = 16 is not a sample index');
  });

  it('catches low recall in recall (minRecall 1)', async () => {
    const report = await check(classMeanInspector(1), 1);
    expectCaught(report, 'recall');
    expect(failed(report)).toEqual(['recall']);
    expect(message(report, 'recall')).toContain('recall 0.500');
    // Without minRecall, recall is only reported.
    const loose = await check(classMeanInspector(1));
    expectPasses(loose);
    expect(message(loose, 'recall')).toBe('recall 0.500, 1 flagged');
  });
});
