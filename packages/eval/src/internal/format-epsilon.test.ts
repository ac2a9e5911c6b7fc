import { describe, expect, it } from 'vitest';

import { formatEpsilon } from './report-data.js';

describe('formatEpsilon', () => {
  it('keeps short decimals, writes multiples of 1/255 as k/255, rounds the rest to 4 digits', () => {
    expect(formatEpsilon(0.1)).toBe('0.1');
    expect(formatEpsilon(0.2)).toBe('0.2'); // 51/255 too, but written as the user typed it
    expect(formatEpsilon(0.25)).toBe('0.25');
    expect(formatEpsilon(2)).toBe('2');
    expect(formatEpsilon(1 / 255)).toBe('1/255');
    expect(formatEpsilon(8 / 255)).toBe('8/255');
    expect(formatEpsilon(16 / 255)).toBe('16/255');
    expect(formatEpsilon(0.123456)).toBe('0.1235');
    expect(formatEpsilon(1 / 7)).toBe('0.1429');
    expect(formatEpsilon(1e-7)).toBe('1e-7');
  });
});
