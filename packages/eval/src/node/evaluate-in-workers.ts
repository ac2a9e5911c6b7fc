import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { AdvxError, type NormName } from '@advx/core';
import { DATASETS, ZOO_MODEL_IDS } from '@advx/models-zoo';

import type { AttackSpec, EvaluationProgress, EvaluationResult } from '../types.js';
import { parseModelFlags, type ModelFlags } from './model/index.js';
import { lockOutFolder } from './out/lock-out-folder.js';
import { prepareOutFolder, type PreparedOutFolder } from './out/prepare-out-folder.js';
import { checkAttacks, parseAttacks } from './run-cli.js';
import { refuseInterruptedWorkers, runWorkers, threadsPerWorker, workerCommand, WORKERS_DIR, type WorkerSpawn, type WorkerWording } from './workers.js';

/**
 * Options of {@link evaluateInWorkers}: what a worker process can load itself (a model id or path, a
 * data spec, attacks by name), as `advx eval` takes it. Defaults are those of `evaluate()`
 * (`batchSize` 128, `seed` 0, `norm` `'linf'`, `examples` 0, diagnostics on), so that the result is the
 * one `evaluate()` gives in this process for the same model, data and settings.
 *
 * @example
 * ```ts
 * const options: EvaluateInWorkersOptions = {
 *   model: 'mnist-cnn', data: 'mnist', n: 1000, attacks: 'fgsm,pgd:steps=40', epsilons: [0.1, 0.3], workers: 4,
 * };
 * ```
 * @public
 */
export interface EvaluateInWorkersOptions {
  /** What `advx eval --model` takes: a zoo id (`mnist-cnn`, ...), a tfjs `model.json` or a folder holding one (Teachable Machine export). */
  readonly model: string;
  /** What `--model`'s other flags take (`--bounds`, `--output`, `--output-node`, `--input-size`, `--channels`, `--mean`, `--std`, `--labels`), as strings. */
  readonly modelFlags?: ModelFlags;
  /**
   * What `--data` takes: an image folder (one sub-folder per class), a `list.csv`/`list.json`, an
   * `images.idx,labels.idx` or `x.npy,y.npy` pair, or a zoo dataset (`mnist`, `fashion-mnist`).
   * Default: the zoo model's dataset (else `mnist`).
   */
  readonly data?: string;
  /** Samples (`--n`; default 300 of a zoo dataset, all of other data). */
  readonly n?: number;
  /** Which `n` samples (`--sample`): `'first'` (default) or `'stratified'`. */
  readonly sample?: 'first' | 'stratified';
  /** Skip and count unreadable image files (`--skip-bad`). */
  readonly skipBad?: boolean;
  /** Resize images of another size to the model input (`--resize`). */
  readonly resize?: boolean;
  /** Convert grey and colour images to the model's channels (`--convert-channels`). */
  readonly convertChannels?: boolean;
  /**
   * The attacks: the `--attacks` text (`'fgsm,pgd:steps=40'`, `'autoattack'`, `'autoattack:version=plus'`)
   * or registry specs `{ name, options }` (options of numbers, booleans and strings that the text can
   * carry). Configured attack objects (`pgd()`) and `label`s cannot cross to a worker process.
   */
  readonly attacks: string | readonly AttackSpec[];
  /** Perturbation radii > 0, no duplicates. */
  readonly epsilons: readonly number[];
  /** Norm of the epsilons (default `'linf'`). */
  readonly norm?: NormName;
  /** Samples per chunk (default 128, as `evaluate()`): the unit of batching, checkpoints and shards. */
  readonly batchSize?: number;
  /** Base seed (default 0). */
  readonly seed?: number;
  /** Example adversarials per attack and ε in the result (default 0). */
  readonly examples?: number;
  /** Per-sample budget of white-box passes per ε (`evaluate()`'s `maxPasses`; default none). */
  readonly maxPasses?: number;
  /** `false` skips the gradient-masking diagnostics (default on). */
  readonly diagnostics?: boolean;
  /** The binarization self-test in the first worker: `true` (20 samples) or a number of samples (linf and l2). */
  readonly selfTest?: boolean | number;
  /** Worker processes, one shard each (default: `os.availableParallelism()`, at most one per chunk when the sample count is known). */
  readonly workers?: number;
  /** wasm threads of each worker (default: the cores shared out among the workers). */
  readonly threads?: number;
  /** tfjs backend of the workers: `'wasm'` (default), `'cpu'`, `'webgpu'` or `'tensorflow'`. */
  readonly backend?: 'cpu' | 'wasm' | 'webgpu' | 'tensorflow';
  /**
   * Folder for the workers' state and files (`<out>/.workers/`), created and locked (`.advx.lock`) for
   * the run; their state stays there when the run is aborted, for `resume`. Default: a temporary
   * folder, removed afterwards. The reports are not written (use `writeReport(result, out)`).
   */
  readonly out?: string;
  /** Continue the interrupted run in `out` (needs `out`). */
  readonly resume?: boolean;
  /** How often a crashed worker is started again on its shard before the run fails (default 2). */
  readonly maxRestarts?: number;
  /** Stops every worker (`AdvxError` `ABORTED`); with `out` their finished chunks stay for `resume`. */
  readonly signal?: AbortSignal;
  /** Combined progress of the workers (`fraction` in [0, 1], phase `attacks`). */
  readonly onProgress?: (progress: EvaluationProgress) => void;
  /** The workers' messages (warnings, inspection), each once, prefixed with the worker. */
  readonly onLog?: (line: string) => void;
}

