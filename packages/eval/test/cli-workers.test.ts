/**
 * `advx eval --workers N`: the evaluation as N worker processes (the built command, one shard each),
 * merged into `--out`. The merged results.json equals the single-process one except the times; a
 * worker killed mid-run is started again on its shard and resumes from its state; an interrupted run
 * keeps every worker's state and `--resume` finishes it with the same result.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';
import { workerDir } from '../src/node/workers.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-eval-workers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(args: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, ...(signal ? { signal } : {}) };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** results.json without its wall-clock times (the only fields a process split may change). */
function resultsWithoutTimes(out: string): unknown {
  return JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'), (key, value: unknown) => (key === 'timeMs' ? undefined : value));
}

/** Resolves once `file` exists (polling every 20 ms). */
async function appears(file: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!existsSync(file)) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// 6 chunks of 10: 3 per worker, so a worker can be stopped after its first chunk.
const GRID = ['--backend', 'wasm', '--n', '60', '--batch-size', '10', '--attacks', 'fgsm,pgd:steps=10:relStepSize=0.1', '--eps', '0.1,0.3', '--examples', '2'];
let single: unknown;

beforeAll(async () => {
  const out = path.join(tmp, 'single');
  const run = await cli(['eval', ...GRID, '--out', out]);
  expect(run.code, run.stderr).toBe(0);
  single = resultsWithoutTimes(out);
}, 120_000);

describe('advx eval --workers', () => {
  it('2 workers give the single-process results.json (except the times), one merged report, and no shard folders', { timeout: 120_000 }, async () => {
    const out = path.join(tmp, 'two');
    const run = await cli(['eval', ...GRID, '--workers', '2', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/^\[advx\] 2 workers, \d+ wasm threads? each/);
    // Each worker inspects the model; the line is said once.
    expect(run.stderr.match(/\[advx\] model: zoo/g)).toHaveLength(1);
    expect(run.stdout).toMatch(/^backend: wasm .*\(2 workers\)/);
    expect(resultsWithoutTimes(out)).toEqual(single);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    expect(existsSync(path.join(out, '.workers'))).toBe(false);
  });

  it('a worker killed mid-run is started again on its shard, resumes its finished chunks, and the result is unchanged', { timeout: 180_000 }, async () => {
    const out = path.join(tmp, 'crash');
    const shard = workerDir(out, 1, 2);
    const running = cli(['eval', ...GRID, '--workers', '2', '--out', out]);
    // Once worker 2 has saved its first chunk, kill it as a crash would (no chance to clean up).
    await appears(path.join(shard, 'state.json'));
    const lock = JSON.parse(readFileSync(path.join(shard, '.advx.lock'), 'utf8')) as { pid: number };
    process.kill(lock.pid, 'SIGKILL');
    const run = await running;
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/worker 2\/2 stopped \(killed by SIGKILL\); starting it again on its shard \(restart 1 of 2\)/);
    // The restarted worker took over its own stale lock and restored the saved chunk.
    expect(run.stderr).toContain('took over the stale lock');
    expect(resultsWithoutTimes(out)).toEqual(single);
  });

  it(
    'an interrupted run keeps every worker’s state; without --resume it is refused, with --resume it finishes with the same result',
    { timeout: 180_000 },
    async () => {
      const out = path.join(tmp, 'interrupted');
      const controller = new AbortController();
      const running = cli(['eval', ...GRID, '--workers', '2', '--out', out], controller.signal);
      await appears(path.join(workerDir(out, 0, 2), 'state.json'));
      controller.abort();
      const stopped = await running;
      expect(stopped.code, stopped.stderr).toBe(130);
      expect(stopped.stderr.trimEnd().split('\n').at(-1)).toBe(
        `advx: interrupted: each worker kept the state of its finished chunks in ${path.join(out, '.workers')}; rerun with --resume.`,
      );
      expect(existsSync(path.join(out, 'results.json'))).toBe(false);

      const refused = await cli(['eval', ...GRID, '--workers', '2', '--out', out]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/holds the shards of an interrupted --workers run .*: rerun with --resume to continue it/);

      const resumed = await cli(['eval', ...GRID, '--workers', '2', '--out', out, '--resume']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resultsWithoutTimes(out)).toEqual(single);
    },
  );

  it('rejects a bad worker count and --workers with --shard before any work', async () => {
    const out = path.join(tmp, 'bad');
    const zero = await cli(['eval', '--workers', '0', '--out', out]);
    expect(zero).toMatchObject({ code: 1, stdout: '' });
    expect(zero.stderr).toBe("advx: error: [INVALID_OPTION] --workers: '0' is not a positive integer.\n");
    const both = await cli(['eval', '--workers', '2', '--shard', '1/2', '--out', out]);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe(
      'advx: error: [INVALID_OPTION] --workers 2 with --shard 1/2: a shard runs in one process; drop --workers, or drop --shard to split the whole evaluation over the workers.\n',
    );
    expect(existsSync(out)).toBe(false);
  });
});
