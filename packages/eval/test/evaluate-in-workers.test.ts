/**
 * `evaluateInWorkers` (the Node API of `advx eval --workers`): the merged result of 2 workers equals
 * `evaluate()` run in this process on the same model, data and settings (except the times); bad options
 * are rejected before any process starts; an abort stops the workers, keeps their state in `out`, and
 * `resume: true` finishes with the same result.
 */
import * as childProcess from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { fgsm } from '@advx/attacks';
import '@advx/attacks/register-all';

import { evaluate } from '../src/evaluate.js';
import { openDataset } from '../src/node/data/index.js';
import { evaluateInWorkersWith, type EvaluateInWorkersOptions } from '../src/node/evaluate-in-workers.js';
import { loadUserModel } from '../src/node/model/index.js';
import { workerDir, type WorkerSpawn } from '../src/node/workers.js';
import type { AttackSpec, EvaluationResult } from '../src/types.js';

// Every worker is started through the real spawn, counted: "before any process starts" is checked, not assumed.
const spawn = vi.fn<WorkerSpawn>((command, args, options) => childProcess.spawn(command, args, options));
const evaluateInWorkers = (options: EvaluateInWorkersOptions) => evaluateInWorkersWith(options, spawn);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'advx-eval-in-workers-'));
// The temporary folders of runs without out go here (os.tmpdir() reads TMPDIR), to check they are removed.
const osTmp = path.join(tmp, 'os-tmp');
mkdirSync(osTmp);
const savedTmpdir = process.env.TMPDIR;
process.env.TMPDIR = osTmp;
afterAll(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(tmp, { recursive: true, force: true });
});

// 8 chunks of 5: 4 per worker, so a worker can be stopped after its first chunk.
const ATTACKS: AttackSpec[] = [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 5 } }];
const EPSILONS = [0.1, 0.3];
const BACKEND = tf.getBackend() === 'wasm' ? 'wasm' : 'cpu';
const BASE: EvaluateInWorkersOptions = {
  model: 'mnist-logreg',
  data: 'mnist',
  n: 40,
  attacks: ATTACKS,
  epsilons: EPSILONS,
  batchSize: 5,
  seed: 3,
  workers: 2,
  threads: 1,
  backend: BACKEND,
};

/** What a process split may change: no times; the input description that advx eval adds to the config. */
function comparable(r: EvaluationResult): unknown {
  const { input: _input, ...model } = r.config.model as EvaluationResult['config']['model'] & { input?: unknown };
  return JSON.parse(JSON.stringify({ ...r, config: { ...r.config, model } }), (key, value: unknown) => (key === 'timeMs' ? undefined : value));
}

let single: EvaluationResult;

beforeAll(async () => {
  // The same model and data as a worker loads them (advx eval's loaders), evaluated in this process.
  const target = await loadUserModel('mnist-logreg');
  const data = await openDataset('mnist', {
    inputShape: target.model.inputShape as unknown as [number, number, number],
    bounds: target.model.bounds,
    numClasses: target.model.numClasses,
    n: 40,
    sample: 'first',
  });
  try {
    single = await evaluate({ model: target.model, data, attacks: ATTACKS, epsilons: EPSILONS, batchSize: 5, seed: 3, modelId: target.id });
  } finally {
    data.dispose();
    target.dispose();
  }
}, 120_000);

// (A block: a function returned from beforeEach would be called as its teardown.)
beforeEach(() => {
  spawn.mockClear();
});