const OPTION_NAMES = [
  'model',
  'modelFlags',
  'data',
  'n',
  'sample',
  'skipBad',
  'resize',
  'convertChannels',
  'attacks',
  'epsilons',
  'norm',
  'batchSize',
  'seed',
  'examples',
  'maxPasses',
  'diagnostics',
  'selfTest',
  'workers',
  'threads',
  'backend',
  'out',
  'resume',
  'maxRestarts',
  'signal',
  'onProgress',
  'onLog',
] as const satisfies readonly (keyof EvaluateInWorkersOptions)[];
// Every option is listed (a compile error names one that is not).
const everyOptionListed: Exclude<keyof EvaluateInWorkersOptions, (typeof OPTION_NAMES)[number]> extends never ? true : never = true;
void everyOptionListed;
const NORMS: readonly NormName[] = ['linf', 'l2', 'l1', 'l0'];
const BACKENDS = ['cpu', 'wasm', 'webgpu', 'tensorflow'] as const;
const MODEL_FLAGS: readonly (readonly [keyof ModelFlags, string])[] = [
  ['bounds', '--bounds'],
  ['output', '--output'],
  ['outputNode', '--output-node'],
  ['inputSize', '--input-size'],
  ['channels', '--channels'],
  ['mean', '--mean'],
  ['std', '--std'],
  ['labels', '--labels'],
];
const WORDING: WorkerWording = {
  out: 'out',
  run: 'evaluateInWorkers',
  resume: 'call evaluateInWorkers again with the same options and resume: true',
  without: 'use evaluate() in this process',
};

const isZooData = (data: string) => Object.prototype.hasOwnProperty.call(DATASETS, data);

function positiveInt(name: string, value: unknown, example: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: ${name} must be a positive integer (e.g. ${name}: ${example}), got ${String(value)}.`);
  }
  return value;
}

function flag(name: string, value: unknown): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: ${name} must be true or false, got ${String(value)}.`);
  return value === true;
}

