/**
 * The iteration loop of {@link AttackContext.iterate}: memory, abort, progress, per-sample early
 * stop, and the pruning of rows that are done.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import type { AttackContext, IterationState, IterationStep, SubsetContext } from './define-attack.js';
import { gatherRows, scatterRows, whereRows } from './rows.js';

/**
 * The state shrinks to the rows still running once at most this fraction of its rows is: a
 * geometric schedule, so a batch of 128 takes at most 17 distinct shapes (backends that compile
 * per shape, such as WebGPU, compile few programs) and each copy is paid back by the steps saved.
 */
const COMPACT_AT = 0.75;

async function readFlags(t: tf.Tensor1D): Promise<Uint8Array> {
  return Uint8Array.from(await t.data(), (v) => (v ? 1 : 0));
}

/** Settings of one loop. */
export interface IterationSettings {
  /** Freeze each row at its first adversarial iterate and prune rows once frozen. */
  readonly earlyStop: boolean;
  /** Abort point and progress report, called before every step. */
  checkpoint(step: number, steps: number): Promise<void>;
  /**
   * Under a pass budget: per row of the context (`rows`: indices into it, `undefined` = all), 1 once
   * it spent its budget. Such rows are done: they leave like early-stopped rows, with their values.
   */
  readonly spent?: ((rows: Int32Array | undefined) => Uint8Array) | undefined;
}

/**
 * Runs `steps` iterations of `step` on `ctx`'s batch (see {@link AttackContext.iterate}). With
 * early stop, a row freezes at its first adversarial iterate; once at most {@link COMPACT_AT} of the
 * state's rows are still running, the state keeps only those (per-row tensors are those of `init`
 * whose first dimension is the batch's row count) and `step` receives a {@link SubsetContext} of
 * them. The frozen rows' values are copied out and put back, unchanged, in the returned state.
 */
