import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  checkInteger,
  deriveSeed,
  getNorm,
  isAdvxError,
  toQueryModel,
  validateEpsilons,
  validateGoal,
  validateInput,
  type AttackResult,
  type Model,
  type NormGeometry,
  type NormName,
} from '@advx/core';

import { fingerprint } from './internal/fingerprint.js';
import { probeWarnings, resolveDiagnostics } from './internal/masking-checks.js';
import { resolveAttacks, type ResolvedAttack } from './internal/resolve-attacks.js';
import { checkStateChunks } from './internal/check-records.js';
import { buildResult, sumPasses } from './internal/summarize.js';
import {
  RESULT_SCHEMA,
  type ChunkRecord,
  type EnsembleInfo,
  type EvaluateOptions,
  type EvaluationConfig,
  type EvaluationData,
  type EvaluationResult,
  type EvaluationSource,
  type EvaluationState,
  type ExampleRecord,
  type SampleAttackRecord,
} from './types.js';

const DEFAULT_BATCH_SIZE = 128;
const MODES = ['independent', 'sequential'] as const;

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Contiguous chunk range `[first, last)` of shard `index` of `count` over `chunks` chunks. */
function shardChunks(chunks: number, shard: { index: number; count: number } | undefined): [number, number] {
  if (shard === undefined) return [0, chunks];
  return [Math.floor((shard.index * chunks) / shard.count), Math.floor(((shard.index + 1) * chunks) / shard.count)];
}

/** A copy of the ensemble description, checked (it goes into results.json). */
function checkEnsemble(e: EvaluateOptions['ensemble']): EnsembleInfo | undefined {
  if (e === undefined) return undefined;
  if (
    e === null ||
    typeof e !== 'object' ||
    typeof e.name !== 'string' ||
    typeof e.version !== 'string' ||
    !Array.isArray(e.omitted) ||
    !e.omitted.every((o) => typeof o === 'string')
  ) {
    throw new AdvxError(
      'INVALID_OPTION',
      "ensemble must be { name, version, omitted: string[] } (autoAttack()'s preset sets it), e.g. { name: 'AutoAttack', version: 'standard', omitted: [] }.",
    );
  }
  return { name: e.name, version: e.version, omitted: [...e.omitted] };
}

function checkShard(shard: EvaluateOptions['shard']): { index: number; count: number } | undefined {
  if (shard === undefined) return undefined;
  if (shard === null || typeof shard !== 'object') throw new AdvxError('INVALID_OPTION', 'shard must be { index, count }, e.g. { index: 0, count: 4 }.');
  const count = checkInteger('shard.count', shard.count, 1);
  const index = checkInteger('shard.index', shard.index, 0, count - 1);
  return { index, count };
}

interface Softmaxed {
  readonly pred: Int32Array;
  readonly conf: Float32Array;
}

async function classify(model: Model, x: tf.Tensor): Promise<Softmaxed> {
  const [p, c] = tf.tidy(() => {
    const probs = tf.softmax(model.logits(x));
    return [tf.cast(tf.argMax(probs, 1), 'int32'), tf.max(probs, 1)];
  });
  const pred = (await p.data()) as Int32Array;
  const conf = (await c.data()) as Float32Array;
  tf.dispose([p, c]);
  return { pred, conf };
}

async function distances(norm: NormGeometry, a: tf.Tensor, b: tf.Tensor): Promise<Float32Array> {
  const d = norm.distance(a, b);
  const v = (await d.data()) as Float32Array;
  d.dispose();
  return v;
}

/** Everything a chunk's attacks need. */
interface ChunkContext {
  readonly model: Model;
  readonly norm: NormGeometry;
  readonly epsilons: readonly number[];
  readonly seed: number;
  readonly batchSize: number;
  readonly examples: number;
  readonly signal: AbortSignal | undefined;
  readonly maxPasses: number | undefined;
}