/** `AttackSpec[]` → the `--attacks` text, checked to read back as the same specs. */
function attacksText(specs: readonly AttackSpec[]): string {
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new AdvxError(
      'INVALID_OPTION',
      "evaluateInWorkers: attacks must be the --attacks text (e.g. 'fgsm,pgd:steps=40') or a non-empty array of { name, options }.",
    );
  }
  const entries = specs.map((spec, i) => {
    const s = spec as unknown as Record<string, unknown> | null;
    if (s === null || typeof s !== 'object')
      throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: attacks[${i}] must be { name, options }, got ${String(spec)}.`);
    if ('meta' in s || typeof s.run === 'function') {
      throw new AdvxError(
        'INVALID_OPTION',
        `evaluateInWorkers: attacks[${i}] is a configured attack object, which cannot cross to a worker process: pass it as a registry spec { name, options } (e.g. { name: 'pgd', options: { steps: 40 } }) or as the --attacks text.`,
      );
    }
    if (typeof s.name !== 'string' || !/^[^,:=\s]+$/.test(s.name)) {
      throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: attacks[${i}].name must be a registry name such as 'pgd', got ${JSON.stringify(s.name)}.`);
    }
    if (s.name.toLowerCase() === 'autoattack')
      throw new AdvxError('INVALID_OPTION', "evaluateInWorkers: AutoAttack is no registry attack: pass attacks: 'autoattack' (or 'autoattack:version=plus').");
    if (s.label !== undefined)
      throw new AdvxError(
        'INVALID_OPTION',
        `evaluateInWorkers: attacks[${i}] (${s.name}) has a label, which the workers cannot take: drop it (the result labels the attack by name and options).`,
      );
    if (s.options !== undefined && (s.options === null || typeof s.options !== 'object' || Array.isArray(s.options))) {
      throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: attacks[${i}].options must be an object of option values (e.g. { steps: 40 }).`);
    }
    const options = Object.entries((s.options ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return { name: s.name, options, text: [s.name, ...options.map(([k, v]) => `${k}=${String(v)}`)].join(':') };
  });
  const text = entries.map((e) => e.text).join(',');
  // The workers read the text: every option must read back as the value given.
  let parsed: AttackSpec[];
  try {
    parsed = parseAttacks(text).specs;
  } catch {
    parsed = [];
  }
  entries.forEach((e, i) => {
    const back = parsed[i];
    const same =
      back !== undefined &&
      back.name === e.name &&
      Object.keys(back.options ?? {}).length === e.options.length &&
      e.options.every(([k, v]) => (back.options ?? {})[k] === v);
    if (!same) {
      const bad = e.options.find(
        ([k, v]) =>
          typeof k !== 'string' || /[,:=\s]/.test(k) || !['number', 'boolean', 'string'].includes(typeof v) || (typeof v === 'number' && !Number.isFinite(v)),
      );
      throw new AdvxError(
        'INVALID_OPTION',
        `evaluateInWorkers: attacks[${i}] (${e.name}) cannot be passed to the workers as the text '${e.text}'${bad ? ` (option ${bad[0]} = ${JSON.stringify(bad[1]) ?? String(bad[1])})` : ''}: ` +
          "option values must be finite numbers, booleans, or strings without ',' or ':' that do not read as a number or boolean.",
      );
    }
  });
  return text;
}

/** The checked options as `advx eval` arguments, and the settings of the run. */
interface Plan {
  readonly args: string[];
  readonly firstArgs: string[];
  readonly workers: number;
  readonly threads: number;
  readonly resume: boolean;
  readonly maxRestarts: number;
}

/** Checks every option (nothing is started) and turns them into `advx eval` arguments. */
async function plan(options: EvaluateInWorkersOptions): Promise<Plan> {
  if (options === null || typeof options !== 'object') {
    throw new AdvxError(
      'INVALID_OPTION',
      "evaluateInWorkers needs { model, attacks, epsilons }, e.g. { model: 'mnist-cnn', attacks: 'fgsm', epsilons: [0.1] }.",
    );
  }
  // A misspelt option (eps for epsilons) would otherwise be a default silently.
  const unknown = Object.keys(options).find((k) => !(OPTION_NAMES as readonly string[]).includes(k));
  if (unknown !== undefined)
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: unknown option '${unknown}'; the options are ${OPTION_NAMES.join(', ')}.`);
  const { model, data } = options;
  if (typeof model !== 'string' || model.trim() === '') {
    throw new AdvxError(
      'INVALID_OPTION',
      `evaluateInWorkers: model must be a zoo id (${ZOO_MODEL_IDS.join(', ')}) or the path of a model.json or of a folder holding one; a model object cannot cross to a worker process (use evaluate() for it).`,
    );
  }
  if (!(ZOO_MODEL_IDS as readonly string[]).includes(model) && !existsSync(model)) {
    throw new AdvxError(
      'UNKNOWN_NAME',
      `evaluateInWorkers: model '${model}' is neither a zoo model (${ZOO_MODEL_IDS.join(', ')}) nor an existing model.json or folder (relative paths are read from ${process.cwd()}).`,
      { name: model },
    );
  }
  const modelFlags = options.modelFlags ?? {};
  if (modelFlags === null || typeof modelFlags !== 'object')
    throw new AdvxError('INVALID_OPTION', "evaluateInWorkers: modelFlags must be an object of the --model flags as strings, e.g. { bounds: '0,1' }.");
  for (const [key] of MODEL_FLAGS) {
    const v = modelFlags[key];
    if (v !== undefined && typeof v !== 'string')
      throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: modelFlags.${key} must be a string as the command line takes it, got ${String(v)}.`);
  }
  const unknownFlag = Object.keys(modelFlags).find((k) => !MODEL_FLAGS.some(([key]) => key === k));
  if (unknownFlag !== undefined)
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: modelFlags.${unknownFlag} is no model flag; they are ${MODEL_FLAGS.map(([k]) => k).join(', ')}.`);
  await parseModelFlags(modelFlags);
  if (data !== undefined) {
    if (typeof data !== 'string' || data.trim() === '')
      throw new AdvxError(
        'INVALID_OPTION',
        `evaluateInWorkers: data must be what --data takes (a folder, a list file, a pair 'images.idx,labels.idx', or ${Object.keys(DATASETS).join(', ')}).`,
      );
    const missing = isZooData(data)
      ? undefined
      : data
          .split(',')
          .map((p) => p.trim())
          .find((p) => !existsSync(p));
    if (missing !== undefined) {
      throw new AdvxError(
        'UNKNOWN_NAME',
        `evaluateInWorkers: data '${data}': ${missing} does not exist (relative paths are read from ${process.cwd()}); give a folder, a list file, a pair, or ${Object.keys(DATASETS).join(', ')}.`,
        { name: data },
      );
    }
  }
  const n = options.n === undefined ? undefined : positiveInt('n', options.n, '1000');
  const sample = options.sample ?? 'first';
  if (sample !== 'first' && sample !== 'stratified')
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: sample must be 'first' or 'stratified', got ${String(sample)}.`);
  const norm = options.norm ?? 'linf';
  if (!NORMS.includes(norm)) throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: norm must be one of ${NORMS.join(', ')}, got ${String(norm)}.`);
  const epsilons = options.epsilons;
  if (!Array.isArray(epsilons) || epsilons.length === 0 || epsilons.some((e) => typeof e !== 'number' || !Number.isFinite(e) || e <= 0)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `evaluateInWorkers: epsilons must be a non-empty array of finite numbers > 0 (e.g. [0.1, 0.3] or [8 / 255]), got ${JSON.stringify(epsilons) ?? String(epsilons)}.`,
    );
  }
  if (new Set(epsilons).size !== epsilons.length)
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: epsilons contain duplicates (${epsilons.join(', ')}): give each radius once.`);
  const text = typeof options.attacks === 'string' ? options.attacks : attacksText(options.attacks);
  // Unknown attacks, unknown options and unsupported norms fail here, as in advx eval.
  checkAttacks(parseAttacks(text), norm);
  const batchSize = options.batchSize === undefined ? 128 : positiveInt('batchSize', options.batchSize, '128');
  const seed = options.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 2 ** 32 - 1)
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: seed must be an integer in [0, 2^32 - 1], got ${String(seed)}.`);
  const examples = options.examples ?? 0;
  if (typeof examples !== 'number' || !Number.isInteger(examples) || examples < 0)
    throw new AdvxError(
      'INVALID_OPTION',
      `evaluateInWorkers: examples must be an integer ≥ 0 (example adversarials per attack and ε), got ${String(examples)}.`,
    );
  const maxPasses = options.maxPasses === undefined ? undefined : positiveInt('maxPasses', options.maxPasses, '1000');
  const diagnostics = options.diagnostics === undefined ? true : options.diagnostics;
  if (typeof diagnostics !== 'boolean')
    throw new AdvxError('INVALID_OPTION', 'evaluateInWorkers: diagnostics must be true or false (the workers take no thresholds; use evaluate() for them).');
  const selfTest =
    options.selfTest === undefined || options.selfTest === false ? undefined : options.selfTest === true ? 20 : positiveInt('selfTest', options.selfTest, '20');
  if (selfTest !== undefined && norm !== 'linf' && norm !== 'l2')
    throw new AdvxError('UNSUPPORTED_NORM', `evaluateInWorkers: the self-test covers linf and l2, not ${norm}; drop selfTest for this norm.`);
  const backend = options.backend ?? 'wasm';
  if (!(BACKENDS as readonly string[]).includes(backend))
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: backend must be one of ${BACKENDS.join(', ')}, got ${String(backend)}.`);
  // A zoo dataset has 300 samples by default; the size of other data is known only to the workers.
  const count = n ?? (data === undefined || isZooData(data) ? 300 : undefined);
  const chunks = count === undefined ? Infinity : Math.ceil(count / batchSize);
  const workers = options.workers === undefined ? Math.max(1, Math.min(os.availableParallelism(), chunks)) : positiveInt('workers', options.workers, '4');
  const threads = options.threads === undefined ? undefined : positiveInt('threads', options.threads, '1');
  const maxRestarts = options.maxRestarts ?? 2;
  if (typeof maxRestarts !== 'number' || !Number.isInteger(maxRestarts) || maxRestarts < 0)
    throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: maxRestarts must be an integer ≥ 0, got ${String(maxRestarts)}.`);
  const resume = flag('resume', options.resume);
  if (resume && options.out === undefined)
    throw new AdvxError(
      'INVALID_OPTION',
      'evaluateInWorkers: resume needs the out folder of the interrupted run (without out, the state goes with its temporary folder).',
    );
  if (options.out !== undefined && (typeof options.out !== 'string' || options.out.trim() === ''))
    throw new AdvxError('INVALID_OPTION', "evaluateInWorkers: out must be a folder name, e.g. out: 'advx-run'.");
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new AdvxError('INVALID_OPTION', 'evaluateInWorkers: signal must be an AbortSignal (e.g. new AbortController().signal).');
  for (const name of ['onProgress', 'onLog'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function')
      throw new AdvxError('INVALID_OPTION', `evaluateInWorkers: ${name} must be a function.`);
  }
  const args = [
    `--model=${model}`,
    ...MODEL_FLAGS.flatMap(([key, name]) => (modelFlags[key] !== undefined ? [`${name}=${modelFlags[key]}`] : [])),
    ...(data !== undefined ? [`--data=${data}`] : []),
    ...(n !== undefined ? [`--n=${n}`] : []),
    `--sample=${sample}`,
    ...(flag('skipBad', options.skipBad) ? ['--skip-bad'] : []),
    ...(flag('resize', options.resize) ? ['--resize'] : []),
    ...(flag('convertChannels', options.convertChannels) ? ['--convert-channels'] : []),
    `--attacks=${text}`,
    // String(x) reads back as the same double.
    `--eps=${epsilons.map(String).join(',')}`,
    `--norm=${norm}`,
    `--batch-size=${batchSize}`,
    `--seed=${seed}`,
    `--examples=${examples}`,
    ...(maxPasses !== undefined ? [`--max-passes=${maxPasses}`] : []),
    `--backend=${backend}`,
    ...(diagnostics ? [] : ['--no-diagnostics']),
  ];
  return {
    args,
    firstArgs: selfTest !== undefined ? [`--self-test=${selfTest}`] : [],
    workers,
    threads: threadsPerWorker(workers, threads),
    resume,
    maxRestarts,
  };
}

