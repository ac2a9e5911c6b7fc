import type { SampleMode } from './select-sample.js';

/** What {@link selectDecodable} picked and passed over. */
export interface DecodableSelection {
  /** Indices of the picked samples, in the order {@link selectSample} gives without the damaged ones. */
  readonly picked: number[];
  /** Samples whose check failed, in the order they were checked, with the reason. */
  readonly bad: { readonly index: number; readonly reason: string }[];
  /** How many samples were checked. */
  readonly checked: number;
}

/**
 * {@link selectSample} that checks each candidate (`check` resolves to a reason for a damaged sample,
 * `undefined` for a good one) as it picks, one at a time, and passes over the damaged ones: the
 * samples are those {@link selectSample} would pick if the damaged samples were not there, so the pick
 * is deterministic and every index after it (chunks, shards, resumed runs) is fixed before any work.
 * `first` checks in order until `n` are good; `stratified` goes round-robin over the classes (class
 * index order), each class moving on to its next sample past a damaged one; all samples (no `n`, or
 * every sample checked) are returned in source order. Only the candidates up to the `n`-th good one
 * are checked. One corner differs from picking without the damaged samples: `stratified` with `n`
 * equal to the number of good samples while unchecked ones remain keeps the round-robin order.
 *
 * @param labels - class index of every sample.
 * @param n - samples to take (default all).
 * @param mode - `'first'` (default) or `'stratified'`.
 * @param check - resolves to why sample `i` cannot be used, or `undefined`.
 * @returns the picked indices, the damaged samples met and the number checked.
 */
export async function selectDecodable(
  labels: Int32Array,
  n: number | undefined,
  mode: SampleMode | undefined,
  check: (index: number) => Promise<string | undefined>,
): Promise<DecodableSelection> {
  const count = labels.length;
  const take = n === undefined ? count : Math.min(n, count);
  const picked: number[] = [];
  const bad: { index: number; reason: string }[] = [];
  let checked = 0;
  const good = async (i: number): Promise<boolean> => {
    checked++;
    const reason = await check(i);
    if (reason !== undefined) bad.push({ index: i, reason });
    return reason === undefined;
  };
  if (mode !== 'stratified' || take === count) {
    for (let i = 0; i < count && picked.length < take; i++) if (await good(i)) picked.push(i);
    return { picked, bad, checked };
  }
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b).map((c) => ({ list: byClass.get(c) as number[], next: 0 }));
  while (picked.length < take && classes.some((c) => c.next < c.list.length)) {
    for (const c of classes) {
      while (picked.length < take && c.next < c.list.length) {
        const i = c.list[c.next++] as number;
        if (await good(i)) {
          picked.push(i);
          break;
        }
      }
    }
  }
  // Every sample checked and every good one taken: selectSample returns all of them in source order.
  if (checked === count) picked.sort((a, b) => a - b);
  return { picked, bad, checked };
}
