import * as tf from '@tensorflow/tfjs-core';

import type { Attack, AttackResult, RunOptions } from '../attack.js';
import type { Goal } from '../goals.js';
import type { AnyModel } from '../model.js';
import { ensure, Suite, type ConformanceReport } from './report.js';

/**
 * Names of the checks of {@link checkConcurrentRuns}.
 *
 * @public
 */
export type ConcurrencyCheck = 'sequential' | 'concurrent' | 'same-results' | 'inputs-intact' | 'no-leak';

/**
 * One run of {@link checkConcurrentRuns}: an attack with everything its `run` takes.
 *
 * @public
 */
export interface ConcurrentRun {
  /** Shown in failure messages (default: the attack's name and the run's position). */
  readonly label?: string;
  /** The attack. */
  readonly attack: Attack;
  /** The model under attack. */
  readonly model: AnyModel;
  /** The batch. */
  readonly x: tf.Tensor;
  /** The goal. */
  readonly goal: Goal;
  /** The run's options (give a seed: the comparison is exact). */
  readonly options: RunOptions;
}

/** A result read back to plain arrays (so it can be compared after its tensors are released). */
interface Snapshot {
  readonly raw: Float32Array;
  readonly clipped: readonly Float32Array[];
  readonly success: readonly (readonly boolean[])[];
  readonly distances: Float32Array;
  readonly queries?: Int32Array;
}

async function snapshot(result: AttackResult): Promise<Snapshot> {
  try {
    const raw = Float32Array.from(await result.raw.data());
    const clipped: Float32Array[] = [];
    for (const c of result.clipped) clipped.push(Float32Array.from(await c.data()));
    return {
      raw,
      clipped,
      success: result.success.map((s) => [...s]),
      distances: Float32Array.from(result.distances),
      ...(result.queries ? { queries: Int32Array.from(result.queries) } : {}),
    };
  } finally {
    result.dispose();
  }
}

/** The first difference between two snapshots, or `undefined` when they are identical. */
function difference(a: Snapshot, b: Snapshot): string | undefined {
  const firstDiff = (x: ArrayLike<number>, y: ArrayLike<number>): number => {
    if (x.length !== y.length) return 0;
    for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return i;
    return -1;
  };
  let i = firstDiff(a.raw, b.raw);
  if (i >= 0) return `raw[${i}] is ${b.raw[i]} instead of ${a.raw[i]}`;
  if (a.clipped.length !== b.clipped.length) return `${b.clipped.length} clipped tensors instead of ${a.clipped.length}`;
  for (let e = 0; e < a.clipped.length; e++) {
    const ca = a.clipped[e] as Float32Array;
    const cb = b.clipped[e] as Float32Array;
    i = firstDiff(ca, cb);
    if (i >= 0) return `clipped[${e}][${i}] is ${cb[i]} instead of ${ca[i]}`;
  }
  const sa = a.success.map((s) => s.join()).join(';');
  const sb = b.success.map((s) => s.join()).join(';');
  if (sa !== sb) return `success is ${sb} instead of ${sa}`;
  i = firstDiff(a.distances, b.distances);
  if (i >= 0) return `distances[${i}] is ${b.distances[i]} instead of ${a.distances[i]}`;
  if ((a.queries === undefined) !== (b.queries === undefined)) return 'queries are counted in one run only';
  if (a.queries && b.queries) {
    i = firstDiff(a.queries, b.queries);
    if (i >= 0) return `queries[${i}] is ${b.queries[i]} instead of ${a.queries[i]}`;
  }
  return undefined;
}

/**
 * The concurrency conformance suite: runs each of `runs` alone, one after the other, then all of
 * them at once with `Promise.all` on the same engine (as a page running two attacks, or a server
 * answering two requests, would), and checks that every overlapped run completes, gives exactly its
 * sequential result (adversarials, success, distances, query counts), leaves its inputs usable and
 * leaks no tensor. Give at least two runs; they may use the same attack. Test-runner agnostic: returns
 * a report; see {@link assertConformance}.
 *
 * @example
 * ```ts
 * import { checkConcurrentRuns, assertConformance } from '@advx/core/testing';
 * assertConformance(await checkConcurrentRuns([
 *   { attack: pgd({ steps: 5 }), model, x, goal: { labels }, options: { epsilons: [0.1], seed: 0 } },
 *   { attack: fgsm(), model, x, goal: { labels }, options: { epsilons: [0.1, 0.3] } },
 * ]));
 * ```
 * @public
 */
export async function checkConcurrentRuns(runs: readonly ConcurrentRun[]): Promise<ConformanceReport> {
  const names = runs.map((r, i) => r.label ?? `${r.attack.meta?.name ?? 'attack'} #${i + 1}`);
  const suite = new Suite(`concurrent runs of ${names.join(' and ')}`);
  if (runs.length < 2) {
    await suite.check('sequential', () => ensure(false, `give at least two runs to overlap, got ${runs.length}`));
    return suite.report();
  }
  const sequential: Snapshot[] = [];
  await suite.check('sequential', async () => {
    for (const r of runs) sequential.push(await snapshot(await r.attack.run(r.model, r.x, r.goal, r.options)));
  });
  const before = tf.memory().numTensors;
  let overlapped: Snapshot[] | undefined;
  await suite.check('concurrent', async () => {
    const settled = await Promise.allSettled(runs.map((r) => r.attack.run(r.model, r.x, r.goal, r.options)));
    const snaps: Snapshot[] = [];
    const errors: string[] = [];
    for (const [i, s] of settled.entries()) {
      if (s.status === 'fulfilled') snaps.push(await snapshot(s.value));
      else errors.push(`${names[i]} threw ${s.reason instanceof Error ? `${s.reason.name}: ${s.reason.message}` : String(s.reason)}`);
    }
    ensure(errors.length === 0, errors.join('; '));
    overlapped = snaps;
  });
  if (overlapped === undefined || sequential.length !== runs.length) {
    suite.skipCheck('same-results', 'a sequential or an overlapped run failed (see above)');
  } else {
    const results = overlapped;
    await suite.check('same-results', () => {
      const diffs = runs.map((_, i) => {
        const d = difference(sequential[i] as Snapshot, results[i] as Snapshot);
        return d === undefined ? undefined : `${names[i]}: ${d} (overlapped vs. alone)`;
      });
      const found = diffs.filter((d): d is string => d !== undefined);
      ensure(found.length === 0, found.join('; '));
    });
  }
  await suite.check('inputs-intact', () => {
    const gone = runs.flatMap((r, i) => {
      const goalTensors = Object.values(r.goal).filter((t): t is tf.Tensor => t instanceof tf.Tensor);
      return [r.x, ...goalTensors].some((t) => t.isDisposed) ? [names[i] as string] : [];
    });
    ensure(gone.length === 0, `inputs of ${gone.join(', ')} were disposed by an overlapping run`);
  });
  await suite.check('no-leak', () => {
    const after = tf.memory().numTensors;
    ensure(after === before, `tf.memory().numTensors went from ${before} to ${after} across the overlapped runs and their disposal`);
  });
  return suite.report();
}
