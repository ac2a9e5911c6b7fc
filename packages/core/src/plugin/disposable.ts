import * as tf from '@tensorflow/tfjs-core';

/**
 * `T` with a `dispose()` that releases the tensors it owns.
 *
 * @public
 */
export type Disposable<T> = T & {
  /** Releases the result's tensors; later calls do nothing. */
  dispose(): void;
};

/**
 * A result that owns `tensors` (or tensor containers such as tf.Variables): `fields` plus an
 * idempotent `dispose()` that releases them once.
 *
 * @example
 * ```ts
 * const result = disposable({ patch, finalLoss }, [patch]);
 * result.dispose(); // releases the patch, once
 * ```
 * @public
 */
export function disposable<T extends object>(fields: T, tensors: readonly tf.TensorContainer[]): Disposable<T> {
  let disposed = false;
  return {
    ...fields,
    dispose: () => {
      if (!disposed) tf.dispose(tensors as tf.TensorContainer);
      disposed = true;
    },
  };
}
