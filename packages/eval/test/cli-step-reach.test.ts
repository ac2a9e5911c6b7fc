/**
 * `advx eval` names a weak iterative configuration (issue #17, item 8): `pgd:steps=10` with the default
 * relStepSize (1/30) can move 0.333·ε, and the STEPS_CANNOT_REACH_EPSILON warning says so in the summary
 * and in results.json; the default attack list reaches every ε and stays quiet.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runCli } from '../src/node/run-cli.js';
import type { EvaluationResult } from '../src/types.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-step-reach-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const QUICK = ['eval', '--model', 'mnist-mlp', '--backend', 'cpu', '--n', '6', '--batch-size', '6', '--examples', '0'];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } });
  return { code, stdout, stderr };
}

const MESSAGE =
  'pgd(steps=10): 10 steps × 0.0333·ε reach 0.333·ε < ε. The iterates stay within 0.333·ε of their random start (restarts do not lengthen a path), ' +
  'so the attack runs at a smaller ε than reported and its robust accuracy overstates robustness: raise steps or relStepSize (steps × relStepSize ≥ 1).';

describe('advx eval: STEPS_CANNOT_REACH_EPSILON', () => {
  it('pgd:steps=10 is named in the summary and in results.json', async () => {
    const out = path.join(tmp, 'weak');
    const run = await cli([...QUICK, '--attacks', 'fgsm,pgd:steps=10', '--eps', '0.1,0.3', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`gradient-masking warnings:\n  STEPS_CANNOT_REACH_EPSILON: ${MESSAGE}\n`);
    // Said on stderr before the first attack runs, too.
    const early = run.stderr.indexOf(`[advx] warning: STEPS_CANNOT_REACH_EPSILON: ${MESSAGE}\n`);
    expect(early).toBeGreaterThan(-1);
    expect(early).toBeLessThan(run.stderr.indexOf('chunk 1/1'));
    const result = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as EvaluationResult;
    const found = result.warnings.filter((w) => w.code === 'STEPS_CANNOT_REACH_EPSILON');
    expect(found).toEqual([
      expect.objectContaining({ message: MESSAGE, evidence: expect.objectContaining({ steps: 10, reachOverEpsilon: 0.333333, randomStart: true }) }),
    ]);
    expect(readFileSync(path.join(out, 'report.md'), 'utf8')).toContain('STEPS_CANNOT_REACH_EPSILON');
  }, 120_000);

  it('pgd:steps=30:relStepSize=0.05 reaches 1.5·ε and the default pgd:steps=40:stepSize=0.01 reaches 0.4 ≥ 0.3: no such warning', async () => {
    const run = await cli([
      ...QUICK,
      '--attacks',
      'pgd:steps=30:relStepSize=0.05,pgd:steps=40:stepSize=0.01',
      '--eps',
      '0.1,0.2,0.3',
      '--json',
      '--out',
      path.join(tmp, 'strong'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as EvaluationResult;
    expect(result.warnings.map((w) => w.code)).not.toContain('STEPS_CANNOT_REACH_EPSILON');
    expect(run.stderr).not.toContain('STEPS_CANNOT_REACH_EPSILON');
  }, 120_000);
});