/**
 * `evaluate()` split over worker processes, from the Node API (`advx eval --workers N`): each worker
 * runs the built `advx eval` on one shard (`--shard k/N`, its own tfjs engine, `threads` wasm threads),
 * loading the model and data itself (a live model object cannot cross a process boundary); a crashed
 * worker is started again on its shard, resuming its finished chunks; the shards are merged with
 * `mergeResults`. The result equals a single process's `evaluate()` on the same model, data and
 * settings (same backend), except the times; its `config.model.input` also describes the model's input
 * handling and inspection, as `advx eval`'s results.json does.
 *
 * Every option is checked before any process starts. With `out`, the folder is created and locked for
 * the run and an interrupted run's shards there are refused unless `resume` is set; the shards are
 * removed once merged.
 *
 * @param options - see {@link EvaluateInWorkersOptions}.
 * @returns the merged result.
 * @throws AdvxError before any process for a bad option (`INVALID_OPTION`, `UNKNOWN_NAME` for a model,
 * data or attack that does not exist, `INVALID_EPSILON`/`UNSUPPORTED_NORM` from the attacks' checks), or
 * when the command is not built; `INVALID_OPTION` when a worker fails (its error) or keeps crashing;
 * `ABORTED` when `signal` aborts (with `out`, the workers' finished chunks stay for `resume`).
 *
 * @example
 * ```ts
 * import { evaluateInWorkers } from '@advx/eval/node';
 *
 * const controller = new AbortController();
 * const result = await evaluateInWorkers({
 *   model: 'mnist-cnn', n: 1000, attacks: [{ name: 'fgsm' }, { name: 'pgd', options: { steps: 40 } }],
 *   epsilons: [0.1, 0.3], workers: 4, out: 'advx-run', signal: controller.signal,
 *   onProgress: (p) => console.log(`${Math.round(100 * p.fraction)} %`),
 * });
 * console.log(result.attacks.map((a) => a.perEpsilon.map((e) => e.robustAccuracy)));
 * ```
 * @public
 */
