import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import {
  fromFunction,
  isAdvxError,
  toQueryModel,
  type AdvxErrorCode,
  type Attack,
  type AttackResult,
  type Goal,
  type Progress,
  type RunOptions,
} from '../src/index.js';
import { assertConformance, checkAttack, linearModel, type AttackCheck, type AttackFixture } from '../src/testing/index.js';
import { gradientSign, minimalLinear, randomSearch } from './reference-attacks.js';

// A 4-input, 3-class linear model on [0, 1]; classes are separated by margins that epsilon 0.3 can cross.
const model = linearModel({
  weights: [
    [1, -1, 0.5, 0],
    [-1, 1, 0, 0.5],
    [0, 0, -0.5, -0.5],
  ],
  bias: [0, 0, 0.6],
});
const x = tf.tensor2d([
  [0.6, 0.4, 0.5, 0.5],
  [0.3, 0.7, 0.4, 0.6],
  [0.5, 0.5, 0.2, 0.1],
  [0.8, 0.1, 0.9, 0.3],
  [0.2, 0.9, 0.1, 0.8],
  [0.45, 0.55, 0.3, 0.2],
]);
const labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
const fixture: AttackFixture = { model, x, labels, epsilons: [0.05, 0.3, 0.6], minSuccess: 1, minTargetedSuccess: 0.8 };

afterAll(() => tf.dispose([x, labels]));

async function expectCode(code: AdvxErrorCode, fn: () => Promise<unknown>): Promise<void> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    ((await fn()) as AttackResult | undefined)?.dispose?.();
  } catch (e) {
    caught = e;
  }
  expect(isAdvxError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
  expect(tf.memory().numTensors).toBe(before);
}

describe('reference attacks on the base', () => {
  it('FGSM moves each sample by exactly epsilon·sign(∇x CE), computed by hand for a linear model', async () => {
    const eps = 0.05;
    const r = await gradientSign().run(model, x, { labels }, { epsilons: [eps] });
    const xs = (await x.array()) as number[][];
    const ys = (await labels.data()) as Int32Array;
    const out = (await r.clipped[0]!.array()) as number[][];
    const W = [
      [1, -1, 0.5, 0],
      [-1, 1, 0, 0.5],
      [0, 0, -0.5, -0.5],
    ];
    const b = [0, 0, 0.6];
    xs.forEach((row, i) => {
      const z = W.map((w, c) => w.reduce((s, wj, j) => s + wj * row[j]!, b[c]!));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const p = e.map((v) => v / e.reduce((s, q) => s + q, 0));
      // ∂CE/∂x_j = Σ_k (p_k − y_k) w_kj
      const g = row.map((_, j) => W.reduce((s, w, k) => s + (p[k]! - (k === ys[i] ? 1 : 0)) * w[j]!, 0));
      row.forEach((v, j) => {
        const expected = Math.min(1, Math.max(0, v + eps * Math.sign(g[j]!)));
        expect(out[i]![j]).toBeCloseTo(expected, 6);
      });
    });
    r.dispose();
  });

  it('passes the attack conformance suite (fixed-epsilon, untargeted and targeted)', async () => {
    assertConformance(await checkAttack(gradientSign({ steps: 10 }), fixture));
  });
  it('passes the suite with a random start (seeded per sample) and the l2 norm', async () => {
    assertConformance(await checkAttack(gradientSign({ steps: 10, randomStart: true, norm: 'l2' }), { ...fixture, epsilons: [0.1, 0.5, 1] }));
  });
  it('passes the suite as a minimization attack whose distances are the closed-form boundary distances', async () => {
    const report = await checkAttack(minimalLinear(), { ...fixture, epsilons: [0.05, 0.5, 1.5], minSuccess: 0.8 });
    assertConformance(report);
  });
  it('a score-based attack runs on a query model and counts every query per sample', async () => {
    const q = toQueryModel(model, { output: 'scores' });
    const r = await randomSearch({ steps: 4 }).run(q, x, { labels }, { epsilons: [0.3, 0.6] });
    // per sample: 1 clean query + per epsilon (4 attack queries + 1 success check)
    expect(Array.from(r.queries!)).toEqual(new Array(6).fill(1 + 2 * (4 + 1)));
    expect(q.queries).toBe(6 * 11);
    r.dispose();
    assertConformance(await checkAttack(randomSearch({ steps: 6 }), { ...fixture, model: toQueryModel(model, { output: 'scores' }), minSuccess: 0.5 }));
  });
  it('a score-based attack on a white-box model reports its own queries (the base checks through logits)', async () => {
    const r = await randomSearch({ steps: 4 }).run(model, x, { labels }, { epsilons: [0.3, 0.6] });
    expect(Array.from(r.queries!)).toEqual(new Array(6).fill(2 * 4));
    r.dispose();
    const w = await gradientSign({ steps: 2 }).run(model, x, { labels }, { epsilons: [0.3] });
    expect(w.queries).toBeUndefined();
    w.dispose();
  });
  it('counts a white-box model’s forward and backward passes over rows, not the base’s own checks; none for a query model', async () => {
    // 3 steps × 2 epsilons, one gradient per step, on 6 rows (earlyStop off: no success check between steps).
    const r = await gradientSign({ steps: 3, earlyStop: false }).run(model, x, { labels }, { epsilons: [0.1, 0.3] });
    expect(r.passes).toEqual({ forward: 36, backward: 36 });
    r.dispose();
    // The same in two batches (4 + 2 rows).
    const b = await gradientSign({ steps: 3, earlyStop: false }).run(model, x, { labels }, { epsilons: [0.1, 0.3], batchSize: 4 });
    expect(b.passes).toEqual({ forward: 36, backward: 36 });
    b.dispose();
    // With early stop the loop checks success after each step: one forward pass of the batch, no backward.
    const e = await gradientSign({ steps: 1 }).run(model, x, { labels }, { epsilons: [0.3] });
    expect(e.passes).toEqual({ forward: 12, backward: 6 });
    e.dispose();
    const q = await randomSearch({ steps: 2 }).run(toQueryModel(model, { output: 'scores' }), x, { labels }, { epsilons: [0.3] });
    expect(q.passes).toBeUndefined();
    q.dispose();
  });
  it('reports progress monotonically up to 1', async () => {
    const seen: Progress[] = [];
    const r = await gradientSign({ steps: 5, earlyStop: false }).run(
      model,
      x,
      { labels },
      { epsilons: [0.1, 0.2], batchSize: 4, onProgress: (p) => seen.push(p) },
    );
    r.dispose();
    const fractions = seen.map((p) => p.fraction);
    expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]!)).toBe(true);
    expect(fractions.at(-1)).toBe(1);
    expect(Math.max(...seen.map((p) => p.batches))).toBe(2);
  });
});