/** Runs one attack on rows `rows` of the chunk `xb` at `epsilons`. */
async function runOn(
  ctx: ChunkContext,
  attack: ResolvedAttack,
  xb: tf.Tensor,
  labels: Int32Array,
  rows: readonly number[],
  epsilons: readonly number[],
  seed: number,
  onFraction: (f: number) => void,
): Promise<{ result: AttackResult; xs: tf.Tensor }> {
  const xs = tf.gather(xb, rows);
  const ys = tf.tensor1d(
    rows.map((r) => labels[r] as number),
    'int32',
  );
  try {
    const threat = attack.attack.meta.threat;
    const target = threat === 'white-box' ? ctx.model : toQueryModel(ctx.model, { output: threat === 'decision' ? 'label' : 'scores' });
    const result = await attack.attack.run(
      target,
      xs,
      { labels: ys },
      {
        epsilons,
        seed,
        batchSize: ctx.batchSize,
        signal: ctx.signal,
        // The budget is per sample: it applies to the white-box attacks that attack each sample on its own.
        ...(threat === 'white-box' && attack.attack.meta.scope !== 'dataset' && ctx.maxPasses !== undefined ? { maxPasses: ctx.maxPasses } : {}),
        onProgress: (p) => onFraction(p.fraction),
      },
    );
    return { result, xs };
  } catch (e) {
    xs.dispose();
    throw e;
  } finally {
    ys.dispose();
  }
}

/** Example records for the rows `pick` (indices into `xs`/`adv`). */
async function examplesOf(
  ctx: ChunkContext,
  label: string,
  epsilon: number | null,
  xs: tf.Tensor,
  adv: tf.Tensor,
  pick: readonly number[],
  globalIndex: readonly number[],
  labels: readonly number[],
  clean: Softmaxed,
  chunkRows: readonly number[],
): Promise<ExampleRecord[]> {
  if (pick.length === 0) return [];
  const a = tf.gather(adv, pick);
  const o = tf.gather(xs, pick);
  try {
    const { pred, conf } = await classify(ctx.model, a);
    const pert = await distances(ctx.norm, a, o);
    const ov = await o.data();
    const av = await a.data();
    const per = ov.length / pick.length;
    return pick.map((row, j) => {
      const r = chunkRows[row] as number;
      return {
        attack: label,
        epsilon,
        index: globalIndex[row] as number,
        label: labels[row] as number,
        cleanPrediction: clean.pred[r] as number,
        cleanConfidence: round4(clean.conf[r] as number),
        adversarialPrediction: pred[j] as number,
        adversarialConfidence: round4(conf[j] as number),
        perturbation: round4(pert[j] as number),
        shape: [...ctx.model.inputShape],
        original: Array.from(ov.subarray(j * per, (j + 1) * per), round4),
        adversarial: Array.from(av.subarray(j * per, (j + 1) * per), round4),
      };
    });
  } finally {
    tf.dispose([a, o]);
  }
}

interface MutableAttackRecord {
  success: (boolean | null)[];
  perturbation: (number | null)[];
  distance: number | null;
  queries: number;
}

/** True for a chunked source (as opposed to in-memory tensors). */
function isSource(data: EvaluationData | EvaluationSource): data is EvaluationSource {
  return typeof (data as EvaluationSource).read === 'function' && !((data as EvaluationData).x instanceof tf.Tensor);
}

/**
 * Rows `[start, start + size)` of the data as a new tensor: a slice of the in-memory `x`, or a chunk
 * read from the source and checked against the model (shape, finite values, bounds).
 */
function chunkLoader(model: Model, data: EvaluationData | EvaluationSource): (start: number, size: number) => Promise<tf.Tensor> {
  if (!isSource(data)) return async (start, size) => tf.slice(data.x, start, size);
  return async (start, size) => {
    const { x, labels } = await data.read(start, start + size);
    labels.dispose();
    try {
      if (!(x instanceof tf.Tensor) || x.shape[0] !== size) {
        throw new AdvxError(
          'INVALID_SHAPE',
          `data.read(${start}, ${start + size}) must return ${size} samples, got shape ${x instanceof tf.Tensor ? JSON.stringify(x.shape) : typeof x}.`,
        );
      }
      await validateInput(model, x);
      return x;
    } catch (e) {
      if (x instanceof tf.Tensor) x.dispose();
      throw e;
    }
  };
}

