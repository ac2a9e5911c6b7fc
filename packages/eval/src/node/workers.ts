import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

import { AdvxError } from '@advx/core';

import { checkResultRecord } from '../internal/check-records.js';
import { mergeResults } from '../merge-results.js';
import type { EvaluationProgress, EvaluationResult } from '../types.js';

/** Prefix of the machine-readable progress lines a worker writes on stderr (`ADVX_PROGRESS=json`). */
export const PROGRESS_PREFIX = '@advx-progress ';
/** What a worker tells its parent besides results.json: the report's class names and title, the backend. */
export const WORKER_INFO_FILE = 'worker-info.json';
/** Sub-folder of `--out` that holds the workers' shard folders while a run is going. */
export const WORKERS_DIR = '.workers';

/**
 * How the messages of a run with workers name its options: `advx eval`'s flags
 * ({@link CLI_WORDING}), or the options of `evaluateInWorkers`.
 *
 * @example
 * ```ts
 * const wording: WorkerWording = { out: '--out', run: '--workers', resume: 'rerun with --resume', without: 'drop --workers' };
 * ```
 * @internal
 */
export interface WorkerWording {
  /** The output folder's option, e.g. `--out`. */
  readonly out: string;
  /** What runs the workers, e.g. `--workers`. */
  readonly run: string;
  /** How to continue an interrupted run, e.g. `rerun with --resume`. */
  readonly resume: string;
  /** How to do without the workers, e.g. `drop --workers`. */
  readonly without: string;
}

/**
 * The wording of `advx eval --workers`.
 *
 * @example
 * ```ts
 * await refuseInterruptedWorkers('advx-report', false, CLI_WORDING);
 * ```
 * @internal
 */
export const CLI_WORDING: WorkerWording = { out: '--out', run: '--workers', resume: 'rerun with --resume', without: 'drop --workers' };

/**
 * wasm threads of each of `workers` workers: `threads` when given, else the cores shared out (at least 1).
 *
 * @example
 * ```ts
 * threadsPerWorker(4, undefined); // 2 on an 8-core machine
 * ```
 * @internal
 */
export function threadsPerWorker(workers: number, threads: number | undefined): number {
  return threads ?? Math.max(1, Math.floor(os.availableParallelism() / workers));
}

/**
 * The report settings a worker saw (read from its model and data), handed to the parent.
 *
 * @internal
 */
export interface WorkerInfo {
  readonly classNames?: readonly string[];
  readonly title: string;
  readonly backend: string;
}

/** One worker's lifecycle. */
interface WorkerSlot {
  readonly index: number;
  readonly dir: string;
  fraction: number;
  chunk: number;
  chunks: number;
  restarts: number;
  lastLines: string[];
}

/**
 * What {@link runWorkers} needs: the `advx eval` arguments every worker shares, how many workers,
 * and where.
 *
 * @internal
 */
export interface WorkerPlan {
  /** `advx eval` arguments without `--workers`, `--shard`, `--out`, `--resume`, `--json`, `--threads`. */
  readonly args: readonly string[];
  /** Arguments of the first worker only (the self-test, which runs once). */
  readonly firstArgs?: readonly string[];
  /** Workers (= shards). */
  readonly count: number;
  /** wasm threads of each worker. */
  readonly threads: number;
  /** The parent's `--out`. */
  readonly out: string;
  /** Continue the workers' interrupted shards. */
  readonly resume: boolean;
  /** How often a crashed worker is started again on its shard before the run fails. */
  readonly maxRestarts: number;
  /** The parent's progress display. */
  readonly onProgress: (p: EvaluationProgress) => void;
  /** Lines of the workers for the user (prefixed with the worker). */
  readonly log: (line: string) => void;
  /** Stops every worker (they keep their state for `--resume`). */
  readonly signal: AbortSignal;
  /** How messages name the options (default {@link CLI_WORDING}). */
  readonly wording?: WorkerWording;
  /** Starts a worker process (default `node:child_process`'s `spawn`; tests pass a counting one). */
  readonly spawn?: WorkerSpawn;
}

/**
 * How {@link runWorkers} starts a worker process: `node:child_process`'s `spawn`, or a function that
 * calls it (tests count the processes with one).
 *
 * @example
 * ```ts
 * let started = 0;
 * const counting: WorkerSpawn = (command, args, options) => (started++, spawn(command, args, options));
 * ```
 * @internal
 */
export type WorkerSpawn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

/** The outcome of {@link runWorkers}. */
export type WorkersOutcome = { readonly kind: 'done'; readonly result: EvaluationResult; readonly info: WorkerInfo } | { readonly kind: 'interrupted' };