/** Wraps a correct attack, corrupting one aspect of its behaviour. */
function broken(good: Attack, name: string, run: Attack['run']): Attack {
  return { meta: { ...good.meta, name }, options: good.options, run };
}

function mapResult(r: AttackResult, change: { clipped?: tf.Tensor[]; success?: boolean[][]; distances?: Float32Array }): AttackResult {
  const clipped = change.clipped ?? r.clipped;
  if (change.clipped) tf.dispose(r.clipped.filter((t) => t !== r.raw));
  return {
    ...r,
    clipped,
    success: change.success ?? r.success,
    distances: change.distances ?? r.distances,
    dispose: () => tf.dispose([r.raw, ...clipped]),
  };
}

describe('the attack conformance suite catches broken implementations', () => {
  const good = gradientSign({ steps: 10 });
  const cases: [AttackCheck, Attack][] = [
    [
      'epsilon-ball',
      broken(good, 'outside-ball', async (m, xx, g, o) => {
        const r = await good.run(m, xx, g, o);
        return mapResult(r, { clipped: r.clipped.map((c) => tf.tidy(() => tf.clipByValue(tf.add(xx, tf.mul(tf.sub(c, xx), 3)), 0, 1))) });
      }),
    ],
    [
      'bounds',
      broken(good, 'outside-bounds', async (m, xx, g, o) => {
        const r = await good.run(m, xx, g, o);
        return mapResult(r, { clipped: r.clipped.map((c) => tf.add(c, 2)) });
      }),
    ],
    [
      'success-agrees',
      broken(good, 'lying-success', async (m, xx, g, o) => {
        const r = await good.run(m, xx, g, o);
        return mapResult(r, { success: r.success.map((s) => s.map(() => true)) });
      }),
    ],
    [
      'distances',
      broken(good, 'wrong-distances', async (m, xx, g, o) => {
        const r = await good.run(m, xx, g, o);
        return mapResult(r, { distances: new Float32Array(r.distances.length) });
      }),
    ],
    [
      'no-leak',
      broken(good, 'leaky', async (m, xx, g, o) => {
        tf.keep(tf.zeros([3]));
        return good.run(m, xx, g, o);
      }),
    ],
    [
      'deterministic',
      broken(good, 'unseeded', async (m, xx, g, o) => {
        const r = await good.run(m, xx, g, o);
        const jitter = Math.random();
        return mapResult(r, { clipped: r.clipped.map((c) => tf.tidy(() => tf.add(xx, tf.mul(tf.sub(c, xx), 0.5 + 0.5 * jitter)))) });
      }),
    ],
    [
      'batch-invariant',
      broken(good, 'batch-dependent', async (m, xx, g, o) => {
        const r = await good.run(m, xx, g, o);
        const shrink = o?.batchSize === 1 ? 0.5 : 1;
        return mapResult(r, { clipped: r.clipped.map((c) => tf.tidy(() => tf.add(xx, tf.mul(tf.sub(c, xx), shrink)))) });
      }),
    ],
    [
      'effective',
      broken(good, 'does-nothing', async (m, xx, g, o) => {
        const r = await good.run(m, xx, g, o);
        return mapResult(r, {
          clipped: r.clipped.map(() => tf.clone(xx)),
          success: r.success.map((s) => s.map(() => false)),
          distances: new Float32Array(r.distances.length).fill(Infinity),
        });
      }),
    ],
    [
      'targeted',
      broken(good, 'ignores-targets', async (m, xx, g: Goal, o) => {
        const labelsOnly: Goal = 'targets' in g && g.labels ? { labels: g.labels } : g;
        return good.run(m, xx, labelsOnly, o);
      }),
    ],
    [
      'rejects-bad-input',
      broken(good, 'no-validation', async (m, xx, g, o) => {
        try {
          return await good.run(m, xx, g, o);
        } catch {
          return good.run(m, x, { labels }, { epsilons: [0.1] });
        }
      }),
    ],
    ['abort', broken(good, 'ignores-abort', (m, xx, g, o?: RunOptions) => good.run(m, xx, g, { ...o, signal: undefined }))],
  ];
  for (const [check, attack] of cases) {
    it(`${attack.meta.name} fails '${check}'`, async () => {
      const report = await checkAttack(attack, fixture);
      expect(report.failures.map((f) => f.name)).toContain(check);
      expect(() => assertConformance(report)).toThrow(check);
    });
  }
});