describe('evaluateInWorkers', () => {
  it.runIf(tf.getBackend() === BACKEND)(
    '2 workers give the result of evaluate() in this process (robust accuracies exactly; all but the times)',
    { timeout: 90_000 },
    async () => {
      const fractions: number[] = [];
      const logs: string[] = [];
      const tensors = tf.memory().numTensors;
      const result = await evaluateInWorkers({ ...BASE, onProgress: (p) => fractions.push(p.fraction), onLog: (line) => logs.push(line) });
      expect(spawn).toHaveBeenCalledTimes(2);
      // No tensor in this process, and the temporary folder of the workers is gone.
      expect(tf.memory().numTensors).toBe(tensors);
      expect(readdirSync(osTmp)).toEqual([]);
      // Both workers inspect the model; the line is passed on once.
      expect(logs.filter((l) => l.includes('[advx] model: zoo'))).toHaveLength(1);
      const accuracies = (r: EvaluationResult) => r.attacks.map((a) => a.perEpsilon.map((e) => e.robustAccuracy));
      expect(accuracies(result)).toEqual(accuracies(single));
      expect(result.ensemble).toEqual(single.ensemble);
      expect(result.cleanAccuracy).toBe(single.cleanAccuracy);
      expect(comparable(result)).toEqual(comparable(single));
      expect(result.shard).toBeNull();
      // The workers' JSON progress, combined.
      expect(fractions.length).toBeGreaterThan(0);
      expect(fractions.every((f) => f >= 0 && f <= 1)).toBe(true);
      expect(fractions.at(-1)).toBe(1);
    },
  );

  it('rejects bad options before any process starts (and creates no out folder)', async () => {
    const out = path.join(tmp, 'bad');
    const bad: [Record<string, unknown>, string, RegExp][] = [
      [{ eps: [0.1] }, 'INVALID_OPTION', /unknown option 'eps'; the options are model, .*epsilons/],
      [{ model: 'no-such-model' }, 'UNKNOWN_NAME', /model 'no-such-model' is neither a zoo model \(mnist-logreg, .*\) nor an existing model\.json/],
      [{ model: undefined }, 'INVALID_OPTION', /model must be a zoo id .* a model object cannot cross to a worker process \(use evaluate\(\) for it\)/],
      [{ data: path.join(tmp, 'missing') }, 'UNKNOWN_NAME', /data '.*missing': .*missing does not exist/],
      [{ n: 0 }, 'INVALID_OPTION', /n must be a positive integer \(e\.g\. n: 1000\), got 0/],
      [{ sample: 'random' }, 'INVALID_OPTION', /sample must be 'first' or 'stratified'/],
      [{ attacks: 'nope' }, 'UNKNOWN_NAME', /nope/],
      [{ attacks: 'pgd:stepz=5' }, 'INVALID_OPTION', /unknown option 'stepz'/],
      [
        { attacks: [fgsm()] },
        'INVALID_OPTION',
        /attacks\[0\] is a configured attack object, which cannot cross to a worker process: pass it as a registry spec \{ name, options \}/,
      ],
      [
        { attacks: [{ name: 'pgd', options: { steps: [5, 10] } }] },
        'INVALID_OPTION',
        /attacks\[0\] \(pgd\) cannot be passed to the workers as the text 'pgd:steps=5,10' \(option steps = \[5,10\]\)/,
      ],
      [{ attacks: [{ name: 'pgd', label: 'PGD' }] }, 'INVALID_OPTION', /has a label, which the workers cannot take: drop it/],
      [{ attacks: [] }, 'INVALID_OPTION', /attacks must be the --attacks text .* or a non-empty array/],
      [{ epsilons: [] }, 'INVALID_OPTION', /epsilons must be a non-empty array of finite numbers > 0/],
      [{ epsilons: [0.1, -1] }, 'INVALID_OPTION', /epsilons must be .*got \[0\.1,-1\]/],
      [{ epsilons: [0.1, 0.1] }, 'INVALID_OPTION', /epsilons contain duplicates \(0\.1, 0\.1\): give each radius once/],
      [{ norm: 'l3' }, 'INVALID_OPTION', /norm must be one of linf, l2, l1, l0, got l3/],
      [{ batchSize: 0 }, 'INVALID_OPTION', /batchSize must be a positive integer/],
      [{ seed: -1 }, 'INVALID_OPTION', /seed must be an integer in \[0, 2\^32 - 1\], got -1/],
      [{ workers: 0 }, 'INVALID_OPTION', /workers must be a positive integer \(e\.g\. workers: 4\), got 0/],
      [{ threads: 1.5 }, 'INVALID_OPTION', /threads must be a positive integer/],
      [{ backend: 'gpu' }, 'INVALID_OPTION', /backend must be one of cpu, wasm, webgpu, tensorflow, got gpu/],
      [{ examples: -1 }, 'INVALID_OPTION', /examples must be an integer ≥ 0/],
      [{ diagnostics: { probeSamples: 3 } }, 'INVALID_OPTION', /diagnostics must be true or false/],
      [{ selfTest: true, norm: 'l1', attacks: 'fgsm' }, 'UNSUPPORTED_NORM', /self-test covers linf and l2, not l1/],
      [{ modelFlags: { bounds: '1,0' } }, 'INVALID_OPTION', /--bounds: '1,0' is not lo,hi with lo < hi/],
      [{ resume: true }, 'INVALID_OPTION', /resume needs the out folder of the interrupted run/],
      [{ signal: 'stop' }, 'INVALID_OPTION', /signal must be an AbortSignal/],
    ];
    for (const [change, code, message] of bad) {
      const options = { ...BASE, ...(change.resume ? {} : { out }), ...change } as EvaluateInWorkersOptions;
      const e = await evaluateInWorkers(options).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e, JSON.stringify(change)).toMatchObject({ name: 'AdvxError', code });
      expect((e as Error).message, JSON.stringify(change)).toMatch(message);
    }
    // An aborted signal stops the call before the first worker.
    const controller = new AbortController();
    controller.abort();
    await expect(evaluateInWorkers({ ...BASE, out, signal: controller.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(spawn).not.toHaveBeenCalled();
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(osTmp)).toEqual([]);
  });

  it(
    'a worker that fails (data it cannot read) fails the call with its error; the others are stopped and the temporary folder removed',
    { timeout: 60_000 },
    async () => {
      const empty = path.join(tmp, 'no-images');
      mkdirSync(empty);
      const e = await evaluateInWorkers({ ...BASE, data: empty, n: undefined, attacks: 'fgsm' }).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toMatchObject({ name: 'AdvxError', code: 'INVALID_OPTION' });
      expect((e as Error).message).toMatch(
        /^\[INVALID_OPTION\] worker [12]\/2 failed: advx: error: \[INVALID_DATA\] .*no-images has no class folder with PNG or JPEG images/,
      );
      expect(spawn).toHaveBeenCalledTimes(2);
      expect(readdirSync(osTmp)).toEqual([]);
    },
  );

  it('an abort without out stops the workers, says nothing was kept, and removes the temporary folder', { timeout: 60_000 }, async () => {
    const controller = new AbortController();
    // Aborted at the workers' first progress line.
    const e = await evaluateInWorkers({ ...BASE, signal: controller.signal, onProgress: () => controller.abort() }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(e).toMatchObject({ name: 'AdvxError', code: 'ABORTED' });
    expect((e as Error).message).toMatch(/aborted; nothing was kept \(no out folder was given: pass out to keep the finished chunks for resume\)/);
    expect(readdirSync(osTmp)).toEqual([]);
  });

  it.runIf(tf.getBackend() === BACKEND)(
    'an abort stops the workers and keeps their state in out; without resume it is refused, with resume: true it finishes with the same result',
    { timeout: 120_000 },
    async () => {
      const out = path.join(tmp, 'aborted');
      const controller = new AbortController();
      const running = evaluateInWorkers({ ...BASE, attacks: 'fgsm,pgd:steps=5', out, signal: controller.signal });
      const state = path.join(workerDir(out, 0, 2), 'state.json');
      const t0 = Date.now();
      while (!existsSync(state) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      const e = await running.then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(e).toMatchObject({ name: 'AdvxError', code: 'ABORTED' });
      expect((e as Error).message).toMatch(
        /each worker kept the state of its finished chunks in .*\.workers: call evaluateInWorkers again with the same options and resume: true to continue/,
      );
      expect(existsSync(state)).toBe(true);
      // The lock went with the run.
      expect(existsSync(path.join(out, '.advx.lock'))).toBe(false);

      spawn.mockClear();
      await expect(evaluateInWorkers({ ...BASE, attacks: 'fgsm,pgd:steps=5', out })).rejects.toThrow(
        /out .* holds the shards of an interrupted evaluateInWorkers run .*: call evaluateInWorkers again with the same options and resume: true to continue it/,
      );
      expect(spawn).not.toHaveBeenCalled();

      const resumed = await evaluateInWorkers({ ...BASE, attacks: 'fgsm,pgd:steps=5', out, resume: true });
      expect(comparable(resumed)).toEqual(comparable(single));
      // Merged: the shards and the lock are gone.
      expect(readdirSync(out)).toEqual([]);
    },
  );
});