/** Evaluates one chunk `[start, start + size)` of the data. */
async function evaluateChunk(
  ctx: ChunkContext,
  attacks: readonly ResolvedAttack[],
  mode: EvaluationConfig['mode'],
  load: (start: number, size: number) => Promise<tf.Tensor>,
  labelsAll: Int32Array,
  chunk: number,
  start: number,
  size: number,
  onProgress: (attack: string, unitsDone: number) => void,
): Promise<ChunkRecord> {
  const { epsilons, norm } = ctx;
  const E = epsilons.length;
  const xb = await load(start, size);
  try {
    const labels = labelsAll.subarray(start, start + size);
    const clean = await classify(ctx.model, xb);
    const zero = tf.zerosLike(xb);
    const inputNorms = await distances(norm, xb, zero);
    zero.dispose();
    const records: MutableAttackRecord[][] = Array.from({ length: size }, () =>
      attacks.map(() => ({
        success: new Array<boolean | null>(E).fill(null),
        perturbation: new Array<number | null>(E).fill(null),
        distance: null,
        queries: 0,
      })),
    );
    const correct = Array.from({ length: size }, (_, i) => i).filter((i) => clean.pred[i] === labels[i]);
    const timeMs = attacks.map(() => 0);
    // White-box attacks run on the model and count their passes (0 where they ran on no row); the others run through queries.
    const spent: ({ forward: number; backward: number } | null)[] = attacks.map((a) =>
      a.attack.meta.threat === 'white-box' ? { forward: 0, backward: 0 } : null,
    );
    const examples: ExampleRecord[] = [];
    let units = 0;

    for (let a = 0; a < attacks.length; a++) {
      const attack = attacks[a] as ResolvedAttack;
      const label = attack.info.label;
      const minimization = attack.attack.meta.kind === 'minimization';
      const t0 = Date.now();
      const passes = mode === 'independent' ? [-1] : epsilons.map((_, e) => e);
      for (const e of passes) {
        // Rows still to attack: every clean-correct row (independent), or those no earlier attack fooled at ε_e (sequential).
        const rows = e < 0 ? correct : correct.filter((r) => (records[r] as MutableAttackRecord[]).slice(0, a).every((rec) => rec.success[e] !== true));
        const unitBase = units;
        if (rows.length > 0) {
          const eps = e < 0 ? epsilons : [epsilons[e] as number];
          const seed = e < 0 ? deriveSeed(ctx.seed, chunk, a) : deriveSeed(ctx.seed, chunk, a, e);
          const { result, xs } = await runOn(ctx, attack, xb, labels, rows, eps, seed, (f) => onProgress(label, unitBase + f));
          const sum = spent[a];
          if (sum && result.passes) spent[a] = { forward: sum.forward + result.passes.forward, backward: sum.backward + result.passes.backward };
          try {
            for (let k = 0; k < eps.length; k++) {
              const ei = e < 0 ? k : e;
              const clipped = result.clipped[k] as tf.Tensor;
              const pert = await distances(norm, clipped, xs);
              const success = result.success[k] as readonly boolean[];
              rows.forEach((r, j) => {
                const rec = (records[r] as MutableAttackRecord[])[a] as MutableAttackRecord;
                rec.success[ei] = success[j] as boolean;
                rec.perturbation[ei] = success[j] ? (pert[j] as number) : null;
              });
            }
            rows.forEach((r, j) => {
              const rec = (records[r] as MutableAttackRecord[])[a] as MutableAttackRecord;
              if (minimization && e < 0) rec.distance = Number.isFinite(result.distances[j]) ? (result.distances[j] as number) : null;
              rec.queries += result.queries?.[j] ?? 0;
            });
            if (ctx.examples > 0) {
              // Examples at every ε (the first successes of this chunk), or the unrestricted minimal
              // adversarials of a minimization attack run once for all ε.
              const groups: { epsilon: number | null; ok: readonly boolean[]; adv: tf.Tensor }[] =
                minimization && e < 0
                  ? [{ epsilon: null, ok: rows.map((_, j) => Number.isFinite(result.distances[j])), adv: result.raw }]
                  : eps.map((epsilon, k) => ({ epsilon, ok: result.success[k] as readonly boolean[], adv: result.clipped[k] as tf.Tensor }));
              for (const group of groups) {
                const pick = rows
                  .map((_, j) => j)
                  .filter((j) => group.ok[j])
                  .slice(0, ctx.examples);
                examples.push(
                  ...(await examplesOf(
                    ctx,
                    label,
                    group.epsilon,
                    xs,
                    group.adv,
                    pick,
                    rows.map((r) => start + r),
                    rows.map((r) => labels[r] as number),
                    clean,
                    rows,
                  )),
                );
              }
            }
          } finally {
            result.dispose();
            xs.dispose();
          }
        }
        units = unitBase + 1;
        onProgress(label, units);
      }
      timeMs[a] = Date.now() - t0;
    }

    return {
      samples: records.map((recs, i) => ({
        index: start + i,
        label: labels[i] as number,
        prediction: clean.pred[i] as number,
        inputNorm: inputNorms[i] as number,
        attacks: recs as SampleAttackRecord[],
      })),
      timeMs,
      passes: spent,
      examples,
    };
  } finally {
    xb.dispose();
  }
}