/** The built command that the workers run (`dist/cli.js` of `@advx/eval`). */
export function workerCommand(wording: WorkerWording = CLI_WORDING): string {
  const pkg = path.dirname(createRequire(import.meta.url).resolve('@advx/eval/package.json'));
  const cli = path.join(pkg, 'dist', 'cli.js');
  if (!existsSync(cli)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${wording.run}: the workers run the built command ${cli}, which is missing; run \`npm run build\` first (or ${wording.without}).`,
    );
  }
  return cli;
}

/** The folder of worker `index` (0-based) of `count`. */
export function workerDir(out: string, index: number, count: number): string {
  return path.join(out, WORKERS_DIR, `shard-${index + 1}-of-${count}`);
}

/**
 * Without `--resume`, an `--out` whose workers left state (an interrupted `--workers` run) is refused,
 * as a single run's `state.json` is: the finished chunks may have cost hours.
 */
export async function refuseInterruptedWorkers(out: string, resume: boolean, wording: WorkerWording = CLI_WORDING): Promise<void> {
  if (resume) return;
  const dir = path.join(out, WORKERS_DIR);
  const shards = await fs.readdir(dir).catch(() => [] as string[]);
  const held = shards.filter((s) => existsSync(path.join(dir, s, 'state.json')) || existsSync(path.join(dir, s, 'results.json')));
  if (held.length > 0) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${wording.out} ${out} holds the shards of an interrupted ${wording.run} run (${path.join(dir, held[0] as string)}): ${wording.resume} to continue it, or delete ${dir} (or choose another ${wording.out}) to start afresh.`,
      { state: dir },
    );
  }
}

/**
 * Runs `advx eval` as `count` worker processes, one shard each (`--shard k/count`, its own engine,
 * `threads` wasm threads, its own folder under `<out>/.workers/`), shows their combined progress,
 * starts a worker that crashes again on its shard (with `--resume`: its finished chunks stay), stops
 * them all on `signal` (each keeps its state) and merges their results with {@link mergeResults}:
 * the merged result equals a single process's, except the times. When a worker fails, the others are
 * stopped (keeping their state) and awaited before the error is thrown.
 *
 * @internal
 */
export async function runWorkers(plan: WorkerPlan): Promise<WorkersOutcome> {
  const wording = plan.wording ?? CLI_WORDING;
  const cli = workerCommand(wording);
  const slots: WorkerSlot[] = Array.from({ length: plan.count }, (_, index) => ({
    index,
    dir: workerDir(plan.out, index, plan.count),
    fraction: 0,
    chunk: 0,
    chunks: 0,
    restarts: 0,
    lastLines: [],
  }));
  const running = new Set<ChildProcess>();
  /** A worker failed: the others are stopped and not started again. */
  let failed = false;
  const said = new Set<string>();
  const stopAll = () => {
    for (const child of running) child.kill('SIGINT');
  };
  plan.signal.addEventListener('abort', stopAll);
  const report = () => {
    const chunks = slots.reduce((s, w) => s + w.chunks, 0);
    plan.onProgress({
      phase: 'attacks',
      fraction: slots.reduce((s, w) => s + w.fraction, 0) / slots.length,
      attack: `${plan.count} workers`,
      chunk: slots.reduce((s, w) => s + w.chunk, 0),
      chunks: Math.max(chunks, 1),
      resumedChunks: 0,
    });
  };

  /** Runs worker `slot` once; resolves with its exit code (130 for an interrupt) and how it ended, in words. */
  const runOnce = (slot: WorkerSlot, resume: boolean): Promise<{ code: number; how: string }> =>
    new Promise((resolve, reject) => {
      const args = [
        cli,
        'eval',
        ...plan.args,
        ...(slot.index === 0 ? (plan.firstArgs ?? []) : []),
        '--shard',
        `${slot.index + 1}/${plan.count}`,
        '--out',
        slot.dir,
        '--threads',
        String(plan.threads),
        ...(resume ? ['--resume'] : []),
      ];
      // Its own process group: a Ctrl-C on the terminal reaches the parent only, which passes one SIGINT on.
      const child = (plan.spawn ?? spawn)(process.execPath, args, {
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
        env: { ...process.env, ADVX_PROGRESS: 'json', ADVX_WORKER_INFO: '1' },
      });
      running.add(child);
      let pending = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (text: string) => {
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line.startsWith(PROGRESS_PREFIX)) {
            const p = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as EvaluationProgress;
            if (p.phase === 'attacks') {
              slot.fraction = p.fraction;
              slot.chunk = Math.min(p.chunk + 1, p.chunks);
              slot.chunks = p.chunks;
              report();
            }
          } else if (line.trim() !== '') {
            slot.lastLines = [...slot.lastLines.slice(-9), line];
            // Every worker inspects the same model and checks the same grid: a line is said once.
            if (!said.has(line)) plan.log(`[worker ${slot.index + 1}/${plan.count}] ${line}`);
            said.add(line);
          }
        }
      });
      child.on('error', (e) => {
        running.delete(child);
        reject(e);
      });
      child.on('close', (code, signal) => {
        running.delete(child);
        resolve({ code: code ?? (signal === 'SIGINT' ? 130 : 1), how: code === null ? `killed by ${signal ?? 'a signal'}` : `exit ${code}` });
      });
    });

  /** Runs worker `slot` to the end of its shard, starting it again after a crash. */
  const runSlot = async (slot: WorkerSlot): Promise<'done' | 'interrupted'> => {
    const done = () => existsSync(path.join(slot.dir, 'results.json')) && !existsSync(path.join(slot.dir, 'state.json'));
    // A resumed run keeps the shards that had finished.
    if (plan.resume && done()) {
      slot.fraction = 1;
      return 'done';
    }
    let resume = plan.resume && existsSync(path.join(slot.dir, 'state.json'));
    for (;;) {
      if (plan.signal.aborted || failed) return 'interrupted';
      const { code, how } = await runOnce(slot, resume);
      if (code === 0 && done()) {
        slot.fraction = 1;
        report();
        return 'done';
      }
      if (plan.signal.aborted || failed || code === 130) return 'interrupted';
      if (code === 1 && !existsSync(path.join(slot.dir, 'state.json')) && slot.lastLines.some((l) => l.startsWith('advx: error:'))) {
        // An error the worker reported itself (bad model, bad data) happens again on a restart.
        throw new AdvxError(
          'INVALID_OPTION',
          `worker ${slot.index + 1}/${plan.count} failed: ${slot.lastLines.filter((l) => l.startsWith('advx: error:')).join(' ')}`,
        );
      }
      if (slot.restarts >= plan.maxRestarts) {
        throw new AdvxError(
          'INVALID_OPTION',
          `worker ${slot.index + 1}/${plan.count} stopped ${slot.restarts + 1} times (last: ${how}); its last lines: ${slot.lastLines.join(' | ') || '(none)'}. ` +
            `Its state is in ${slot.dir}; ${wording.resume} to continue.`,
        );
      }
      slot.restarts++;
      plan.log(
        `[advx] worker ${slot.index + 1}/${plan.count} stopped (${how}); starting it again on its shard (restart ${slot.restarts} of ${plan.maxRestarts})`,
      );
      resume = existsSync(path.join(slot.dir, 'state.json'));
    }
  };

  let outcomes: ('done' | 'interrupted')[];
  const runs = slots.map(runSlot);
  try {
    outcomes = await Promise.all(runs);
  } catch (e) {
    failed = true;
    stopAll();
    // The others stop (keeping their state) before the error goes on: nothing writes into `out` afterwards.
    await Promise.allSettled(runs);
    throw e;
  } finally {
    plan.signal.removeEventListener('abort', stopAll);
  }
  if (outcomes.includes('interrupted')) {
    // The others stop too; their state stays for --resume.
    stopAll();
    return { kind: 'interrupted' };
  }
  const results: EvaluationResult[] = [];
  for (const slot of slots) {
    const r = JSON.parse(await fs.readFile(path.join(slot.dir, 'results.json'), 'utf8')) as EvaluationResult;
    checkResultRecord(r, `the results of worker ${slot.index + 1}/${plan.count}`);
    results.push(r);
  }
  const info = JSON.parse(await fs.readFile(path.join(slots[0]!.dir, WORKER_INFO_FILE), 'utf8')) as WorkerInfo;
  return { kind: 'done', result: mergeResults(results), info };
}

/**
 * The `advx eval` arguments without the named options: `valued` ones (`--name value`, `--name=value`),
 * boolean `flags`, and `optional` ones whose value may follow (`--self-test`, `--self-test 20`).
 *
 * @internal
 */
export function withoutOptions(argv: readonly string[], valued: readonly string[], flags: readonly string[], optional: readonly string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const name = a.split('=')[0] as string;
    if (valued.includes(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    if (optional.includes(name)) {
      if (!a.includes('=') && /^\d+$/.test(argv[i + 1] ?? '')) i++;
      continue;
    }
    if (flags.includes(a)) continue;
    out.push(a);
  }
  return out;
}
