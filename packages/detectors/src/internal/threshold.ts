/**
 * The smallest threshold `t` among the clean scores such that at most a fraction `fpr` of them is
 * strictly above `t` (a sample is flagged when its score is > t).
 */
export function thresholdAtFpr(clean: ArrayLike<number>, fpr: number): number {
  const sorted = Float64Array.from(clean).sort();
  const n = sorted.length;
  const allowed = Math.floor(fpr * n);
  return sorted[Math.max(0, n - 1 - allowed)] as number;
}