/**
 * Evaluates the robustness of a model: a grid of attacks × epsilons over a labelled dataset, in
 * chunks of `batchSize` samples, with gradient-masking diagnostics.
 *
 * Returns clean accuracy; per attack and epsilon the robust accuracy, the attack success rate (on
 * the samples it ran on), mean and median perturbation norm, mean queries (black-box attacks) and
 * wall time; the ensemble robust accuracy (per sample the worst case over the attacks); and for
 * minimization attacks (DeepFool, C&W) the whole accuracy-vs-ε curve from one run and the empirical
 * robustness. Attacks run only on clean-correct samples. Results are deterministic for a seed: each
 * chunk's attacks get a seed derived from the base seed and the chunk index, so shards
 * ({@link EvaluateOptions.shard}, combined with {@link mergeResults}) and resumed runs
 * ({@link EvaluateOptions.state}) give the same result as one uninterrupted run.
 *
 * Diagnostics (unless `diagnostics: false`), each a {@link MaskingWarning} with its evidence:
 * `PROBABILITY_OUTPUT`, `ZERO_GRADIENTS` and `RANDOMIZED_MODEL` probe the model on the first
 * `probeSamples` samples; `UNBOUNDED_NOT_ZERO` runs the first white-box attack with a `steps` option
 * at an epsilon that contains the whole input domain; `BLACK_BOX_BEATS_WHITE_BOX`,
 * `ACCURACY_INCREASES_WITH_EPSILON` and `ACCURACY_INCREASES_WITH_STEPS` check the grid's numbers;
 * `STEPS_CANNOT_REACH_EPSILON` checks each iterative attack's resolved options: `steps × stepSize`
 * (or `relStepSize·ε`, or the attack's own schedule) below ε means the iterates cannot reach the
 * ε-ball's boundary from their start (random or not), e.g. PGD with 10 steps of the default
 * relStepSize 1/30 reaches 0.33·ε.
 *
 * Options: `model`, `data` (`{ x, labels }` tensors, or an {@link EvaluationSource} such as
 * `openDataset` of `@advx/eval/node` gives, read and checked one chunk at a time so that memory stays
 * bounded), `attacks` (configured attacks or `{ name, options }`
 * registry specs), `epsilons`, `norm` (default `'linf'`), `batchSize` (128), `seed` (0), `mode`
 * (`'independent'`; `'sequential'` for AutoAttack, see {@link autoAttack}), `shard`, `state`,
 * `signal`, `onProgress`, `diagnostics` (on), `examples` (0 per attack and ε), `modelId`.
 *
 * @throws AdvxError before any work for bad input: `INVALID_MODEL`, `INVALID_SHAPE` (data does not
 * match the model's input shape), `BATCH_MISMATCH`, `LABEL_OUT_OF_RANGE`, `OUT_OF_BOUNDS`,
 * `INVALID_EPSILON`, `UNKNOWN_NORM`, `UNSUPPORTED_NORM`, `UNKNOWN_NAME` (attack not registered),
 * `INVALID_OPTION` (incl. a state written by another evaluation); `ABORTED` when `signal` aborts
 * (completed chunks stay in `state`).
 *
 * @example
 * ```ts
 * import { pgd, fgsm } from '@advx/attacks';
 * import { evaluate } from '@advx/eval';
 * import { loadDataset, loadModel } from '@advx/models-zoo';
 *
 * const zoo = await loadModel('mnist-cnn');
 * const { x, y } = await loadDataset('mnist', { count: 100 });
 * const result = await evaluate({
 *   model: zoo.model, data: { x, labels: y }, attacks: [fgsm(), pgd({ steps: 40 })], epsilons: [0.1, 0.3],
 * });
 * console.log(result.cleanAccuracy, result.attacks[1]?.perEpsilon, result.ensemble, result.warnings);
 * ```
 * @public
 */
