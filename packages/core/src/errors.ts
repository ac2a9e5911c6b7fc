/**
 * Stable error codes of advx. A code never changes meaning once published; messages may improve.
 *
 * @public
 */
export type AdvxErrorCode =
  | 'INVALID_SHAPE'
  | 'BATCH_MISMATCH'
  | 'NON_FINITE_INPUT'
  | 'OUT_OF_BOUNDS'
  | 'LABEL_OUT_OF_RANGE'
  | 'TARGET_EQUALS_LABEL'
  | 'INVALID_EPSILON'
  | 'UNKNOWN_NORM'
  | 'UNSUPPORTED_NORM'
  | 'PROBABILITIES_NOT_LOGITS'
  | 'QUERY_BUDGET_EXHAUSTED'
  | 'ABORTED'
  | 'INVALID_OPTION'
  | 'INVALID_MODEL'
  | 'UNSUPPORTED_MODEL'
  | 'UNKNOWN_NAME'
  | 'DUPLICATE_NAME'
  | 'NOT_FITTED'
  | 'BACKEND_UNAVAILABLE'
  | 'CHECKSUM_MISMATCH'
  | 'INVALID_DATA';

/**
 * The one error class of advx. Every error the library raises on purpose is an `AdvxError` with a
 * stable {@link AdvxErrorCode}; its message says what was wrong and what to do about it.
 *
 * @example
 * ```ts
 * try { await attack.run(model, x, { labels }, { epsilons: [-1] }); }
 * catch (e) { if (e instanceof AdvxError && e.code === 'INVALID_EPSILON') { ... } }
 * ```
 * @public
 */
export class AdvxError extends Error {
  /** Stable machine-readable code. */
  readonly code: AdvxErrorCode;
  /** Structured details (offending values, expected shapes), when useful. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: AdvxErrorCode, message: string, details?: Record<string, unknown>) {
    super(`[${code}] ${message}`);
    this.name = 'AdvxError';
    this.code = code;
    this.details = details;
  }
}

/**
 * True when `e` is an {@link AdvxError}, optionally with the given code.
 *
 * @public
 */
export function isAdvxError(e: unknown, code?: AdvxErrorCode): e is AdvxError {
  return e instanceof AdvxError && (code === undefined || e.code === code);
}
