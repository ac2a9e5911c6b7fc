import type { EvaluationState, StateStore } from './types.js';

/**
 * The store of {@link memoryStateStore}.
 *
 * @public
 */
export interface MemoryStateStore extends StateStore {
  /** The last saved state (a copy), `undefined` before the first save. */
  readonly saved: EvaluationState | undefined;
}

/**
 * A {@link StateStore} in memory (browsers, tests): resume an aborted {@link evaluate} call in the
 * same process by passing the same store again. Files: `fileStateStore` of `@advx/eval/node`.
 *
 * @example
 * ```ts
 * const state = memoryStateStore();
 * const controller = new AbortController();
 * await evaluate({ ...options, state, signal: controller.signal }).catch(() => undefined); // aborted
 * const result = await evaluate({ ...options, state }); // continues where it stopped
 * ```
 * @public
 */
export function memoryStateStore(): MemoryStateStore {
  let saved: EvaluationState | undefined;
  return {
    get saved() {
      return saved;
    },
    load: async () => (saved === undefined ? undefined : (JSON.parse(JSON.stringify(saved)) as EvaluationState)),
    save: async (state) => {
      saved = JSON.parse(JSON.stringify(state)) as EvaluationState;
    },
  };
}
