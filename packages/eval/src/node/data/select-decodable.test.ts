/**
 * selectDecodable against selectSample as the reference: without damaged samples the same picks; with
 * damaged ones, the picks selectSample makes on the samples that are left (mapped back to indices),
 * checking no sample twice and none after the n-th good one.
 */
import { describe, expect, it } from 'vitest';

import { Rng } from '@advx/core';

import { selectDecodable } from './select-decodable.js';
import { selectSample } from './select-sample.js';

describe('selectDecodable', () => {
  it('picks what selectSample picks on the samples left when the damaged ones are removed', async () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 300; trial++) {
      const count = 1 + Math.floor(rng.uniform() * 30);
      const classes = 1 + Math.floor(rng.uniform() * 4);
      const labels = Int32Array.from({ length: count }, () => Math.floor(rng.uniform() * classes));
      const damaged = new Set(Array.from({ length: count }, (_, i) => i).filter(() => trial % 3 !== 0 && rng.uniform() < 0.3));
      const n = rng.uniform() < 0.2 ? undefined : 1 + Math.floor(rng.uniform() * (count + 3));
      const mode = rng.uniform() < 0.5 ? ('first' as const) : ('stratified' as const);
      const seen: number[] = [];
      const got = await selectDecodable(labels, n, mode, async (i) => {
        seen.push(i);
        return damaged.has(i) ? `damaged ${i}` : undefined;
      });
      const kept = Array.from({ length: count }, (_, i) => i).filter((i) => !damaged.has(i));
      const reference = selectSample(
        Int32Array.from(kept, (i) => labels[i] as number),
        n,
        mode,
      ).map((j) => kept[j] as number);
      expect(new Set(seen).size).toBe(seen.length);
      expect(got.checked).toBe(seen.length);
      expect(got.bad).toEqual(seen.filter((i) => damaged.has(i)).map((i) => ({ index: i, reason: `damaged ${i}` })));
      if (damaged.size === 0) expect(got.picked).toEqual(selectSample(labels, n, mode));
      if (mode === 'stratified' && n === kept.length && got.checked < count) {
        // The documented corner: every good sample is taken before all are checked; same set, round-robin order.
        expect([...got.picked].sort((a, b) => a - b)).toEqual(reference);
      } else {
        expect(got.picked).toEqual(reference);
      }
      // Nothing is checked past the n-th good sample in the order of the pick.
      if (n !== undefined && got.picked.length === n && got.checked < count) expect(seen[seen.length - 1]).toBe(got.picked[n - 1]);
      if (mode === 'first' && n !== undefined) expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i));
    }
  });

  it('a class whose next sample is damaged takes its following one in the same round', async () => {
    // Class 0: 0, 2, 4; class 1: 1, 3. Sample 0 is damaged: round 0 takes 2 and 1, round 1 takes 4 and 3.
    const labels = Int32Array.from([0, 1, 0, 1, 0]);
    const got = await selectDecodable(labels, 3, 'stratified', async (i) => (i === 0 ? 'bad' : undefined));
    expect(got.picked).toEqual([2, 1, 4]);
    expect(got.bad).toEqual([{ index: 0, reason: 'bad' }]);
    expect(got.checked).toBe(4);
  });
});