export async function evaluate(options: EvaluateOptions): Promise<EvaluationResult> {
  if (options === null || typeof options !== 'object') {
    throw new AdvxError('INVALID_OPTION', 'evaluate needs { model, data: { x, labels }, attacks, epsilons }.');
  }
  const { model, data, signal } = options;
  if (model === null || typeof model !== 'object' || model.kind !== 'model' || typeof model.logits !== 'function') {
    throw new AdvxError('INVALID_MODEL', 'model must be an advx white-box Model: wrap tfjs models with fromLayersModel, fromGraphModel or fromFunction.');
  }
  if (data === null || typeof data !== 'object' || (!((data as EvaluationData).x instanceof tf.Tensor) && !isSource(data))) {
    throw new AdvxError(
      'INVALID_OPTION',
      'data must be { x, labels } with x a tf.Tensor [n, ...inputShape] and labels an int32 tf.Tensor1D, or a chunked source { count, labels, fingerprint, read } (openDataset of @advx/eval/node).',
    );
  }
  const source = isSource(data) ? data : undefined;
  if (
    source !== undefined &&
    (!Number.isInteger(source.count) || source.count < 1 || !(source.labels instanceof Int32Array) || source.labels.length !== source.count)
  ) {
    throw new AdvxError(
      'INVALID_OPTION',
      `a data source needs count ≥ 1 and labels an Int32Array of that length; got count ${String(source.count)} and ${source.labels?.length ?? 'no'} labels.`,
    );
  }
  if (source !== undefined && typeof source.fingerprint !== 'string')
    throw new AdvxError('INVALID_OPTION', 'a data source needs a fingerprint string (it identifies the data for resumed runs).');
  const normName: NormName = options.norm ?? 'linf';
  const norm = getNorm(normName);
  const epsilons = [...validateEpsilons(options.epsilons, true)].sort((p, q) => p - q);
  if (new Set(epsilons).size !== epsilons.length) throw new AdvxError('INVALID_EPSILON', `epsilons contain duplicates: ${epsilons.join(', ')}.`);
  const batchSize = checkInteger('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE, 1);
  const seed = checkInteger('seed', options.seed ?? 0, 0, 2 ** 32 - 1);
  const mode = options.mode ?? 'independent';
  if (!MODES.includes(mode)) throw new AdvxError('INVALID_OPTION', `mode must be 'independent' or 'sequential', got ${String(mode)}.`);
  const exampleCount = checkInteger('examples', options.examples ?? 0, 0);
  const maxPasses = options.maxPasses === undefined ? undefined : checkInteger('maxPasses', options.maxPasses, 1);
  const diagnostics = resolveDiagnostics(options.diagnostics);
  const shard = checkShard(options.shard);
  const attacks = resolveAttacks(options.attacks, normName);
  let n: number;
  let labels: Int32Array;
  if (source === undefined) {
    const x = (data as EvaluationData).x;
    await validateInput(model, x);
    n = x.shape[0] as number;
    labels = (await validateGoal({ labels: (data as EvaluationData).labels }, n, model.numClasses)).classes;
  } else {
    // Inputs of a source are checked chunk by chunk as they are read, the first chunk here before any
    // work (shape first, as for tensors); its labels all at once.
    n = source.count;
    (await chunkLoader(model, source)(0, Math.min(n, batchSize))).dispose();
    const y = tf.tensor1d(source.labels, 'int32');
    try {
      labels = (await validateGoal({ labels: y }, n, model.numClasses)).classes;
    } finally {
      y.dispose();
    }
  }
  if (signal?.aborted) throw new AdvxError('ABORTED', 'evaluate was aborted before it started.');

  const ensemble = checkEnsemble(options.ensemble);
  const chunks = Math.ceil(n / batchSize);
  const [first, last] = shardChunks(chunks, shard);
  const range: [number, number] = [Math.min(n, first * batchSize), Math.min(n, last * batchSize)];
  const config: EvaluationConfig = {
    attacks: attacks.map((a) => a.info),
    epsilons,
    norm: normName,
    seed,
    batchSize,
    mode,
    datasetSize: n,
    examples: exampleCount,
    model: {
      inputShape: [...model.inputShape],
      numClasses: model.numClasses,
      bounds: [model.bounds[0], model.bounds[1]],
      ...(options.modelId !== undefined ? { id: options.modelId } : {}),
    },
    ...(data.name !== undefined ? { dataset: data.name } : {}),
    ...(source?.description !== undefined ? { data: source.description } : {}),
    diagnostics,
    ...(ensemble !== undefined ? { ensemble } : {}),
    ...(maxPasses !== undefined ? { maxPasses } : {}),
  };

  const load = chunkLoader(model, data);
  const store = options.state;
  // The fingerprint (configuration, slice and data) guards a state store against another evaluation.
  const print = !store
    ? ''
    : source === undefined
      ? fingerprint({ config, shard: shard ?? null }, (await (data as EvaluationData).x.data()) as Float32Array, labels)
      : fingerprint({ config, shard: shard ?? null, source: source.fingerprint }, labels);
  const saved = store ? await store.load() : undefined;
  if (saved !== undefined && (saved.schema !== RESULT_SCHEMA || saved.fingerprint !== print)) {
    throw new AdvxError(
      'INVALID_OPTION',
      'The state store holds another evaluation (different model shape, data, attacks, epsilons, seed, batch size, mode or shard). ' +
        'Delete the state (or use another output folder) to start afresh, or rerun with the original settings.',
      { expected: print, found: saved.fingerprint },
    );
  }
  // A state may come from a file: its records are checked against this evaluation before use.
  if (saved !== undefined) checkStateChunks(saved.chunks, config, 'the saved state');
  const done: Record<string, ChunkRecord> = { ...(saved?.chunks ?? {}) };

  const probe = diagnostics
    ? await (async () => {
        options.onProgress?.({ phase: 'diagnostics', fraction: 0, attack: '', chunk: 0, chunks: last - first, resumedChunks: 0 });
        const k = Math.min(n, diagnostics.probeSamples);
        const xp = await load(0, k);
        try {
          return await probeWarnings({ model, x: xp, labels: labels.subarray(0, k), attacks, norm: normName, diagnostics, seed, signal });
        } finally {
          xp.dispose();
        }
      })()
    : [];

  const ctx: ChunkContext = { model, norm, epsilons, seed, batchSize, examples: exampleCount, signal, maxPasses };
  const unitsPerChunk = mode === 'independent' ? attacks.length : attacks.length * epsilons.length;
  const total = Math.max(1, (last - first) * unitsPerChunk);
  const resumed = Array.from({ length: last - first }, (_, i) => first + i).filter((c) => done[String(c)] !== undefined).length;
  let completed = resumed;
  for (let c = first; c < last; c++) {
    if (done[String(c)] !== undefined) continue;
    if (signal?.aborted) throw abortedError(completed, last - first);
    const start = c * batchSize;
    const size = Math.min(batchSize, n - start);
    const base = completed * unitsPerChunk;
    let record: ChunkRecord;
    try {
      record = await evaluateChunk(ctx, attacks, mode, load, labels, c, start, size, (attack, units) =>
        options.onProgress?.({
          phase: 'attacks',
          fraction: Math.min(1, (base + units) / total),
          attack,
          chunk: c - first,
          chunks: last - first,
          resumedChunks: resumed,
        }),
      );
    } catch (e) {
      if (isAdvxError(e, 'ABORTED')) throw abortedError(completed, last - first);
      throw e;
    }
    done[String(c)] = record;
    completed++;
    if (store) await store.save({ schema: RESULT_SCHEMA, fingerprint: print, chunks: done } satisfies EvaluationState);
  }

  const mine = Array.from({ length: last - first }, (_, i) => done[String(first + i)] as ChunkRecord);
  return buildResult({
    config,
    shard: shard ?? null,
    range,
    samples: mine.flatMap((r) => r.samples),
    timeMs: attacks.map((_, a) => mine.reduce((s, r) => s + (r.timeMs[a] ?? 0), 0)),
    passes: attacks.map((_, a) => sumPasses(mine.map((r) => (r.passes ? (r.passes[a] ?? null) : undefined)))),
    examples: mine.flatMap((r) => r.examples),
    probeWarnings: probe,
  });
}

function abortedError(completed: number, chunks: number): AdvxError {
  return new AdvxError(
    'ABORTED',
    `The evaluation was aborted with ${completed} of ${chunks} chunks done; with a state store they are kept and a rerun with the same settings continues from there.`,
    { completed, chunks },
  );
}
