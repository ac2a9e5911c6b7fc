/**
 * `advx --version` / `-V`, and the message of an evaluation interrupted before its first chunk was done:
 * it must not point at a state file that was never written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-eval-version-abort-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../package.json'), 'utf8')) as { name: string; version: string };

async function cli(args: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    ...(signal ? { signal } : {}),
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe('advx --version', () => {
  it.each(['--version', '-V'])('%s prints the version of @advx/eval from its package.json and exits 0', async (flag) => {
    expect(pkg.name).toBe('@advx/eval');
    const run = await cli([flag]);
    expect(run).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('is listed in --help', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/-V, --version\s+print the version of @advx\/eval/);
  });
});

describe('advx eval interrupted before the first chunk', () => {
  it('exits 130, says nothing was saved, names no state file, and leaks no tensor', { timeout: 120_000 }, async () => {
    const out = path.join(tmp, 'aborted');
    const controller = new AbortController();
    controller.abort();
    const args = ['eval', '--backend', 'cpu', '--n', '12', '--batch-size', '12', '--attacks', 'fgsm', '--eps', '0.1', '--out', out];
    const before = tf.memory().numTensors;
    const run = await cli([...args, '--no-diagnostics'], controller.signal);
    expect(run.code).toBe(130);
    expect(run.stdout).toBe('');
    // The model inspection's `[advx] model: ...` line comes first; the interruption is the one other line.
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.slice(0, -1).every((l) => l.startsWith('[advx] '))).toBe(true);
    expect(lines.at(-1)).toBe(
      'advx: interrupted before the first chunk was done: nothing was saved (no state file was written); ' +
        'rerun the same command without --resume to start again.',
    );
    expect(run.stderr).not.toContain('state.json');
    expect(existsSync(path.join(out, 'state.json'))).toBe(false);
    expect(tf.memory().numTensors).toBe(before);
  });
});