export async function runIterations<O, S extends IterationState>(
  ctx: AttackContext<O>,
  settings: IterationSettings,
  init: S,
  steps: number,
  step: IterationStep<O, S>,
): Promise<S> {
  const { n } = ctx;
  const { earlyStop } = settings;
  const canCheck = ctx.model.kind === 'model';
  // The context's own tensors stay; every other tensor of the state is the loop's to release once replaced.
  const kept = new Set<tf.Tensor>([ctx.x, ctx.active]);
  const perRow = Object.keys(init).filter((key) => {
    const t = init[key] as tf.Tensor;
    return t.rank > 0 && t.shape[0] === n;
  });
  const release = (tensors: Iterable<tf.Tensor>, live: ReadonlySet<tf.Tensor> = new Set()) => {
    for (const t of tensors) if (!kept.has(t) && !live.has(t) && !t.isDisposed) t.dispose();
  };

  let state: S = init;
  /** Rows of `ctx` the state holds, ascending; `undefined` = all of them. */
  let index: Int32Array | undefined;
  /** The context of those rows, once some have left. */
  let view: SubsetContext<O> | undefined;
  /** Per-row tensors of every row of `ctx`, as of the last compaction. */
  let full: Record<string, tf.Tensor> | undefined;
  let frozen = tf.logicalNot(ctx.active) as tf.Tensor1D;
  /** Per row of the state: 1 once it is done (frozen); `undefined` while unknown. */
  let flags: Uint8Array | undefined = earlyStop ? await readFlags(frozen) : undefined;

  /** Keeps only the rows of the state not flagged in `flags`; stores the current values of all. */
  const compact = (): void => {
    const f = flags as Uint8Array;
    const running = Int32Array.from(Array.from(f.keys()).filter((j) => !f[j]));
    const before = state;
    const nextFull: Record<string, tf.Tensor> = {};
    const gathered: Record<string, tf.Tensor> = {};
    for (const key of perRow) {
      const t = before[key];
      if (t === undefined) continue;
      const stored = full?.[key];
      nextFull[key] = stored && index ? tf.tidy(() => scatterRows(stored, t, index as Int32Array)) : t;
      gathered[key] = gatherRows(t, running);
    }
    const nextIndex = index ? Int32Array.from(running, (j) => (index as Int32Array)[j] as number) : running;
    const nextView = ctx.subset(nextIndex);
    const stored = new Set(Object.values(nextFull));
    if (full) release(Object.values(full), stored);
    release(
      perRow.map((key) => before[key]).filter((t): t is tf.Tensor => t !== undefined),
      stored,
    );
    // Tensors of the old view that the state still holds (a step may return `rows.x`) are copied first.
    if (view) {
      const own = new Set<tf.Tensor>([view.x, view.active]);
      for (const [key, t] of Object.entries(nextFull)) if (own.has(t)) nextFull[key] = tf.clone(t);
      view.dispose();
    }
    full = nextFull;
    state = { ...before, ...gathered } as S;
    index = nextIndex;
    view = nextView;
    frozen.dispose();
    frozen = tf.zeros([running.length], 'bool') as tf.Tensor1D;
    flags = new Uint8Array(running.length);
  };

  const live = (): number => {
    let count = 0;
    for (const f of flags as Uint8Array) if (!f) count++;
    return count;
  };

  try {
    for (let i = 0; i < steps; i++) {
      const spent = settings.spent?.(index);
      if (spent && spent.some((v) => v)) {
        if (!flags) {
          if (spent.every((v) => v)) break;
        } else {
          const f = flags;
          if (spent.some((v, j) => v && !f[j])) {
            spent.forEach((v, j) => (f[j] = (f[j] as number) | v));
            const previous = frozen;
            frozen = tf.tidy(() => tf.logicalOr(previous, tf.tensor1d(spent, 'bool')) as tf.Tensor1D);
            previous.dispose();
          }
        }
      }
      if (flags) {
        const running = live();
        if (running === 0) break;
        if (running <= COMPACT_AT * (flags.length as number)) compact();
      }
      await settings.checkpoint(i, steps);
      const rows = view ?? ctx;
      const m = rows.n;
      const prev = state;
      const frozenNow = frozen;
      const { next, reported } = tf.tidy(() => {
        const out = step(prev, i, rows);
        const { adversarial, ...rest } = out as S & { adversarial?: tf.Tensor1D };
        const merged: Record<string, tf.Tensor> = {};
        const keep = earlyStop && adversarial ? (tf.logicalOr(frozenNow, adversarial) as tf.Tensor1D) : frozenNow;
        for (const [key, t] of Object.entries(rest)) {
          const old = prev[key];
          merged[key] = old && t.rank > 0 && t.shape[0] === m && old.shape.join() === t.shape.join() ? whereRows(keep, old, t) : t;
        }
        return { next: merged as S, reported: earlyStop && adversarial ? tf.clone(keep) : undefined };
      });
      release(Object.values(prev), new Set(Object.values(next)));
      state = next;
      if (!earlyStop) continue;
      const updated = reported ?? (canCheck ? tf.tidy(() => tf.logicalOr(frozenNow, rows.isAdversarial(next.x)) as tf.Tensor1D) : undefined);
      if (updated === undefined) {
        flags = undefined;
        continue;
      }
      frozenNow.dispose();
      frozen = updated;
      flags = await readFlags(frozen);
    }
    if (full) {
      const parts = full;
      const at = index as Int32Array;
      const current = state;
      const whole: Record<string, tf.Tensor> = { ...current };
      for (const key of perRow) {
        const stored = parts[key];
        const t = current[key];
        if (stored !== undefined && t !== undefined) whole[key] = scatterRows(stored, t, at);
      }
      const result = new Set(Object.values(whole));
      release(Object.values(parts), result);
      release(Object.values(current), result);
      full = undefined;
      state = whole as S;
    }
  } catch (err) {
    // Aborted or failed mid-loop: release the state the loop owns (no engine scope will).
    release(Object.values(state));
    if (full) release(Object.values(full));
    throw err;
  } finally {
    frozen.dispose();
    view?.dispose();
  }
  return state;
}
