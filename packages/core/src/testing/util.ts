import * as tf from '@tensorflow/tfjs-core';

import { isAdvxError, type AdvxErrorCode } from '../errors.js';
import { ensure } from './report.js';

export { predictClasses } from '../predict.js';

/** Max absolute difference between two tensors of equal shape. */
export async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  if (a.shape.join() !== b.shape.join()) return Infinity;
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const [v] = await d.data();
  d.dispose();
  return v as number;
}

/** Runs `fn`, expecting an AdvxError with `code`, and checks that no tensor leaked. */
export async function expectAdvxError(what: string, code: AdvxErrorCode, fn: () => Promise<unknown>): Promise<void> {
  const before = tf.memory().numTensors;
  let caught: unknown;
  try {
    const r = await fn();
    (r as { dispose?: () => void } | undefined)?.dispose?.();
  } catch (e) {
    caught = e;
  }
  const leaked = tf.memory().numTensors - before;
  ensure(caught !== undefined, `${what}: expected AdvxError ${code}, but the call succeeded`);
  ensure(
    isAdvxError(caught, code),
    `${what}: expected AdvxError ${code}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : String(caught)}`,
  );
  ensure(leaked === 0, `${what}: threw ${code} correctly but leaked ${leaked} tensor(s)`);
}

/** Fraction of `true`. */
export function rate(flags: readonly boolean[]): number {
  return flags.length === 0 ? 0 : flags.filter(Boolean).length / flags.length;
}
