import { AdvxError } from '@advx/core';

/** How samples are picked, as recorded in the description. */
export type SampleMode = 'first' | 'stratified';

/**
 * Indices of the samples to take: all of them (no `n`, or `n` ≥ count), the first `n` in order
 * (`'first'`), or `'stratified'`: round-robin over the classes in class-index order, taking each
 * class's samples in order, until `n` (classes that run out drop out). Deterministic; the result is in
 * pick order, so every prefix of a stratified sample is as balanced as it can be.
 */
export function selectSample(labels: Int32Array, n: number | undefined, mode: SampleMode = 'first'): number[] {
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw new AdvxError('INVALID_OPTION', `n must be a positive integer, got ${String(n)}.`);
  if (mode !== 'first' && mode !== 'stratified') throw new AdvxError('INVALID_OPTION', `sample must be 'first' or 'stratified', got ${String(mode)}.`);
  const count = labels.length;
  const take = n === undefined ? count : Math.min(n, count);
  if (mode === 'first' || take === count) return Array.from({ length: take }, (_, i) => i);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => {
    const list = byClass.get(label) ?? [];
    list.push(i);
    byClass.set(label, list);
  });
  const classes = [...byClass.keys()].sort((a, b) => a - b).map((c) => byClass.get(c) as number[]);
  const out: number[] = [];
  for (let round = 0; out.length < take; round++) {
    for (const list of classes) {
      if (round < list.length && out.length < take) out.push(list[round] as number);
    }
  }
  return out;
}
