/** A check for `option.optional`: a finite number above `min` (or at least `min` unless `above`). */
export const finiteNumber =
  (min = -Infinity, above = false) =>
  (v: unknown): boolean =>
    typeof v === 'number' && Number.isFinite(v) && (above ? v > min : v >= min);
