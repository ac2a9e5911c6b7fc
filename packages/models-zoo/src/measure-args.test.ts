import { describe, expect, it } from 'vitest';

// @ts-expect-error: a plain .mjs script module without types
import { fgsmCardRow, parseMeasureArgs, sampleSetLabel } from '../scripts/common.mjs';

const ids = ['mnist-cnn', 'mnist-cnn-at'];
type Parsed = { ids: string[]; threads: number; count?: number; dryRun: boolean };
const parse = parseMeasureArgs as (argv: string[], known: string[], cores: number) => Parsed;

describe('parseMeasureArgs (one command line for measure-fgsm.mjs and measure-pgd.mjs)', () => {
  it('reads ids, --threads, --count and --dry-run in any order', () => {
    expect(parse(['--count', '1000', 'mnist-cnn-at', '--threads', '1'], ids, 2)).toEqual({ ids: ['mnist-cnn-at'], threads: 1, count: 1000, dryRun: false });
    expect(parse(['--dry-run'], ids, 2)).toEqual({ ids: [], threads: 2, count: undefined, dryRun: true });
  });

  it('--count alone does not imply a dry run (both scripts write the count into the card row)', () => {
    expect(parse(['--count', '5'], ids, 2).dryRun).toBe(false);
    const row = (fgsmCardRow as (e: object) => string)({ epsilon: 0.3, errorRate: 0.5, meanConfidenceOnErrors: 0.9, samples: 5 });
    expect(row).toContain('first 5 test images');
    expect((sampleSetLabel as (n: number) => string)(10000)).toBe('full test set');
  });

  it('rejects unknown ids, unknown flags, missing values and bad numbers', () => {
    expect(() => parse(['mnist-xyz'], ids, 2)).toThrow(/unknown zoo model 'mnist-xyz'/);
    expect(() => parse(['--cuont', '5'], ids, 2)).toThrow(/unknown flag --cuont/);
    expect(() => parse(['--count'], ids, 2)).toThrow(/--count needs a value/);
    expect(() => parse(['--count', '0'], ids, 2)).toThrow(/--count must be an integer >= 1/);
    expect(() => parse(['--threads', '1.5'], ids, 2)).toThrow(/--threads must be an integer >= 1/);
  });
});