export async function evaluateInWorkers(options: EvaluateInWorkersOptions): Promise<EvaluationResult> {
  return evaluateInWorkersWith(options, spawn);
}

/**
 * {@link evaluateInWorkers} with the function that starts the worker processes (tests count them).
 *
 * @example
 * ```ts
 * let started = 0;
 * await evaluateInWorkersWith({ model: 'mnist-logreg', attacks: 'fgsm', epsilons: [0.1], workers: 2 }, (c, a, o) => (started++, spawn(c, a, o)));
 * ```
 * @internal
 */
export async function evaluateInWorkersWith(options: EvaluateInWorkersOptions, spawnWorker: WorkerSpawn): Promise<EvaluationResult> {
  const p = await plan(options);
  workerCommand(WORDING);
  const signal = options.signal ?? new AbortController().signal;
  if (signal.aborted) throw new AdvxError('ABORTED', 'evaluateInWorkers: aborted before any worker started.');
  const given = options.out;
  let prepared: PreparedOutFolder | undefined;
  let lock: Awaited<ReturnType<typeof lockOutFolder>> | undefined;
  const out = given ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'advx-workers-')));
  try {
    if (given !== undefined) {
      prepared = await prepareOutFolder(given, 'out');
      lock = await lockOutFolder(given, 'evaluateInWorkers');
      if (lock.tookOver) options.onLog?.(`[advx] took over the stale lock of pid ${lock.tookOver.pid} (no longer running) in ${given}`);
      await refuseInterruptedWorkers(given, p.resume, WORDING);
    }
    const onProgress = options.onProgress;
    const onLog = options.onLog;
    const outcome = await runWorkers({
      args: p.args,
      firstArgs: p.firstArgs,
      count: p.workers,
      threads: p.threads,
      out,
      resume: p.resume,
      maxRestarts: p.maxRestarts,
      onProgress: (progress) => onProgress?.(progress),
      log: (line) => onLog?.(line),
      signal,
      wording: WORDING,
      spawn: spawnWorker,
    });
    if (outcome.kind === 'interrupted') {
      throw new AdvxError(
        'ABORTED',
        given !== undefined
          ? `evaluateInWorkers: aborted; each worker kept the state of its finished chunks in ${path.join(given, WORKERS_DIR)}: ${WORDING.resume} to continue.`
          : 'evaluateInWorkers: aborted; nothing was kept (no out folder was given: pass out to keep the finished chunks for resume).',
      );
    }
    if (given !== undefined) await fs.rm(path.join(given, WORKERS_DIR), { recursive: true, force: true });
    return outcome.result;
  } finally {
    await lock?.release();
    if (given === undefined) await fs.rm(out, { recursive: true, force: true });
    // A folder this run created and left empty goes too.
    else if (prepared?.created) await fs.rmdir(given).catch(() => undefined);
  }
}
