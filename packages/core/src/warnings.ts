/**
 * Non-fatal warnings of advx (a model adapter that had to convert probabilities, ...). By default a
 * warning is printed with `console.warn`; an application can route warnings elsewhere, or silence
 * them, with {@link setWarningHandler}.
 *
 * @packageDocumentation
 */

/**
 * A warning raised by advx: a stable machine-readable `code` (e.g. `PROBABILITY_OUTPUT`) and a
 * message that says what happened and what to do about it.
 *
 * @example
 * ```ts
 * const w: AdvxWarning = { code: 'PROBABILITY_OUTPUT', message: 'model outputs probabilities ...' };
 * ```
 * @public
 */
export interface AdvxWarning {
  /** Stable code of the warning. */
  readonly code: string;
  /** Human-readable explanation, with the remedy. */
  readonly message: string;
}

/**
 * Receives every warning advx raises, instead of the default `console.warn`.
 *
 * @example
 * ```ts
 * const handler: WarningHandler = (w) => logger.info(w.code, w.message);
 * setWarningHandler(handler);
 * ```
 * @public
 */
export type WarningHandler = (warning: AdvxWarning) => void;

let currentHandler: WarningHandler | undefined;

/**
 * Installs a handler for advx warnings; `undefined` restores the default (`console.warn` with an
 * `[advx]` prefix). To silence warnings, install a handler that does nothing.
 *
 * @param handler - the new handler, or `undefined` for the default.
 * @returns the previously installed handler (`undefined` for the default), so it can be restored.
 *
 * @example
 * ```ts
 * const seen: string[] = [];
 * const previous = setWarningHandler((w) => seen.push(w.code));
 * const model = fromFunction(predictProbabilities, { ...options, output: 'probabilities' });
 * setWarningHandler(previous); // seen: ['PROBABILITY_OUTPUT']
 * ```
 * @public
 */
export function setWarningHandler(handler: WarningHandler | undefined): WarningHandler | undefined {
  if (handler !== undefined && typeof handler !== 'function') {
    throw new TypeError(`setWarningHandler expects a function or undefined, got ${typeof handler}.`);
  }
  const previous = currentHandler;
  currentHandler = handler;
  return previous;
}

/**
 * Raises a warning: calls the installed handler, or `console.warn('[advx] ' + message)` by default.
 * Internal to advx.
 *
 * @param code - stable warning code, e.g. `PROBABILITY_OUTPUT`.
 * @param message - what happened and what to do about it.
 *
 * @example
 * ```ts
 * warn('PROBABILITY_OUTPUT', 'the model outputs probabilities; pass a model that outputs logits.');
 * ```
 * @internal
 */
export function warn(code: string, message: string): void {
  if (currentHandler !== undefined) {
    currentHandler({ code, message });
  } else {
    console.warn(`[advx] ${message}`);
  }
}
