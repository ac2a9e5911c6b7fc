import type { Progress } from '../attack.js';
import { AdvxError } from '../errors.js';
import { option } from '../options.js';

/** How often a long loop gives the event loop a turn, in milliseconds. */
const YIELD_EVERY_MS = 25;

/**
 * The `ABORTED` error of a method named `who` (an attack's base, `trainPatch`, a training loop).
 *
 * @public
 */
export function abortedError(who: string): AdvxError {
  return new AdvxError('ABORTED', `${who} was aborted through its AbortSignal; partial results were released.`);
}

/**
 * Resolves after the event loop had a turn (`setImmediate` where there is one, else a 0 ms timer),
 * so that a long computation lets timers, I/O and a page's rendering run.
 *
 * @public
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * What a long-running method is given to stop and report: an `AbortSignal` and a progress callback,
 * each optional (`null` as `option.optional` resolves them).
 *
 * @public
 */
export interface CheckpointOptions {
  /** Aborts the method at its next checkpoint. */
  readonly signal?: AbortSignal | null;
  /** Called at every checkpoint. */
  readonly onProgress?: ((progress: Progress) => void) | null;
}

/**
 * The `signal` and `onProgress` options of a long-running method, to spread into its option schema
 * (both default to `null`); pass the resolved pair to {@link makeCheckpoint}.
 *
 * @example
 * ```ts
 * const SCHEMA = { steps: option.integer(100, 'steps', { min: 1 }), ...CHECKPOINT_OPTIONS };
 * ```
 * @public
 */
export const CHECKPOINT_OPTIONS = {
  /** Aborts the run at its next checkpoint. */
  signal: option.custom<AbortSignal | null>(null, 'aborts the run: it throws ABORTED at the next step and leaks nothing', {
    type: 'an AbortSignal or null',
    accepts: (v) => v === null || (typeof v === 'object' && typeof (v as AbortSignal).aborted === 'boolean'),
  }),
  /** Called at every checkpoint. */
  onProgress: option.custom<((progress: Progress) => void) | null>(null, 'called at every step with the fraction done', {
    type: 'a function or null',
    accepts: (v) => v === null || typeof v === 'function',
  }),
};

/**
 * The abort point and progress report of a long loop.
 *
 * @public
 */
export type Checkpoint = (progress: Progress) => Promise<void>;

/**
 * The checkpoint of a method named `who`: each call throws `ABORTED` (naming `who`) when `signal`
 * is aborted, before and after reporting `progress` to `onProgress` (which may abort), and yields
 * to the event loop at most every 25 ms. Every long loop of a method outside `defineAttack` calls
 * one per step, so that abort, progress and responsiveness behave the same in every method.
 *
 * @example
 * ```ts
 * const checkpoint = makeCheckpoint('trainPatch', { signal, onProgress });
 * for (let step = 0; step < steps; step++) {
 *   await checkpoint({ fraction: step / steps, batch: 0, batches: 1, epsilonIndex: 0, step, steps });
 *   // ... one step, its tensors in tf.tidy
 * }
 * ```
 * @public
 */
export function makeCheckpoint(who: string, { signal, onProgress }: CheckpointOptions): Checkpoint {
  let lastYield = Date.now();
  return async (progress) => {
    if (signal?.aborted) throw abortedError(who);
    if (onProgress) {
      onProgress(progress);
      if (signal?.aborted) throw abortedError(who);
    }
    if (Date.now() - lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      lastYield = Date.now();
      if (signal?.aborted) throw abortedError(who);
    }
  };
}
