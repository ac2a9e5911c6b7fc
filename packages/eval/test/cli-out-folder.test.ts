/**
 * The output folder of `advx eval` and `advx merge` (issue #17, items 4 and 5): an `--out` that
 * cannot be a folder is one typed line before any work; an `--out` in use by a live run is refused
 * with the pid (a lock file, stale locks taken over, another host's lock refused); the lock goes on
 * every exit path; and an interrupted run's state is never deleted by a run without `--resume`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runCli, type CliIo } from '../src/node/run-cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-out-folder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
/** A results.json for the merge cases. */
const shard = path.join(tmp, 'merge-src');
beforeAll(async () => {
  expect((await cli([...QUICK, '--out', shard])).code).toBe(0);
}, 120_000);

/** A quick run: mnist-mlp on cpu, 8 samples in 2 chunks, FGSM. */
const QUICK = [
  'eval',
  '--model',
  'mnist-mlp',
  '--backend',
  'cpu',
  '--n',
  '8',
  '--batch-size',
  '4',
  '--attacks',
  'fgsm',
  '--eps',
  '0.1',
  '--examples',
  '0',
  '--no-diagnostics',
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], onStderr?: (text: string) => boolean | void): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const controller = new AbortController();
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: {
      write: (s: string) => {
        stderr += s;
        if (onStderr?.(s) === true) controller.abort();
      },
    },
    signal: controller.signal,
  };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

const lockOf = (out: string) => path.join(out, '.advx.lock');

function writeLock(out: string, record: Record<string, unknown>): string {
  mkdirSync(out, { recursive: true });
  const text = `${JSON.stringify(record)}\n`;
  writeFileSync(lockOf(out), text);
  return text;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.status).toBe(0);
  return child.pid as number;
}

describe('an --out that cannot be a folder', () => {
  const file = path.join(tmp, 'a', 'file.txt');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'not a folder');

  it('advx eval: one typed line naming the file in the way, before the model is read', async () => {
    const out = path.join(file, 'x');
    // The model does not exist either: the --out check comes first, before the backend, model and data.
    const run = await cli(['eval', '--model', path.join(tmp, 'no-such-model', 'model.json'), '--out', out]);
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `advx: error: [INVALID_OPTION] --out ${out}: ${file} is a file, not a folder: choose another --out.\n`,
    });
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
  });

  it('a relative --out names the file as written; an --out that is a file itself', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      const run = await cli(['eval', '--model', 'no-such-model/model.json', '--out', 'a/file.txt/x/y']);
      expect(run.stderr).toBe('advx: error: [INVALID_OPTION] --out a/file.txt/x/y: a/file.txt is a file, not a folder: choose another --out.\n');
      const same = await cli(['eval', '--model', 'no-such-model/model.json', '--out', 'a/file.txt']);
      expect(same.stderr).toBe('advx: error: [INVALID_OPTION] --out a/file.txt is a file, not a folder: choose another --out.\n');
      expect(same.code).toBe(1);
    } finally {
      process.chdir(cwd);
    }
  });

  it('advx merge: the same line (the results files are read first, nothing is written)', async () => {
    const out = path.join(file, 'merged');
    const run = await cli(['merge', path.join(shard, 'results.json'), '--out', out]);
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: `advx: error: [INVALID_OPTION] --out ${out}: ${file} is a file, not a folder: choose another --out.\n`,
    });
    // Merged into a fresh folder, the lock is gone afterwards.
    const good = path.join(tmp, 'merged-ok');
    expect((await cli(['merge', path.join(shard, 'results.json'), '--out', good])).code).toBe(0);
    expect(readdirSync(good).sort()).toEqual(['images', 'report.html', 'report.md', 'results.json']);
  }, 120_000);
});

