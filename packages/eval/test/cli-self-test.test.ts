/**
 * `advx eval --self-test`: the binarization test (Zimmermann et al. 2022) of every attack of the grid at
 * the largest ε, with the zoo model's penultimate-layer features; pass rates in results.json and both
 * reports, a SELF_TEST_FAILED warning for an attack below 95 % (one-step FGSM), the same record from
 * `--workers 2` (it runs in the first worker and survives the merge), and l1 refused before any work.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';
import type { EvaluationResult } from '../src/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-eval-self-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const GRID = [
  'eval',
  '--backend',
  'wasm',
  '--n',
  '20',
  '--batch-size',
  '10',
  '--attacks',
  'fgsm,pgd:steps=100',
  '--eps',
  '0.1,0.3',
  '--examples',
  '0',
  '--self-test',
  '12',
];
const read = (out: string) => JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as EvaluationResult;

describe('advx eval --self-test', () => {
  it(
    'reports every attack’s pass rate at the largest ε; PGD-100 passes ≥ 95 %, FGSM falls below and is warned about; --workers 2 gives the same record',
    { timeout: 300_000 },
    async () => {
      const out = path.join(tmp, 'one');
      const run = await cli([...GRID, '--out', out]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(
        '[advx] self-test (binarization, Zimmermann et al. 2022): every attack at ε 0.3 on the first 12 samples, penultimate-layer features',
      );
      const r = read(out);
      const t = r.selfTest!;
      expect(t).toMatchObject({ method: 'binarization', epsilon: 0.3, samples: 12, features: 'penultimate', threshold: 0.95 });
      const [fgsm, pgd] = t.attacks;
      expect([fgsm?.label, pgd?.label]).toEqual(['fgsm', 'pgd(steps=100)']);
      for (const a of t.attacks) expect(a.pass + a.fail + a.indeterminate).toBe(12);
      expect(pgd!.passRate).toBeGreaterThanOrEqual(0.95);
      expect(fgsm!.passRate).toBeLessThan(0.95);
      const warned = r.warnings.filter((w) => w.code === 'SELF_TEST_FAILED');
      expect(warned.map((w) => w.evidence.attack)).toEqual(['fgsm']);
      expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toMatch(
        /## Attack self-test\n\nBinarization test \(Zimmermann et al\. 2022\)[^\n]*\n\n\| attack \| passed \| pass rate \| indeterminate \|/,
      );
      expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('<h2>Attack self-test</h2>');

      const two = path.join(tmp, 'two');
      const parallel = await cli([...GRID, '--workers', '2', '--out', two]);
      expect(parallel.code, parallel.stderr).toBe(0);
      expect(read(two).selfTest).toEqual(t);
      expect(read(two).warnings.filter((w) => w.code === 'SELF_TEST_FAILED')).toEqual(warned);
    },
  );

  it('refuses norms the test does not cover, before any work', async () => {
    const out = path.join(tmp, 'l1');
    const run = await cli(['eval', '--norm', 'l1', '--attacks', 'pgd', '--eps', '5', '--self-test', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('advx: error: [UNSUPPORTED_NORM] --self-test: the binarization test covers linf and l2, not l1; drop --self-test for this norm.\n');
    expect(existsSync(out)).toBe(false);
  });
});
