import * as tf from '@tensorflow/tfjs-core';

import type { Attack, AttackResult, RunOptions } from '../attack.js';
import type { Goal } from '../goals.js';
import { randomTargets } from '../goals.js';
import { isAdvxError } from '../errors.js';
import type { AnyModel } from '../model.js';
import { getNorm } from '../norms/index.js';
import { ensure, Suite, type ConformanceReport } from './report.js';
import { expectAdvxError, maxAbsDiff, predictClasses, rate } from './util.js';

/**
 * Names of the checks of {@link checkAttack}.
 *
 * @public
 */
export type AttackCheck =
  | 'main-run'
  | 'result-shape'
  | 'bounds'
  | 'epsilon-ball'
  | 'success-agrees'
  | 'distances'
  | 'deterministic'
  | 'batch-invariant'
  | 'no-leak'
  | 'targeted'
  | 'effective'
  | 'rejects-bad-input'
  | 'abort'
  | 'pass-budget';

/**
 * The data an attack is checked on.
 *
 * @public
 */
export interface AttackFixture {
  /** The model under attack. */
  readonly model: AnyModel;
  /** A batch inside the model's bounds (a few samples suffice). */
  readonly x: tf.Tensor;
  /** True labels. */
  readonly labels: tf.Tensor1D;
  /** Epsilons, ascending; the largest should make the attack succeed on most samples. */
  readonly epsilons: readonly number[];
  /** Targets for the targeted check (default: `randomTargets(labels, numClasses, seed)`). */
  readonly targets?: tf.Tensor1D;
  /** Seed (default 0). */
  readonly seed?: number;
  /** Minimum untargeted success rate at the largest epsilon (default: above the clean error rate). */
  readonly minSuccess?: number;
  /** Minimum targeted success rate at the largest epsilon (default 0.5). */
  readonly minTargetedSuccess?: number;
  /** Numeric tolerance for ball and bounds checks, relative to the bounds' width (default 1e-5). */
  readonly tolerance?: number;
  /** Checks to skip, each with the reason (e.g. a backend limitation). */
  readonly skip?: Partial<Record<AttackCheck, string>>;
}

interface RunRecord {
  result: AttackResult;
  leaked: number;
}

async function runAndMeasure(attack: Attack, model: AnyModel, x: tf.Tensor, goal: Goal, options: RunOptions): Promise<RunRecord> {
  const before = tf.memory().numTensors;
  const result = await attack.run(model, x, goal, options);
  const live = tf.memory().numTensors - before;
  const owned = new Set([result.raw, ...result.clipped]).size;
  return { result, leaked: live - owned };
}

/**
 * The attack conformance suite: checks that an {@link Attack} keeps the advx contract on a fixture —
 * results inside the bounds and each epsilon ball, success flags that agree with the model,
 * distances consistent with success, determinism under a seed, independence from the batch size,
 * no tensor leak, targeted runs reaching their targets, effectiveness, rejection of bad input, abort
 * and a per-sample pass budget (valid under a tight one, unchanged under one no sample reaches). Test-runner agnostic: returns a report; see {@link assertConformance}.
 *
 * @example
 * ```ts
 * import { checkAttack, assertConformance } from '@advx/core/testing';
 * assertConformance(await checkAttack(pgd({ steps: 10 }), { model, x, labels, epsilons: [0.1, 0.3] }));
 * ```
 * @public
 */