describe('the lock of --out', () => {
  it('a second run on the --out of a live run is refused with its pid; the first finishes; the lock goes', async () => {
    const out = path.join(tmp, 'concurrent');
    let seenDuringRun: string | undefined;
    let second: Promise<Run> | undefined;
    const first = cli([...QUICK, '--out', out], (s) => {
      // While the first run works, the lock holds this process's pid and a second run is refused.
      if (second === undefined && s.includes('chunk')) {
        seenDuringRun = readFileSync(lockOf(out), 'utf8');
        second = cli([...QUICK, '--out', out]);
      }
    });
    const [a, b] = [await first, await (second as Promise<Run>)];
    const held = JSON.parse(seenDuringRun as string) as { pid: number; host: string; started: string; command: string };
    expect(held).toMatchObject({ pid: process.pid, host: os.hostname(), command: 'advx eval' });
    expect(Number.isNaN(Date.parse(held.started))).toBe(false);
    expect(b).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `advx: error: [INVALID_OPTION] --out ${out} is in use by a running advx eval (pid ${process.pid}, since ${held.started}): ` +
        'wait for it to finish or stop it, or choose another --out.\n',
    });
    expect(a.code).toBe(0);
    expect(existsSync(lockOf(out))).toBe(false);
    expect(existsSync(path.join(out, 'results.json'))).toBe(true);
  }, 120_000);

  it("another live process's lock is refused and left in place", async () => {
    const out = path.join(tmp, 'live-child');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const pid = child.pid as number;
      const text = writeLock(out, { pid, host: os.hostname(), started: '2026-01-01T00:00:00.000Z', command: 'advx eval', token: 't' });
      const run = await cli([...QUICK, '--out', out]);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `advx: error: [INVALID_OPTION] --out ${out} is in use by a running advx eval (pid ${pid}, since 2026-01-01T00:00:00.000Z): wait for it to finish or stop it, or choose another --out.\n`,
      );
      expect(readFileSync(lockOf(out), 'utf8')).toBe(text);
      expect(readdirSync(out)).toEqual(['.advx.lock']);
    } finally {
      child.kill();
    }
  });

  it('a stale lock (its pid no longer runs) is taken over, said on stderr, and removed at the end', async () => {
    const out = path.join(tmp, 'stale');
    const pid = deadPid();
    writeLock(out, { pid, host: os.hostname(), started: '2026-01-01T00:00:00.000Z', command: 'advx eval', token: 't' });
    const run = await cli([...QUICK, '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`[advx] took over the stale lock of pid ${pid} (no longer running) in ${out}\n`);
    expect(existsSync(lockOf(out))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['images', 'report.html', 'report.md', 'results.json']);
  }, 120_000);

  it("another host's lock is refused and says how to remove it; a damaged lock too", async () => {
    const out = path.join(tmp, 'other-host');
    writeLock(out, { pid: deadPid(), host: 'elsewhere.example', started: '2026-01-01T00:00:00.000Z', command: 'advx merge', token: 't' });
    const run = await cli([...QUICK, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^advx: error: \[INVALID_OPTION\] --out .* is locked by advx merge \(pid \d+\) on host elsewhere\.example since 2026-01-01T00:00:00\.000Z; /,
    );
    expect(run.stderr).toContain(`if no advx run is active there, delete ${lockOf(out)} and rerun`);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    const merge = await cli(['merge', path.join(shard, 'results.json'), '--out', out]);
    expect(merge.code).toBe(1);
    expect(merge.stderr).toMatch(/^advx: error: \[INVALID_OPTION\] --out .* is locked by advx merge \(pid \d+\) on host elsewhere\.example /);
    expect(readdirSync(out)).toEqual(['.advx.lock']);
    writeFileSync(lockOf(out), '{"pid": "x"');
    const damaged = await cli([...QUICK, '--out', out]);
    expect(damaged.stderr).toBe(
      `advx: error: [INVALID_OPTION] --out ${out} holds a lock file ${lockOf(out)} that is not an advx lock record (damaged or half written): if no advx run uses ${out}, delete ${lockOf(out)} and rerun.\n`,
    );
  });

  it('is released when the run fails after taking it, and when it is aborted; an empty folder it created goes too', async () => {
    const failed = path.join(tmp, 'failed');
    const before = tf.memory().numTensors;
    const run = await cli(['eval', '--model', path.join(tmp, 'no-such-model', 'model.json'), '--backend', 'cpu', '--out', failed]);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('--out');
    expect(existsSync(failed)).toBe(false);
    const kept = path.join(tmp, 'kept');
    mkdirSync(kept);
    expect((await cli(['eval', '--model', path.join(tmp, 'no-such-model', 'model.json'), '--backend', 'cpu', '--out', kept])).code).toBe(1);
    expect(readdirSync(kept)).toEqual([]);
    const aborted = path.join(tmp, 'aborted');
    const stopped = await cli([...QUICK, '--out', aborted], (s) => s.includes('chunk 2/2'));
    expect(stopped.code).toBe(130);
    expect(readdirSync(aborted)).toEqual(['state.json']);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});

describe('an interrupted run in --out', () => {
  it('a run without --resume refuses to delete its state; --resume continues it', async () => {
    const out = path.join(tmp, 'interrupted');
    const stopped = await cli([...QUICK, '--out', out], (s) => s.includes('chunk 2/2'));
    expect(stopped.code).toBe(130);
    const state = readFileSync(path.join(out, 'state.json'), 'utf8');
    const again = await cli([...QUICK, '--out', out]);
    expect(again).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `advx: error: [INVALID_OPTION] --out ${out} holds the state of an interrupted run (${path.join(out, 'state.json')}): ` +
        `rerun with --resume to continue it, or delete ${path.join(out, 'state.json')} (or choose another --out) to start afresh.\n`,
    });
    expect(readFileSync(path.join(out, 'state.json'), 'utf8')).toBe(state);
    const resumed = await cli([...QUICK, '--out', out, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['images', 'report.html', 'report.md', 'results.json']);
  }, 120_000);
});