describe('bad input fails fast with a clear AdvxError and leaks nothing', () => {
  const attack = gradientSign();
  const run = (xx: tf.Tensor, goal: Goal, o: RunOptions = { epsilons: [0.1] }) => attack.run(model, xx, goal, o);
  it('wrong rank or per-sample shape → INVALID_SHAPE', async () => {
    const flat = tf.zeros([4]);
    const wide = tf.zeros([2, 5]);
    await expectCode('INVALID_SHAPE', () => run(flat, { labels }));
    await expectCode('INVALID_SHAPE', () => run(wide, { labels }));
    tf.dispose([flat, wide]);
  });
  it('labels for another batch size → BATCH_MISMATCH', async () => {
    const few = tf.tensor1d([0, 1], 'int32');
    await expectCode('BATCH_MISMATCH', () => run(x, { labels: few }));
    few.dispose();
  });
  it('NaN or Infinity → NON_FINITE_INPUT', async () => {
    const nan = tf.tensor2d([[NaN, 0, 0, 0]]);
    const inf = tf.tensor2d([[Infinity, 0, 0, 0]]);
    const one = tf.tensor1d([0], 'int32');
    await expectCode('NON_FINITE_INPUT', () => run(nan, { labels: one }));
    await expectCode('NON_FINITE_INPUT', () => run(inf, { labels: one }));
    tf.dispose([nan, inf, one]);
  });
  it('values outside the bounds → OUT_OF_BOUNDS', async () => {
    const big = tf.tensor2d([[255, 0, 0, 0]]);
    const one = tf.tensor1d([0], 'int32');
    await expectCode('OUT_OF_BOUNDS', () => run(big, { labels: one }));
    tf.dispose([big, one]);
  });
  it('labels or targets out of range, or not integers → LABEL_OUT_OF_RANGE', async () => {
    const high = tf.tensor1d([0, 1, 2, 3, 0, 1], 'int32');
    const neg = tf.tensor1d([0, 1, 2, -1, 0, 1], 'int32');
    const frac = tf.tensor1d([0, 1, 2, 0.5, 0, 1], 'float32');
    await expectCode('LABEL_OUT_OF_RANGE', () => run(x, { labels: high }));
    await expectCode('LABEL_OUT_OF_RANGE', () => run(x, { labels: neg }));
    await expectCode('LABEL_OUT_OF_RANGE', () => run(x, { labels: frac }));
    await expectCode('LABEL_OUT_OF_RANGE', () => run(x, { targets: high, labels }));
    tf.dispose([high, neg, frac]);
  });
  it('a target equal to the true label → TARGET_EQUALS_LABEL', async () => {
    const targets = tf.tensor1d([1, 2, 0, 0, 2, 0], 'int32');
    await expectCode('TARGET_EQUALS_LABEL', () => run(x, { targets, labels }));
    targets.dispose();
  });
  it('non-positive, non-finite or missing epsilon → INVALID_EPSILON', async () => {
    for (const epsilons of [[0], [-0.1], [NaN], [Infinity], [0.1, -1], []]) {
      await expectCode('INVALID_EPSILON', () => run(x, { labels }, { epsilons }));
    }
    await expectCode('INVALID_EPSILON', () => run(x, { labels }, {}));
  });
  it('unknown norm → UNKNOWN_NORM; a norm the attack does not support → UNSUPPORTED_NORM', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return isAdvxError(e) ? e.code : String(e);
      }
      return 'no error';
    };
    expect(code(() => gradientSign({ norm: 'l7' as 'l2' }))).toBe('UNKNOWN_NORM');
    // @ts-expect-error the options type allows linf and l2 only; at run time the same mistake is UNSUPPORTED_NORM
    expect(code(() => gradientSign({ norm: 'l1' }))).toBe('UNSUPPORTED_NORM');
    expect(code(() => gradientSign({ stepz: 3 } as never))).toBe('INVALID_OPTION');
  });
  it('a model declared as logits that outputs probabilities → PROBABILITIES_NOT_LOGITS', async () => {
    const softmaxModel = fromFunction((xx) => tf.softmax(model.logits(xx)) as tf.Tensor2D, {
      inputShape: [4],
      numClasses: 3,
      bounds: [0, 1],
      output: 'logits',
    });
    await expectCode('PROBABILITIES_NOT_LOGITS', () => attack.run(softmaxModel, x, { labels }, { epsilons: [0.1] }));
  });
  it('a missing goal → INVALID_OPTION naming the goal, not a TypeError', async () => {
    await expectCode('INVALID_OPTION', () => attack.run(model, x, undefined as unknown as Goal, { epsilons: [0.1] }));
  });
  it('an exhausted query budget → QUERY_BUDGET_EXHAUSTED', async () => {
    const q = toQueryModel(model, { output: 'scores', budget: 20 });
    await expectCode('QUERY_BUDGET_EXHAUSTED', () => randomSearch({ steps: 4 }).run(q, x, { labels }, { epsilons: [0.3] }));
  });
  it('a white-box attack on a query-only model → UNSUPPORTED_MODEL', async () => {
    await expectCode('UNSUPPORTED_MODEL', () => attack.run(toQueryModel(model, { output: 'scores' }), x, { labels }, { epsilons: [0.1] }));
  });
  it('an aborted signal → ABORTED, before any work or midway', async () => {
    const before = new AbortController();
    before.abort();
    await expectCode('ABORTED', () => run(x, { labels }, { epsilons: [0.1], signal: before.signal }));
    const midway = new AbortController();
    let calls = 0;
    await expectCode('ABORTED', () =>
      gradientSign({ steps: 20, earlyStop: false }).run(
        model,
        x,
        { labels },
        {
          epsilons: [0.1, 0.2],
          batchSize: 2,
          signal: midway.signal,
          onProgress: () => {
            calls += 1;
            if (calls === 7) midway.abort();
          },
        },
      ),
    );
    expect(calls).toBe(7);
  });
});

describe('model-dependent validation', () => {
  it('checkModel runs before any work and its error propagates without a leak', async () => {
    const { defineAttack: define, AdvxError } = await import('../src/index.js');
    const needsFour = define({
      meta: { name: 'test-needs-four', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box', goals: ['untargeted'], randomized: false },
      options: {},
      checkModel: (m) => {
        if (m.numClasses < 4) throw new AdvxError('INVALID_OPTION', 'needs at least 4 classes');
      },
      perturb: () => {
        throw new Error('perturb must not run');
      },
    });
    await expectCode('INVALID_OPTION', () => needsFour().run(model, x, { labels }, { epsilons: [0.1] }));
  });
});
