import { promises as fs } from 'node:fs';
import path from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import cliProgress from 'cli-progress';
import { Command, CommanderError, Option } from 'commander';

import '@advx/attacks/register-all';
import {
  AdvxError,
  describeOptions,
  getAttack,
  getDefense,
  getDetector,
  isAdvxError,
  listAttacks,
  listDefenses,
  listDetectors,
  parseOptionStrings,
  type NormName,
  type OptionRow,
  type OptionSchema,
} from '@advx/core';
import { DATASETS, ZOO_MODEL_IDS, type DatasetName } from '@advx/models-zoo';

// Inlined by the bundler (dist) and read by Vite (sources): `advx --version` needs no file at run time.
import { version } from '../../package.json';
import { autoAttack, type AutoAttackVersion } from '../auto-attack.js';
import { evaluate } from '../evaluate.js';
import { percent, summaryTable } from '../internal/report-data.js';
import { checkResultRecord } from '../internal/check-records.js';
import { reachWarnings } from '../internal/reach-warnings.js';
import { resolveAttacks } from '../internal/resolve-attacks.js';
import { selfTests } from '../internal/self-tests.js';
import { mergeResults } from '../merge-results.js';
import type { AttackSpec, EvaluationProgress, EvaluationResult } from '../types.js';
import { openDataset, type DataSource } from './data/index.js';
import { fileStateStore } from './file-state-store.js';
import { lockOutFolder } from './out/lock-out-folder.js';
import { prepareOutFolder } from './out/prepare-out-folder.js';
import { inspectBeforeAttacks, inspectionSummary, loadUserModel, parseModelFlags, type ModelFlags } from './model/index.js';
import { selectBackend, type BackendName } from './select-backend.js';
import {
  refuseInterruptedWorkers,
  runWorkers,
  threadsPerWorker,
  withoutOptions,
  PROGRESS_PREFIX,
  WORKER_INFO_FILE,
  WORKERS_DIR,
  type WorkerInfo,
} from './workers.js';
import { writeReport } from './write-report.js';

/**
 * A text output of {@link runCli}.
 *
 * @public
 */
export interface TextSink {
  /** Writes text. */
  write(text: string): unknown;
  /** Whether it is a terminal (progress bar instead of plain lines). */
  readonly isTTY?: boolean;
}

/**
 * Where {@link runCli} writes: `stdout` for results, `stderr` for progress and errors.
 *
 * @public
 */
export interface CliIo {
  /** Results and tables. */
  readonly stdout: TextSink;
  /** Progress, warnings and errors. */
  readonly stderr: TextSink;
  /** Aborts a running evaluation (default: Ctrl-C / SIGINT). */
  readonly signal?: AbortSignal;
}

/** Default attack list of `advx eval`: the white-box family at the quick start's settings. */
const DEFAULT_ATTACKS = 'fgsm,pgd:steps=40:stepSize=0.01,apgd-ce:steps=100';

/** `pgd:steps=40:restarts=2,fgsm` → specs, each value read by its option's declared type; `autoattack` (or `autoattack:version=plus|rand`) → the AutoAttack preset. */
export function parseAttacks(list: string): { specs: AttackSpec[]; sequential: boolean; omitted: readonly string[]; version?: AutoAttackVersion } {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new AdvxError('INVALID_OPTION', '--attacks: give at least one attack, e.g. --attacks pgd:steps=40,apgd-ce.');
  const auto = names.length === 1 ? /^autoattack(?::version=([a-z]+))?$/i.exec(names[0] as string) : null;
  if (auto) {
    const version = (auto[1] ?? 'standard') as AutoAttackVersion;
    if (version !== 'standard' && version !== 'plus' && version !== 'rand')
      throw new AdvxError('INVALID_OPTION', `--attacks autoattack:version=${version}: the versions are standard, plus and rand.`);
    return { specs: [], sequential: true, omitted: [], version };
  }
  const specs = names.map((entry) => {
    const [name, ...pairs] = entry.split(':') as [string, ...string[]];
    // Values are read by each option's declared type (UNKNOWN_NAME for an attack that is not registered).
    return { name, options: parseOptionStrings(name, getAttack(name).schema, pairs) };
  });
  return { specs, sequential: false, omitted: [] };
}

/**
 * Checks parsed `--attacks` in `norm` before any work: unknown attacks, unknown options and
 * unsupported norms throw (`UNKNOWN_NAME`, `INVALID_OPTION`, `UNSUPPORTED_NORM`). Returns the AutoAttack
 * preset for `autoattack`, else undefined.
 *
 * @example
 * ```ts
 * checkAttacks(parseAttacks('fgsm,pgd:steps=40'), 'linf'); // undefined
 * checkAttacks(parseAttacks('pgd:stepz=40'), 'linf'); // throws INVALID_OPTION (unknown option 'stepz')
 * ```
 * @internal
 */