export async function checkAttack(attack: Attack, fixture: AttackFixture): Promise<ConformanceReport> {
  const { model, x, labels } = fixture;
  const meta = attack.meta;
  const suite = new Suite(meta?.name ?? 'attack', fixture.skip as Record<string, string> | undefined);
  const seed = fixture.seed ?? 0;
  const n = x.shape[0];
  const [lo, hi] = model.bounds;
  const tol = (fixture.tolerance ?? 1e-5) * Math.max(1, hi - lo);
  const epsilons = [...fixture.epsilons];
  const normName = (attack.options as { norm?: string }).norm ?? meta.norms[0] ?? 'linf';
  const norm = getNorm(normName);
  const baseOptions: RunOptions = { epsilons, seed };
  const targetedOnly = !meta.goals.includes('untargeted');
  const ownTargets = targetedOnly && !fixture.targets ? await randomTargets(labels, model.numClasses, seed) : undefined;
  const targets = fixture.targets ?? ownTargets;
  // The goal of the main run: untargeted when supported, else targeted.
  const untargeted: Goal = targetedOnly && targets ? { targets, labels } : { labels };
  const goalClasses = targetedOnly && targets ? targets : labels;
  const reached = (pred: ArrayLike<number>, classes: ArrayLike<number>, i: number) => (targetedOnly ? pred[i] === classes[i] : pred[i] !== classes[i]);
  /** Every clipped output inside its epsilon ball. */
  const checkBall = async (result: AttackResult, what = 'clipped'): Promise<void> => {
    for (let e = 0; e < result.clipped.length; e++) {
      const eps = epsilons[e] as number;
      const d = norm.distance(result.clipped[e] as tf.Tensor, x);
      const values = await d.data();
      d.dispose();
      const worst = Math.max(...Array.from(values));
      const slack = normName === 'l0' ? 0 : tol + 1e-6 * eps;
      ensure(worst <= eps + slack, `${what}[${e}] reaches ${normName} distance ${worst} > epsilon ${eps}`);
    }
  };
  /** Every success flag as the model predicts it. */
  const checkSuccess = async (result: AttackResult, what = 'success'): Promise<void> => {
    const classes = (await goalClasses.data()) as Int32Array;
    for (let e = 0; e < result.clipped.length; e++) {
      const pred = await predictClasses(model, result.clipped[e] as tf.Tensor);
      const mismatch = Array.from(pred).findIndex((_, i) => reached(pred, classes, i) !== result.success[e]?.[i]);
      ensure(
        mismatch < 0,
        `${what}[${e}][${mismatch}] = ${result.success[e]?.[mismatch]} but the model predicts ${pred[mismatch]} for goal class ${classes[mismatch]}`,
      );
    }
  };

  let main: RunRecord | undefined;
  await suite.check('main-run', async () => {
    main = await runAndMeasure(attack, model, x, untargeted, baseOptions);
  });
  await suite.check('no-leak', async () => {
    ensure(main !== undefined, 'the main run threw');
    ensure(main.leaked === 0, `run() left ${main.leaked} tensor(s) alive besides the result's raw and clipped tensors`);
    const before = tf.memory().numTensors;
    const again = await attack.run(model, x, untargeted, baseOptions);
    again.dispose();
    const after = tf.memory().numTensors;
    ensure(after === before, `tf.memory().numTensors went from ${before} to ${after} across run() + dispose()`);
  });
  if (!main) {
    for (const name of [
      'result-shape',
      'bounds',
      'epsilon-ball',
      'success-agrees',
      'distances',
      'deterministic',
      'batch-invariant',
      'effective',
      'pass-budget',
    ]) {
      suite.skipCheck(name, 'the main run failed (see main-run)');
    }
  } else {
    const { result } = main;
    const shapeOk = result.clipped.length === epsilons.length && result.success.length === epsilons.length;
    await suite.check('result-shape', () => {
      ensure(result.epsilons.join() === epsilons.join(), `result.epsilons ${result.epsilons.join()} ≠ requested ${epsilons.join()}`);
      ensure(shapeOk, `expected ${epsilons.length} clipped/success rows, got ${result.clipped.length}/${result.success.length}`);
      ensure(result.raw.shape.join() === x.shape.join(), `raw has shape [${result.raw.shape}] instead of [${x.shape}]`);
      result.clipped.forEach((c, e) => ensure(c.shape.join() === x.shape.join(), `clipped[${e}] has shape [${c.shape}]`));
      result.success.forEach((s, e) => ensure(s.length === n, `success[${e}] has ${s.length} entries, expected ${n}`));
      ensure(result.distances.length === n, `distances has ${result.distances.length} entries, expected ${n}`);
    });
    await suite.check('bounds', async () => {
      for (const [name, t] of [['raw', result.raw], ...result.clipped.map((c, e) => [`clipped[${e}]`, c] as const)] as const) {
        const mm = tf.tidy(() => tf.stack([tf.min(t), tf.max(t)]));
        const [mn, mx] = await mm.data();
        mm.dispose();
        ensure((mn as number) >= lo - tol && (mx as number) <= hi + tol, `${name} spans [${mn}, ${mx}], outside bounds [${lo}, ${hi}]`);
      }
    });
    await suite.check('epsilon-ball', () => checkBall(result));
    await suite.check('success-agrees', () => checkSuccess(result));
    await suite.check('distances', async () => {
      const d = norm.distance(result.raw, x);
      const values = await d.data();
      d.dispose();
      let rawAdv: boolean[];
      if (meta.kind === 'minimization') {
        const pred = await predictClasses(model, result.raw);
        const classes = await goalClasses.data();
        rawAdv = Array.from(pred, (_, i) => reached(pred, classes, i));
      } else {
        rawAdv = Array.from({ length: n }, (_, i) => result.success.some((s) => s[i]));
      }
      for (let i = 0; i < n; i++) {
        const di = result.distances[i] as number;
        ensure(Number.isFinite(di) === rawAdv[i], `distances[${i}] = ${di} but raw[${i}] is ${rawAdv[i] ? '' : 'not '}adversarial`);
        if (Number.isFinite(di)) {
          const ref = values[i] as number;
          ensure(Math.abs(di - ref) <= tol + 1e-5 * ref, `distances[${i}] = ${di} but ‖raw − x‖ = ${ref}`);
        }
      }
    });
    await suite.check('deterministic', async () => {
      const again = await attack.run(model, x, untargeted, baseOptions);
      try {
        for (let e = 0; e < epsilons.length; e++) {
          const diff = await maxAbsDiff(again.clipped[e] as tf.Tensor, result.clipped[e] as tf.Tensor);
          ensure(diff === 0, `two runs with seed ${seed} differ by ${diff} at epsilon ${epsilons[e]}`);
          ensure(again.success[e]?.join() === result.success[e]?.join(), `two runs with seed ${seed} differ in success at epsilon ${epsilons[e]}`);
        }
      } finally {
        again.dispose();
      }
    });
    await suite.check('batch-invariant', async () => {
      const single = await attack.run(model, x, untargeted, { ...baseOptions, batchSize: 1 });
      try {
        for (let e = 0; e < epsilons.length; e++) {
          const diff = await maxAbsDiff(single.clipped[e] as tf.Tensor, result.clipped[e] as tf.Tensor);
          ensure(diff <= 1e-4 * Math.max(1, hi - lo), `batchSize 1 and batchSize ${n} differ by ${diff} at epsilon ${epsilons[e]}`);
          ensure(single.success[e]?.join() === result.success[e]?.join(), `batchSize 1 and batchSize ${n} differ in success at epsilon ${epsilons[e]}`);
        }
      } finally {
        single.dispose();
      }
    });
    await suite.check('effective', async () => {
      const pred = await predictClasses(model, x);
      const classes = await goalClasses.data();
      const cleanError = rate(Array.from(pred, (_, i) => reached(pred, classes, i)));
      const last = rate(result.success[result.success.length - 1] ?? []);
      if (fixture.minSuccess !== undefined) {
        ensure(last >= fixture.minSuccess, `success rate ${last} at epsilon ${epsilons[epsilons.length - 1]} is below the required ${fixture.minSuccess}`);
      } else {
        ensure(
          last > cleanError,
          `success rate ${last} at epsilon ${epsilons[epsilons.length - 1]} does not exceed the clean error rate ${cleanError}: accuracy did not drop`,
        );
      }
      return `success rate ${last} (clean error ${cleanError})`;
    });
    if (meta.scope === 'dataset') {
      await suite.check('pass-budget', async () => {
        // A per-sample budget does not apply to a perturbation fitted on all samples: refused before any work.
        const before = tf.memory().numTensors;
        let code = 'no error';
        try {
          (await attack.run(model, x, untargeted, { ...baseOptions, maxPasses: 2 })).dispose();
        } catch (e) {
          code = isAdvxError(e) ? e.code : String(e);
        }
        ensure(code === 'INVALID_OPTION', `a dataset-level attack run with maxPasses should throw INVALID_OPTION, got ${code}`);
        ensure(tf.memory().numTensors === before, 'the refused run with maxPasses leaked tensors');
        return 'dataset-level: maxPasses refused';
      });
    } else if (model.kind === 'model') {
      await suite.check('pass-budget', async () => {
        const units = meta.kind === 'minimization' ? 1 : epsilons.length;
        // A budget of 2 (one gradient) per sample: a valid result inside every ball, nothing leaked.
        const before = tf.memory().numTensors;
        const tight = await attack.run(model, x, untargeted, { ...baseOptions, maxPasses: 2 });
        try {
          ensure(
            tight.budget?.maxPasses === 2 && tight.budget.exhausted.length === units,
            `a run with maxPasses 2 reports budget ${JSON.stringify(tight.budget)}`,
          );
          await checkBall(tight, 'clipped with maxPasses 2: clipped');
          await checkSuccess(tight, 'with maxPasses 2: success');
        } finally {
          tight.dispose();
        }
        ensure(tf.memory().numTensors === before, 'the run with maxPasses 2 leaked tensors');
        // A budget no sample reaches changes nothing.
        const most = Math.max(1, ...Array.from(result.samplePasses ?? []));
        const loose = await attack.run(model, x, untargeted, { ...baseOptions, maxPasses: most + 1 });
        try {
          for (let e = 0; e < epsilons.length; e++) {
            const diff = await maxAbsDiff(loose.clipped[e] as tf.Tensor, result.clipped[e] as tf.Tensor);
            ensure(
              diff === 0 && loose.success[e]?.join() === result.success[e]?.join(),
              `maxPasses ${most + 1}, above every sample's passes, changed the result at epsilon ${epsilons[e]} (by ${diff})`,
            );
          }
          ensure(
            loose.budget?.exhausted.every((c) => c === 0) === true,
            `no sample should exhaust maxPasses ${most + 1}; exhausted: ${loose.budget?.exhausted.join(', ')}`,
          );
        } finally {
          loose.dispose();
        }
      });
    } else {
      suite.skipCheck('pass-budget', 'pass budgets count white-box passes; this is a query model');
    }
    result.dispose();
  }

  if (meta.goals.includes('targeted')) {
    await suite.check('targeted', async () => {
      const targets = fixture.targets ?? ownTargets ?? (await randomTargets(labels, model.numClasses, seed));
      try {
        const before = tf.memory().numTensors;
        const r = await attack.run(model, x, { targets, labels }, baseOptions);
        try {
          const t = await targets.data();
          const last = r.clipped.length - 1;
          const pred = await predictClasses(model, r.clipped[last] as tf.Tensor);
          const flags = r.success[last] ?? [];
          const wrong = Array.from(pred).findIndex((p, i) => (p === t[i]) !== flags[i]);
          ensure(wrong < 0, `targeted success[${last}][${wrong}] = ${flags[wrong]} but the model predicts ${pred[wrong]} for target ${t[wrong]}`);
          const min = fixture.minTargetedSuccess ?? 0.5;
          ensure(rate(flags) >= min, `targeted success rate ${rate(flags)} is below ${min}: targets were not reached`);
        } finally {
          r.dispose();
        }
        ensure(tf.memory().numTensors === before, 'the targeted run leaked tensors');
      } finally {
        if (!fixture.targets && targets !== ownTargets) targets.dispose();
      }
    });
  } else {
    suite.skipCheck('targeted', `${meta.name} supports only untargeted goals`);
  }

  await suite.check('rejects-bad-input', async () => {
    const bad = tf.tidy(() => {
      const flat = tf.reshape(x, [n, -1]);
      const nanRow = tf.concat([tf.fill([1, 1], NaN), tf.slice(flat, [0, 1], [1, -1])], 1);
      return tf.reshape(tf.concat([nanRow, tf.slice(flat, [1, 0], [-1, -1])], 0), x.shape);
    });
    const outOfRange = tf.tidy(() => tf.fill([n], model.numClasses, 'int32') as tf.Tensor1D);
    const tooFew = tf.tidy(() => tf.slice(labels, 0, Math.max(0, n - 1)) as tf.Tensor1D);
    try {
      await expectAdvxError('x with NaN', 'NON_FINITE_INPUT', () => attack.run(model, bad, untargeted, baseOptions));
      const badLabels = (l: tf.Tensor1D): Goal => (targetedOnly ? { targets: l } : { labels: l });
      await expectAdvxError('classes out of range', 'LABEL_OUT_OF_RANGE', () => attack.run(model, x, badLabels(outOfRange), baseOptions));
      await expectAdvxError('classes of another batch size', 'BATCH_MISMATCH', () => attack.run(model, x, badLabels(tooFew), baseOptions));
      await expectAdvxError('negative epsilon', 'INVALID_EPSILON', () => attack.run(model, x, untargeted, { ...baseOptions, epsilons: [-1] }));
    } finally {
      tf.dispose([bad, outOfRange, tooFew]);
    }
  });

  await suite.check('abort', async () => {
    const aborted = new AbortController();
    aborted.abort();
    await expectAdvxError('an already aborted signal', 'ABORTED', () => attack.run(model, x, untargeted, { ...baseOptions, signal: aborted.signal }));
    const midway = new AbortController();
    await expectAdvxError('a signal aborted at the first progress report', 'ABORTED', () =>
      attack.run(model, x, untargeted, { ...baseOptions, signal: midway.signal, onProgress: () => midway.abort() }),
    );
    // Aborted in the middle of the attack's own loop: whatever it holds then must be released too.
    const late = new AbortController();
    let reports = 0;
    const before = tf.memory().numTensors;
    let caught: unknown;
    try {
      const r = await attack.run(model, x, untargeted, { ...baseOptions, signal: late.signal, onProgress: () => (++reports === 3 ? late.abort() : undefined) });
      r.dispose();
    } catch (e) {
      caught = e;
    }
    ensure(
      caught === undefined || isAdvxError(caught, 'ABORTED'),
      `aborted at the 3rd progress report, run() threw ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)} instead of AdvxError ABORTED`,
    );
    const leaked = tf.memory().numTensors - before;
    ensure(leaked === 0, `aborted at the 3rd progress report, run() leaked ${leaked} tensor(s)`);
  });

  ownTargets?.dispose();
  return suite.report();
}
