/**
 * Detection metrics shared by detectors and their conformance suite.
 *
 * @packageDocumentation
 */

/**
 * Area under the ROC curve for scores of negatives (clean) and positives (adversarial/poisoned):
 * the probability that a random positive scores higher than a random negative (ties count ½), i.e.
 * the Mann–Whitney U statistic over `negatives.length · positives.length`, computed from average
 * ranks in O((n + p) log(n + p)).
 *
 * @param negatives - scores of the negatives (e.g. clean samples).
 * @param positives - scores of the positives (e.g. adversarial samples); higher means "more suspicious".
 * @returns the AUC in [0, 1] (0.5: chance, 1: every positive above every negative); `NaN` when either
 * list is empty or holds a `NaN` score (the AUC is undefined then).
 * @example
 * ```ts
 * import { rocAuc } from '@advx/core';
 *
 * rocAuc([0.1, 0.2], [0.9, 0.3]); // 1
 * rocAuc([0.3], [0.3, 0.5]);      // 0.75: the tie counts ½
 * ```
 * @public
 */
export function rocAuc(negatives: ArrayLike<number>, positives: ArrayLike<number>): number {
  const n = negatives.length;
  const p = positives.length;
  if (n === 0 || p === 0) return NaN;
  // A NaN score has no rank (and NaN !== NaN would stall the tie loop below): the AUC is undefined.
  if (Array.from(negatives).some(Number.isNaN) || Array.from(positives).some(Number.isNaN)) return NaN;
  const all = [...Array.from(negatives, (s) => ({ s, pos: false })), ...Array.from(positives, (s) => ({ s, pos: true }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < all.length;) {
    let j = i + 1;
    while (j < all.length && (all[j] as { s: number }).s === (all[i] as { s: number }).s) j++;
    const avgRank = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if ((all[k] as { pos: boolean }).pos) rankSum += avgRank;
    i = j;
  }
  return (rankSum - (p * (p + 1)) / 2) / (n * p);
}