export function checkAttacks(parsed: ReturnType<typeof parseAttacks>, norm: NormName): ReturnType<typeof autoAttack> | undefined {
  const preset = parsed.sequential ? autoAttack({ norm: norm as 'linf' | 'l2', ...(parsed.version ? { version: parsed.version } : {}) }) : undefined;
  for (const spec of parsed.specs) {
    const factory = getAttack(spec.name);
    if (!factory.meta.norms.includes(norm)) {
      const norms = factory.meta.norms;
      throw new AdvxError(
        'UNSUPPORTED_NORM',
        `${spec.name} is defined for ${norms.join(', ')}, not '${norm}': run it with --norm ${norms[0]} (and --eps in that norm), or pick another attack.`,
        { attack: spec.name, norm },
      );
    }
    factory({ ...spec.options, norm });
  }
  return preset;
}

/** `0.1,0.2,8/255` → numbers. */
export function parseEpsilons(list: string): number[] {
  return list.split(',').map((raw) => {
    const s = raw.trim();
    const frac = /^([0-9.]+)\/([0-9.]+)$/.exec(s);
    const v = frac ? Number(frac[1]) / Number(frac[2]) : s === '' ? NaN : Number(s);
    if (!Number.isFinite(v) || v <= 0) throw new AdvxError('INVALID_EPSILON', `--eps: '${s}' is not a number > 0 (e.g. --eps 0.1,0.2,0.3 or 8/255).`);
    return v;
  });
}

function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const k = Number(m?.[1]);
  const n = Number(m?.[2]);
  if (!m || n < 1 || k < 1 || k > n) throw new AdvxError('INVALID_OPTION', `--shard: '${s}' is not k/n with 1 ≤ k ≤ n (e.g. --shard 2/4).`);
  return { index: k - 1, count: n };
}

function positiveInt(name: string, s: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 1) throw new AdvxError('INVALID_OPTION', `${name}: '${s}' is not a positive integer.`);
  return v;
}

/** Progress: a bar with ETA on a terminal, plain lines otherwise. */
function progressReporter(io: CliIo): { update(p: EvaluationProgress): void; stop(): void } {
  if (process.env.ADVX_PROGRESS === 'json') {
    // A worker of `--workers`: machine-readable lines for the parent, at most one per 1 % or step change.
    let last = '';
    return {
      update(p) {
        const key = `${p.phase}|${p.attack}|${p.chunk}|${Math.floor(p.fraction * 100)}`;
        if (key === last) return;
        last = key;
        io.stderr.write(`${PROGRESS_PREFIX}${JSON.stringify(p)}\n`);
      },
      stop: () => undefined,
    };
  }
  if (io.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WritableStream,
        format: '{bar} {percentage}% | ETA {eta_formatted} | {phase} {attack} chunk {chunk}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const payload = { phase: p.phase, attack: p.attack, chunk: `${Math.min(p.chunk + 1, p.chunks)}/${p.chunks}` };
        if (!started) {
          bar.start(1000, 0, payload);
          started = true;
        }
        bar.update(p.phase === 'diagnostics' ? 0 : Math.round(p.fraction * 1000), payload);
      },
      stop: () => started && bar.stop(),
    };
  }
  const t0 = Date.now();
  let lastKey = '';
  let lastTenth = -1;
  return {
    update(p) {
      const tenth = Math.floor(p.fraction * 10);
      const key = `${p.phase}|${p.attack}|${p.chunk}`;
      if (key === lastKey && tenth === lastTenth) return;
      lastKey = key;
      lastTenth = tenth;
      const elapsed = (Date.now() - t0) / 1000;
      const eta = p.fraction > 0 && p.phase === 'attacks' ? ` ETA ${Math.round((elapsed * (1 - p.fraction)) / p.fraction)} s` : '';
      const what = p.phase === 'diagnostics' ? 'diagnostics' : `${p.attack} chunk ${Math.min(p.chunk + 1, p.chunks)}/${p.chunks}`;
      io.stderr.write(`[advx] ${(100 * p.fraction).toFixed(0).padStart(3)} % ${what} (${elapsed.toFixed(0)} s${eta})\n`);
    },
    stop: () => undefined,
  };
}

function textTable(r: EvaluationResult): string {
  const { header, rows } = summaryTable(r);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

function summaryText(r: EvaluationResult, backend: string | undefined): string {
  const skipped = r.config.data?.skipped;
  const lines = [
    ...(backend ? [`backend: ${backend}, tfjs ${tf.version_core}`] : []),
    ...(typeof skipped === 'number' && skipped > 0
      ? [`skipped ${skipped} unreadable files (--skip-bad; listed in results.json config.data.skippedFiles)`]
      : []),
    `${r.config.model.id ?? 'model'}: clean accuracy ${percent(r.cleanAccuracy)} on ${r.n} ${r.config.dataset ?? ''} samples`.replace(/ {2}/g, ' '),
    `robust accuracy (${r.config.norm}, ${r.config.mode})`,
    textTable(r),
  ];
  if (r.warnings.length) lines.push('', 'gradient-masking warnings:', ...r.warnings.map((w) => `  ${w.code}: ${w.message}`));
  else lines.push('', 'no gradient-masking diagnostic fired');
  return lines.join('\n');
}

interface EvalFlags extends ModelFlags {
  model: string;
  data?: string;
  attacks: string;
  eps: string;
  norm: string;
  n?: string;
  sample: string;
  skipBad?: boolean;
  resize?: boolean;
  convertChannels?: boolean;
  batchSize: string;
  backend: string;
  threads?: string;
  seed: string;
  shard?: string;
  workers?: string;
  resume?: boolean;
  out: string;
  json?: boolean;
  examples: string;
  diagnostics: boolean;
  selfTest?: boolean | string;
  maxPasses?: string;
}

async function runEval(flags: EvalFlags, io: CliIo, verbose: boolean, argv: readonly string[]): Promise<number> {
  // Every flag is checked before the backend, the model or the data is touched.
  const parsed = parseAttacks(flags.attacks);
  const epsilons = parseEpsilons(flags.eps);
  const n = flags.n !== undefined ? positiveInt('--n', flags.n) : undefined;
  if (flags.sample !== 'first' && flags.sample !== 'stratified')
    throw new AdvxError('INVALID_OPTION', `--sample: '${flags.sample}' is not first or stratified.`);
  const batchSize = positiveInt('--batch-size', flags.batchSize);
  const seed = Number(flags.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new AdvxError('INVALID_OPTION', `--seed: '${flags.seed}' is not a non-negative integer.`);
  const examples = Number(flags.examples);
  if (!Number.isInteger(examples) || examples < 0) throw new AdvxError('INVALID_OPTION', `--examples: '${flags.examples}' is not a non-negative integer.`);
  const maxPasses = flags.maxPasses !== undefined ? positiveInt('--max-passes', flags.maxPasses) : undefined;
  const shard = flags.shard !== undefined ? parseShard(flags.shard) : undefined;
  const threads = flags.threads !== undefined ? positiveInt('--threads', flags.threads) : undefined;
  const workers = flags.workers !== undefined ? positiveInt('--workers', flags.workers) : 1;
  if (workers > 1 && shard !== undefined) {
    throw new AdvxError(
      'INVALID_OPTION',
      `--workers ${workers} with --shard ${flags.shard}: a shard runs in one process; drop --workers, or drop --shard to split the whole evaluation over the workers.`,
    );
  }
  const norm = flags.norm as NormName;
  const selfTestSamples =
    flags.selfTest === undefined || flags.selfTest === false ? undefined : flags.selfTest === true ? 20 : positiveInt('--self-test', flags.selfTest);
  if (selfTestSamples !== undefined && norm !== 'linf' && norm !== 'l2') {
    throw new AdvxError('UNSUPPORTED_NORM', `--self-test: the binarization test covers linf and l2, not ${norm}; drop --self-test for this norm.`);
  }
  const modelOptions = await parseModelFlags(flags);
  // Unknown attacks, unknown options and unsupported norms fail here, before any work.
  const preset = checkAttacks(parsed, norm);
  // --out is created and locked before any work; the lock goes on every exit path.
  const out = await prepareOutFolder(flags.out);
  const lock = await lockOutFolder(flags.out, 'advx eval');
  try {
    if (lock.tookOver) io.stderr.write(`[advx] took over the stale lock of pid ${lock.tookOver.pid} (no longer running) in ${flags.out}\n`);
    await refuseInterruptedState(flags.out, flags.resume === true);
    await refuseInterruptedWorkers(flags.out, flags.resume === true);
    if (workers > 1) return await runEvalWorkers(flags, io, argv, workers, threads);
    return await runEvalLocked(flags, io, verbose, {
      parsed,
      epsilons,
      n,
      sample: flags.sample,
      batchSize,
      seed,
      examples,
      shard,
      threads,
      norm,
      modelOptions,
      preset,
      selfTestSamples,
      maxPasses,
    });
  } finally {
    await lock.release();
    // A folder this run created and left empty (it failed before writing anything) goes too.
    if (out.created) await fs.rmdir(flags.out).catch(() => undefined);
  }
}

/**
 * Without `--resume`, an `--out` that holds an interrupted run's `state.json` is refused rather than
 * its state deleted: the finished chunks may have cost hours.
 */
async function refuseInterruptedState(out: string, resume: boolean): Promise<void> {
  if (resume) return;
  const file = path.join(out, 'state.json');
  const exists = await fs.stat(file).then(
    () => true,
    () => false,
  );
  if (exists) {
    throw new AdvxError(
      'INVALID_OPTION',
      `--out ${out} holds the state of an interrupted run (${file}): rerun with --resume to continue it, or delete ${file} (or choose another --out) to start afresh.`,
      { state: file },
    );
  }
}

/** The flags of `advx eval` once checked. */
interface CheckedEvalFlags {
  readonly parsed: ReturnType<typeof parseAttacks>;
  readonly epsilons: number[];
  readonly n: number | undefined;
  readonly sample: 'first' | 'stratified';
  readonly batchSize: number;
  readonly seed: number;
  readonly examples: number;
  readonly shard: { index: number; count: number } | undefined;
  readonly threads: number | undefined;
  readonly norm: NormName;
  readonly modelOptions: Awaited<ReturnType<typeof parseModelFlags>>;
  readonly preset: ReturnType<typeof autoAttack> | undefined;
  /** Samples of the attack self-test (`--self-test`), when asked. */
  readonly selfTestSamples: number | undefined;
  /** The per-sample pass budget (`--max-passes`), when given. */
  readonly maxPasses: number | undefined;
}

/** The work of `advx eval` once its flags are checked and its `--out` is locked. */
async function runEvalLocked(flags: EvalFlags, io: CliIo, verbose: boolean, checked: CheckedEvalFlags): Promise<number> {
  const { parsed, epsilons, n, sample, batchSize, seed, examples, shard, threads, norm, modelOptions, preset, selfTestSamples, maxPasses } = checked;
  const backend = await selectBackend(flags.backend as BackendName, threads);
  const target = await loadUserModel(flags.model, modelOptions);
  const dataSpec = flags.data ?? target.dataset ?? 'mnist';
  const shape = target.model.inputShape;
  let dataset: DataSource;
  try {
    const zoo = dataSpec in DATASETS;
    if (shape.length !== 3 && !zoo)
      throw new AdvxError('INVALID_SHAPE', `--data needs a model with [height, width, channels] inputs; this one takes [${shape.join(', ')}].`);
    dataset = await openDataset(dataSpec, {
      // A zoo dataset keeps its 28×28×1 for a model of another rank: evaluate() then names both shapes.
      inputShape: shape.length === 3 ? (shape as unknown as [number, number, number]) : [28, 28, 1],
      bounds: target.model.bounds,
      numClasses: target.model.numClasses,
      ...(target.classNames !== undefined ? { modelClassNames: target.classNames } : {}),
      // The zoo's datasets keep the quick start's default of 300 samples; other data is used whole.
      ...(n !== undefined || zoo ? { n: n ?? 300 } : {}),
      sample,
      skipBad: flags.skipBad === true,
      resize: flags.resize === true,
      convertChannels: flags.convertChannels === true,
    });
  } catch (e) {
    target.dispose();
    throw e;
  }
  if (dataset.skipped.length > 0)
    io.stderr.write(`[advx] skipped ${dataset.skipped.length} unreadable files (first: ${dataset.skipped[0]?.file}: ${dataset.skipped[0]?.reason})\n`);
  // The model is inspected on the first sample before any attack (one forward pass, one input gradient).
  const whiteBox = preset
    ? ['autoattack']
    : parsed.specs.filter((spec) => listAttacks().find((a) => a.name === spec.name)?.threat === 'white-box').map((spec) => spec.name);
  let inspection: Awaited<ReturnType<typeof inspectBeforeAttacks>>;
  try {
    const first = await dataset.read(0, 1);
    try {
      const sampleShape = first.x.shape.slice(1);
      if (sampleShape.length !== shape.length || sampleShape.some((d, i) => d !== shape[i])) {
        throw new AdvxError(
          'INVALID_SHAPE',
          `--data ${dataSpec}: its samples have shape [${sampleShape.join(', ')}] but the model takes [${shape.join(', ')}]; give data of the model's input shape (image data needs a model with [height, width, channels] inputs).`,
        );
      }
      inspection = await inspectBeforeAttacks(target.model, target.description, first.x, whiteBox);
    } finally {
      tf.dispose([first.x, first.labels]);
    }
  } catch (e) {
    dataset.dispose();
    target.dispose();
    throw e;
  }
  io.stderr.write(`[advx] ${inspectionSummary(target.description, inspection)}\n`);
  // A configuration that cannot reach ε is said before the run too, not only in the report at its end.
  if (flags.diagnostics) {
    const attacks = resolveAttacks(preset ? preset.attacks : parsed.specs, norm).map((a) => a.info);
    for (const w of reachWarnings({ attacks, epsilons, model: target.model })) io.stderr.write(`[advx] warning: ${w.code}: ${w.message}\n`);
  }
  if (inspection.gradientProblem !== null) io.stderr.write(`[advx] warning: ${inspection.gradientProblem}\n`);
  const state = fileStateStore(path.join(flags.out, 'state.json'));
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  if (io.signal) io.signal.addEventListener('abort', onSigint);
  else process.once('SIGINT', onSigint);
  if (io.signal?.aborted) controller.abort();
  const progress = progressReporter(io);
  if (preset) {
    const omitted = preset.omitted.length ? ` (left out: ${preset.omitted.join('; ')})` : '';
    io.stderr.write(`[advx] AutoAttack, ${preset.ensemble.version} version: ${preset.attacks.map((a) => a.label).join(' → ')}${omitted}\n`);
  }
  try {
    const evaluated = await evaluate({
      model: target.model,
      data: dataset,
      attacks: preset ? preset.attacks : parsed.specs,
      epsilons,
      norm,
      batchSize,
      seed,
      mode: preset ? 'sequential' : 'independent',
      ...(preset ? { ensemble: preset.ensemble } : {}),
      ...(shard ? { shard } : {}),
      ...(maxPasses !== undefined ? { maxPasses } : {}),
      state,
      signal: controller.signal,
      onProgress: (p) => progress.update(p),
      diagnostics: flags.diagnostics,
      examples,
      modelId: target.id,
    });
    progress.stop();
    // The input handling and the inspection go into results.json and the reports.
    let stored: EvaluationResult = {
      ...evaluated,
      config: { ...evaluated.config, model: { ...evaluated.config.model, input: { ...target.description, inspection } } },
    };
    if (selfTestSamples !== undefined) {
      const epsilon = Math.max(...epsilons);
      const first = await dataset.read(0, Math.min(selfTestSamples, dataset.count));
      try {
        io.stderr.write(
          `[advx] self-test (binarization, Zimmermann et al. 2022): every attack at ε ${epsilon} on the first ${first.labels.shape[0]} samples, ${target.features ? 'penultimate-layer' : 'logit'} features\n`,
        );
        const tested = await selfTests({
          model: target.model,
          ...(target.features ? { features: target.features } : {}),
          data: first,
          attacks: preset ? preset.attacks : parsed.specs,
          epsilon,
          norm,
          seed,
          signal: controller.signal,
          onAttack: (label, rate, valid) => io.stderr.write(`[advx] self-test: ${label} passes ${(100 * rate).toFixed(0)} % of ${valid} valid tests\n`),
        });
        stored = { ...stored, selfTest: tested.record, warnings: [...stored.warnings, ...tested.warnings] };
      } finally {
        tf.dispose([first.x, first.labels]);
      }
    }
    const classNames = dataset.classNames ?? target.classNames;
    const title = `advx robustness evaluation: ${target.id}`;
    const files = await writeReport(stored, flags.out, { ...(classNames !== undefined ? { classNames } : {}), title });
    if (process.env.ADVX_WORKER_INFO === '1') {
      const info: WorkerInfo = { ...(classNames !== undefined ? { classNames } : {}), title, backend };
      await fs.writeFile(path.join(flags.out, WORKER_INFO_FILE), JSON.stringify(info));
    }
    // The state goes only once every report is on disk: a failed write keeps the run resumable.
    await state.remove();
    io.stdout.write(
      flags.json
        ? `${JSON.stringify(stored)}\n`
        : `${summaryText(stored, backend)}\n\nwrote ${files.json}, ${files.markdown}, ${files.html} and ${files.images.length} images\n`,
    );
    return 0;
  } catch (e) {
    progress.stop();
    if (isAdvxError(e, 'ABORTED')) {
      const stateFile = path.join(flags.out, 'state.json');
      const saved = await fs.stat(stateFile).then(
        () => true,
        () => false,
      );
      io.stderr.write(
        saved
          ? `advx: interrupted: ${e.message.replace(/^\[ABORTED\] /, '')} State: ${stateFile}; rerun with --resume.\n`
          : 'advx: interrupted before the first chunk was done: nothing was saved (no state file was written); ' +
              'rerun the same command without --resume to start again.\n',
      );
      return 130;
    }
    throw e;
  } finally {
    if (!io.signal) process.removeListener('SIGINT', onSigint);
    dataset.dispose();
    target.dispose();
    if (verbose) io.stderr.write(`[advx] tensors alive: ${tf.memory().numTensors}\n`);
  }
}

/**
 * `advx eval --workers N`: the evaluation as N worker processes, one shard each, merged into `--out`
 * (flags already checked, `--out` locked).
 */
async function runEvalWorkers(flags: EvalFlags, io: CliIo, argv: readonly string[], workers: number, threads: number | undefined): Promise<number> {
  const given = argv.slice(argv.indexOf('eval') + 1);
  // The self-test runs once, in the first worker (mergeResults keeps its record).
  const shared = withoutOptions(given, ['--workers', '--shard', '--out', '--threads'], ['--resume', '--json', '--verbose'], ['--self-test']);
  const selfTest =
    flags.selfTest !== undefined && flags.selfTest !== false ? ['--self-test', ...(typeof flags.selfTest === 'string' ? [flags.selfTest] : [])] : [];
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  if (io.signal) io.signal.addEventListener('abort', onSigint);
  else process.once('SIGINT', onSigint);
  if (io.signal?.aborted) controller.abort();
  const progress = progressReporter(io);
  const perWorker = threadsPerWorker(workers, threads);
  io.stderr.write(
    `[advx] ${workers} workers, ${perWorker} wasm thread${perWorker > 1 ? 's' : ''} each; their shards go to ${path.join(flags.out, WORKERS_DIR)}\n`,
  );
  try {
    const outcome = await runWorkers({
      args: shared,
      firstArgs: selfTest,
      count: workers,
      threads: perWorker,
      out: flags.out,
      resume: flags.resume === true,
      maxRestarts: 2,
      onProgress: (p) => progress.update(p),
      log: (line) => io.stderr.write(`${line}\n`),
      signal: controller.signal,
    });
    progress.stop();
    if (outcome.kind === 'interrupted') {
      io.stderr.write(`advx: interrupted: each worker kept the state of its finished chunks in ${path.join(flags.out, WORKERS_DIR)}; rerun with --resume.\n`);
      return 130;
    }
    const { result, info } = outcome;
    const files = await writeReport(result, flags.out, { ...(info.classNames !== undefined ? { classNames: [...info.classNames] } : {}), title: info.title });
    // The shards go once the merged report is on disk.
    await fs.rm(path.join(flags.out, WORKERS_DIR), { recursive: true, force: true });
    io.stdout.write(
      flags.json
        ? `${JSON.stringify(result)}\n`
        : `${summaryText(result, `${info.backend} (${workers} workers)`)}\n\nwrote ${files.json}, ${files.markdown}, ${files.html} and ${files.images.length} images\n`,
    );
    return 0;
  } finally {
    progress.stop();
    if (!io.signal) process.removeListener('SIGINT', onSigint);
  }
}

/** The option table of a registered factory that declares a schema (attacks always do). */
function optionsOf(factory: unknown): OptionRow[] | undefined {
  const schema = (factory as { schema?: OptionSchema } | undefined)?.schema;
  return schema === undefined ? undefined : describeOptions(schema);
}

function optionLines(rows: readonly OptionRow[]): string[] {
  const w = Math.max(...rows.map((r) => r.name.length));
  return rows.map((r) => `      ${r.name.padEnd(w)}  ${r.doc} (${r.type}; default ${r.default}${r.cli ? '' : '; not on a command line'})`);
}

async function runList(json: boolean, options: boolean | string, io: CliIo): Promise<number> {
  for (const pkg of ['@advx/defenses/register-all', '@advx/detectors/register-all']) {
    // Optional plugins: listed when installed.
    await import(/* @vite-ignore */ pkg).catch(() => undefined);
  }
  const only = typeof options === 'string' ? options : undefined;
  const withOptions = <M extends { name: string }>(metas: M[], get: (name: string) => unknown) =>
    metas
      .filter((m) => only === undefined || m.name === only)
      .map((m) => {
        const rows = options === false ? undefined : optionsOf(get(m.name));
        return rows === undefined ? m : { ...m, options: rows };
      });
  const attacks = withOptions(listAttacks(), getAttack);
  const defenses = withOptions(listDefenses(), getDefense);
  const detectors = withOptions(listDetectors(), getDetector);
  if (only !== undefined && attacks.length + defenses.length + detectors.length === 0) {
    getAttack(only); // UNKNOWN_NAME, listing the registered attacks
  }
  if (json) {
    io.stdout.write(`${JSON.stringify({ attacks, defenses, detectors }, null, 1)}\n`);
    return 0;
  }
  const lines: string[] = [];
  if (only === undefined || attacks.length > 0) lines.push(`attacks (${attacks.length}):`);
  for (const a of attacks) {
    lines.push(
      `  ${a.name.padEnd(20)} ${a.kind.padEnd(14)} ${a.threat.padEnd(10)} norms ${a.norms.join('/').padEnd(12)} goals ${a.goals.join('/')}${a.scope === 'dataset' ? '  dataset-level (one perturbation fitted on all samples)' : ''}`,
    );
    if (a.paper) lines.push(`  ${''.padEnd(20)} ${a.paper}`);
    if ('options' in a) lines.push(...optionLines(a.options as OptionRow[]));
  }
  const describe = (meta: { name: string; options?: OptionRow[] }) => {
    const { name, options: rows, ...rest } = meta as { name: string; options?: OptionRow[] } & Record<string, unknown>;
    const fields = Object.entries(rest).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join('/') : String(v)}`);
    return [`  ${name.padEnd(20)} ${fields.join('; ')}`, ...(rows ? optionLines(rows) : [])];
  };
  if (only === undefined || defenses.length > 0) lines.push(`defenses (${defenses.length}):`, ...defenses.flatMap(describe));
  if (only === undefined || detectors.length > 0) lines.push(`detectors (${detectors.length}):`, ...detectors.flatMap(describe));
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function runMerge(files: string[], out: string, json: boolean, io: CliIo): Promise<number> {
  const results: EvaluationResult[] = [];
  for (const file of files) {
    try {
      results.push(JSON.parse(await fs.readFile(file, 'utf8')) as EvaluationResult);
    } catch (e) {
      throw new AdvxError('INVALID_OPTION', `cannot read the results file ${file}: ${(e as Error).message}`);
    }
    checkResultRecord(results[results.length - 1], `the results file ${file}`);
  }
  const merged = mergeResults(results);
  const dataset = merged.config.dataset as DatasetName | undefined;
  await prepareOutFolder(out);
  const lock = await lockOutFolder(out, 'advx merge');
  let files2: Awaited<ReturnType<typeof writeReport>>;
  try {
    files2 = await writeReport(merged, out, dataset && dataset in DATASETS ? { classNames: DATASETS[dataset].classNames } : {});
  } finally {
    await lock.release();
  }
  io.stdout.write(json ? `${JSON.stringify(merged)}\n` : `${summaryText(merged, undefined)}\n\nwrote ${files2.json}, ${files2.markdown}, ${files2.html}\n`);
  return 0;
}

/**
 * Runs the `advx` command line with `argv` (without `node` and the script):
 *
 * - `advx eval` — evaluates a model (default the zoo's `mnist-cnn` on its shipped MNIST evaluation
 *   set, first `--n 300` images) under `--attacks` (default `fgsm,pgd:steps=40:stepSize=0.01,apgd-ce:steps=100` (the quick start's settings);
 *   `name:key=value` options; `autoattack` for the AutoAttack ensemble) at `--eps` (default
 *   `0.1,0.2,0.3`) in `--norm` (`linf`), on `--backend` (`wasm`, else `cpu`, `webgpu` or `tensorflow`), with
 *   `--seed`, `--batch-size`, `--shard k/n`, `--workers N` (N worker processes of the built command, one
 *   shard each, merged into `--out`; a crashed worker is restarted on its shard), `--resume`, `--examples`, `--bounds` (model files),
 *   `--data` (an image folder with one sub-folder per class, a `path,label` CSV/JSON list, an IDX or
 *   `.npy` pair, or a zoo dataset; read chunk by chunk), `--sample first|stratified`, `--skip-bad`,
 *   `--resize`, `--convert-channels`,
 *   `--no-diagnostics`, and writes `results.json`, `report.md`, `report.html` and `images/*.png`
 *   into `--out` (default `advx-report`); `--json` prints the result as JSON. `--out` is created
 *   and locked (`<out>/.advx.lock`: pid, host, start time) before any work: a live run's folder is
 *   refused with its pid, a stale lock (its pid no longer runs) is taken over, another host's lock is
 *   refused; the lock goes on every exit. Without `--resume`, an `--out` holding an interrupted run's
 *   `state.json` is refused (its state is never deleted silently).
 * - `advx list` — registered attacks, defenses and detectors with their metadata; `--options [attack]`
 *   adds the options of every method that declares them (or of the one named), from its schema.
 * - `advx merge <results.json...> --out DIR` — combines shard results (`--out` checked and locked as for eval).
 * - `advx --version` (`-V`) — prints the version of `@advx/eval`.
 *
 * Errors print one line (`--verbose` adds the stack) and give a non-zero exit code (1; 2 for
 * usage errors; 130 when interrupted, with the state of the finished chunks kept for `--resume`,
 * or a note that nothing was saved when no chunk was finished).
 *
 * @param argv - the arguments.
 * @param io - output streams (default the process's) and an optional abort signal.
 * @returns the exit code.
 *
 * @example
 * ```ts
 * const code = await runCli(['eval', '--n', '100', '--out', 'report']);
 * ```
 * @public
 */
export async function runCli(argv: readonly string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const verbose = argv.includes('--verbose');
  let code = 0;
  const program = new Command('advx')
    .description('adversarial robustness evaluation for TensorFlow.js models')
    .version(version, '-V, --version', 'print the version of @advx/eval')
    .option('--verbose', 'print stack traces of errors (anywhere on the line)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s), outputError: (s, write) => write(`advx: ${s}`) });
  program
    .command('eval')
    .description('evaluate a model under a grid of attacks × epsilons and write reports')
    .option(
      '--model <id|path>',
      `zoo model (${ZOO_MODEL_IDS.join(', ')}), a tfjs layers or graph model.json, or a Teachable Machine export folder`,
      'mnist-cnn',
    )
    .option(
      '--data <folder|list|pair|name>',
      `an image folder (one sub-folder per class, PNG/JPEG), a list.csv/list.json of path,label, images.idx,labels.idx, x.npy,y.npy, or ${Object.keys(DATASETS).join(', ')}; default: the zoo model's dataset`,
    )
    .option(
      '--attacks <list>',
      'comma-separated attacks with name:key=value options, or autoattack (autoattack:version=plus or rand for those versions)',
      DEFAULT_ATTACKS,
    )
    .option('--eps <list>', 'comma-separated epsilons (fractions such as 8/255 allowed)', '0.1,0.2,0.3')
    .addOption(new Option('--norm <norm>', 'perturbation norm').choices(['linf', 'l2', 'l1', 'l0']).default('linf'))
    .option('--n <count>', 'number of samples (default: 300 of a zoo dataset, all of other data)')
    .addOption(
      new Option('--sample <how>', 'which --n samples: the first ones, or stratified (round-robin over the classes)')
        .choices(['first', 'stratified'])
        .default('first'),
    )
    .option('--skip-bad', 'skip and count unreadable or damaged image files instead of stopping (each image is decoded once before the run)')
    .option('--resize', 'resize images of another size to the model input (bilinear)')
    .option('--convert-channels', 'convert grey images for a colour model and colour images for a grey model (BT.601 luma)')
    .option('--batch-size <size>', 'samples per chunk (batching, checkpoints, shards)', '100')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(['cpu', 'wasm', 'webgpu', 'tensorflow']).default('wasm'))
    .option('--threads <count>', 'wasm threads (default min(2, cores))')
    .option('--seed <seed>', 'base seed', '0')
    .option('--shard <k/n>', 'evaluate slice k of n (1-based); combine with advx merge')
    .option('--workers <count>', 'run the evaluation as <count> worker processes, one shard each, merged into --out (default 1)')
    .option('--resume', 'continue an interrupted run from <out>/state.json')
    .option('--out <dir>', 'output folder', 'advx-report')
    .option('--json', 'print the result as JSON')
    .option('--examples <count>', 'example images per attack and ε in the report', '4')
    .option('--bounds <lo,hi>', 'input bounds of a model.json; image pixels 0..255 map onto them (default 0,1)')
    .addOption(
      new Option('--output <kind>', 'what a graph model (or --output-node) returns (default: read before a final Softmax/Sigmoid as logits)').choices([
        'logits',
        'probabilities',
      ]),
    )
    .option('--output-node <name>', 'graph models: the node holding the class scores (e.g. the input of the final Softmax)')
    .option('--input-size <HxW>', "the model's input height x width, where its signature leaves it unknown")
    .addOption(new Option('--channels <n>', "the model's input channels, where its signature leaves them unknown").choices(['1', '3']))
    .option('--mean <m|r,g,b>', 'normalization (x - mean) / std inside the model (with --std; Teachable Machine default 127/255)')
    .option('--std <s|r,g,b>', 'see --mean')
    .option('--labels <file>', 'class names in output order: one per line or a JSON array (default: Teachable Machine metadata, zoo dataset)')
    .option('--no-diagnostics', 'skip the gradient-masking diagnostics')
    .option(
      '--max-passes <count>',
      'per-sample budget of white-box passes (forward + backward) per ε for every white-box attack, as in AttackBench (default: none)',
    )
    .option(
      '--self-test [samples]',
      'binarization self-test (Zimmermann et al. 2022) of every attack at the largest ε on the first samples (default 20): pass rates in the reports, a warning below 95 %',
    )
    .action(async (flags: EvalFlags) => {
      code = await runEval(flags, io, verbose, argv);
    });
  program
    .command('list')
    .description('list the registered attacks, defenses and detectors')
    .option('--json', 'print JSON')
    .option(
      '--options [name]',
      'also list the options (name, doc, values, default) of every attack, defense and detector that declares them, or of the one named',
    )
    .action(async (flags: { json?: boolean; options?: boolean | string }) => {
      code = await runList(flags.json === true, flags.options ?? false, io);
    });
  program
    .command('merge')
    .description('merge the results.json files of the shards of one evaluation')
    .argument('<files...>', 'results.json of every shard')
    .requiredOption('--out <dir>', 'output folder of the merged reports')
    .option('--json', 'print the merged result as JSON')
    .action(async (files: string[], flags: { out: string; json?: boolean }) => {
      code = await runMerge(files, flags.out, flags.json === true, io);
    });
  try {
    // --verbose is accepted anywhere on the line.
    await program.parseAsync(
      argv.filter((a) => a !== '--verbose'),
      { from: 'user' },
    );
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    const message = e instanceof Error ? e.message : String(e);
    io.stderr.write(`advx: error: ${message}\n`);
    if (verbose && e instanceof Error && e.stack) io.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
