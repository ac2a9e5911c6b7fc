/**
 * The attack base's run: {@link prepareRun} checks a call and gathers its state, {@link runAttack}
 * walks the batches, and a driver per attack kind ({@link fixedEpsilon}, {@link minimization})
 * turns a batch's perturbations into its results. Not part of the public API (see `define-attack.ts`).
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import type { AttackKind, AttackResult, Progress, RunOptions } from './attack.js';
import { makeContext, type BatchScope } from './attack-context.js';
import type { AttackDefinition, AttackOptions } from './define-attack.js';
import { AdvxError } from './errors.js';
import { goalKind, type Goal, type ResolvedGoal } from './goals.js';
import type { AnyModel } from './model.js';
import { getNorm } from './norms/index.js';
import type { NormGeometry, NormName } from './norms/types.js';
import type { OptionSchema } from './options.js';
import { BudgetSpent, checkMaxPasses, PassLedger } from './passes.js';
import { abortedError, yieldToEventLoop } from './plugin/checkpoint.js';
import { quantizeToward } from './quantize.js';
import { BatchRng } from './rng.js';
import { whereRows } from './rows.js';
import { assertLogitsOutput, checkInteger, validateEpsilons, validateGoal, validateInput } from './validate.js';

const DEFAULT_BATCH_SIZE = 128;

const YIELD_EVERY_MS = 25;

/** Who the base's `ABORTED` error names: 'The attack was aborted through its AbortSignal; partial results were released.' */
const ABORTED_WHO = 'The attack';

/** Everything one run shares across its batches: the checked call and its counters. */
interface RunState<S extends OptionSchema, N extends NormName> {
  readonly def: AttackDefinition<S, N>;
  readonly options: Required<AttackOptions<S, N>>;
  readonly model: AnyModel;
  readonly x: tf.Tensor;
  readonly run: RunOptions;
  readonly n: number;
  readonly epsilons: readonly number[];
  readonly goal: { readonly classes: Int32Array; readonly labels: Int32Array | undefined; readonly targeted: boolean };
  readonly seed: number;
  readonly batchSize: number;
  readonly maxPasses: number;
  readonly norm: NormGeometry;
  /** Per-sample query counts (query models, score- and decision-based attacks). */
  readonly counts: Int32Array | undefined;
  /** Per-sample white-box passes and their budget (white-box models). */
  readonly passes: PassLedger | undefined;
  /** Rows per batch: the whole run for a dataset-level attack. */
  readonly rowsPerBatch: number;
  readonly batches: number;
  /** Perturbations per batch: one per ε (fixed-epsilon) or one (minimization). */
  readonly units: number;
  /** Per ε: adversarials before 8-bit rounding, and those still adversarial after it. */
  readonly quantization: { readonly before: number[]; readonly survived: number[] };
  lastYield: number;
}

/** One batch of a run. */
interface Batch {
  /** Its index. */
  readonly b: number;
  /** Index of its first sample within the run. */
  readonly offset: number;
  readonly size: number;
  readonly x: tf.Tensor;
  readonly goal: ResolvedGoal;
  /** Bool: rows not adversarial when clean (the others keep their clean input). */
  readonly active: tf.Tensor1D;
  readonly inactive: tf.Tensor;
}

/** What the drivers collect for the result: per ε, the final rows and successes; the raw rows and distances. */
interface Collected {
  readonly rows: tf.Tensor[][];
  readonly raw: tf.Tensor[];
  readonly success: boolean[][];
  readonly distances: Float32Array;
}

/** Turns one batch's perturbations into its part of the result. */
type Driver = <S extends OptionSchema, N extends NormName>(state: RunState<S, N>, batch: Batch, out: Collected) => Promise<void>;

/** Checks a call before any work (model, options of the run, goal, input) and gathers its state. */
async function prepareRun<S extends OptionSchema, N extends NormName>(
  def: AttackDefinition<S, N>,
  options: Required<AttackOptions<S, N>>,
  model: AnyModel,
  x: tf.Tensor,
  goal: Goal,
  run: RunOptions,
): Promise<RunState<S, N>> {
  const { meta } = def;
  if (run.signal?.aborted) throw abortedError(ABORTED_WHO);
  if (model === null || typeof model !== 'object' || (model.kind !== 'model' && model.kind !== 'query')) {
    throw new AdvxError('INVALID_MODEL', 'model must be an advx Model or QueryModel: wrap tfjs models with fromLayersModel, fromGraphModel or fromFunction.');
  }
  if (meta.threat === 'white-box' && model.kind !== 'model') {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${meta.name} is a white-box attack and needs gradients, but got a query-only model. Use a score- or decision-based attack.`,
    );
  }
  def.checkModel?.(model, options);
  const minimizing = meta.kind === 'minimization';
  const epsilons = validateEpsilons(run.epsilons, !minimizing);
  const seed = run.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new AdvxError('INVALID_OPTION', `seed must be a finite number, got ${String(seed)}.`);
  }
  const batchSize = checkInteger('batchSize', run.batchSize ?? DEFAULT_BATCH_SIZE, 1);
  const maxPasses = checkMaxPasses(run.maxPasses);
  if (maxPasses !== Infinity && meta.scope === 'dataset') {
    throw new AdvxError(
      'INVALID_OPTION',
      `maxPasses is a per-sample budget, but ${meta.name} fits one perturbation on all samples together (a dataset-level attack): run it without maxPasses.`,
      { option: 'maxPasses' },
    );
  }
  if (maxPasses !== Infinity && model.kind !== 'model') {
    throw new AdvxError(
      'INVALID_OPTION',
      `maxPasses budgets a white-box model's passes, but this is a query-only model; its queries are budgeted by toQueryModel's budget.`,
      { option: 'maxPasses' },
    );
  }
  if (run.quantize !== undefined && run.quantize !== 8) {
    throw new AdvxError('INVALID_OPTION', `quantize must be 8 (round outputs to 8 bits) or left out, got ${String(run.quantize)}.`);
  }
  if (goal === null || typeof goal !== 'object') {
    throw new AdvxError(
      'INVALID_OPTION',
      `${meta.name}: run(model, x, goal, options) needs a goal: { labels } (untargeted) or { targets } (targeted), got ${goal === null ? 'null' : typeof goal}.`,
    );
  }
  const kind = goalKind(goal);
  if (!meta.goals.includes(kind)) {
    throw new AdvxError('INVALID_OPTION', `${meta.name} supports ${meta.goals.join(' and ')} goals, not ${kind}.`);
  }
  await validateInput(model, x);
  const n = x.shape[0] as number;
  const goalValues = await validateGoal(goal, n, model.numClasses);
  if (run.signal?.aborted) throw abortedError(ABORTED_WHO);

  const norm = getNorm((options as unknown as { norm: NormName }).norm);
  // Query models count every query; score- and decision-based attacks also count their own queries of a white-box model.
  const counts = model.kind === 'query' || meta.threat === 'score' || meta.threat === 'decision' ? new Int32Array(n) : undefined;
  // A dataset-level attack fits one perturbation on every sample: the run is one batch.
  const rowsPerBatch = meta.scope === 'dataset' ? n : batchSize;
  const units = minimizing ? 1 : epsilons.length;
  return {
    def,
    options,
    model,
    x,
    run,
    n,
    epsilons,
    goal: goalValues,
    seed,
    batchSize,
    maxPasses,
    norm,
    counts,
    // White-box models count their forward and backward passes per sample, whatever the attack's threat model.
    passes: model.kind === 'model' ? new PassLedger(n, maxPasses, norm, units) : undefined,
    rowsPerBatch,
    batches: Math.ceil(n / rowsPerBatch),
    units,
    quantization: { before: epsilons.map(() => 0), survived: epsilons.map(() => 0) },
    lastYield: Date.now(),
  };
}

/** Predicted classes of `x`, rows `offset …` of the run, counting queries on query models. */
async function predict(state: RunState<OptionSchema, NormName>, x: tf.Tensor, offset: number): Promise<Int32Array> {
  const { model, counts } = state;
  let scores: tf.Tensor2D;
  if (model.kind === 'query') {
    scores = await model.query(x);
    if (counts) for (let i = 0; i < (x.shape[0] as number); i++) counts[offset + i] = (counts[offset + i] as number) + 1;
  } else {
    scores = tf.tidy(() => model.logits(x));
  }
  const pred = tf.tidy(() => tf.cast(tf.argMax(scores, 1), 'int32'));
  scores.dispose();
  const values = (await pred.data()) as Int32Array;
  pred.dispose();
  return values;
}

/** Per row: `pred` reaches the goal of rows `offset …`. */
function reached(state: RunState<OptionSchema, NormName>, pred: Int32Array, offset: number): boolean[] {
  const { classes, targeted } = state.goal;
  return Array.from(pred, (p, i) => (targeted ? p === classes[offset + i] : p !== classes[offset + i]));
}

async function dataAndDispose(t: tf.Tensor): Promise<Float32Array> {
  const values = (await t.data()) as Float32Array;
  t.dispose();
  return values;
}

/** Slices batch `b`, with its goal tensors and the rows that are not adversarial when clean. */
async function openBatch(state: RunState<OptionSchema, NormName>, b: number, hold: tf.Tensor[]): Promise<Batch> {
  const { model, goal } = state;
  const offset = b * state.rowsPerBatch;
  const size = Math.min(state.rowsPerBatch, state.n - offset);
  const x = tf.slice(state.x, offset, size);
  const classes = tf.tensor1d(goal.classes.subarray(offset, offset + size), 'int32');
  const labels = goal.labels ? tf.tensor1d(goal.labels.subarray(offset, offset + size), 'int32') : undefined;
  hold.push(x, classes, ...(labels ? [labels] : []));
  if (model.kind === 'model' && b === 0) {
    const logits = tf.tidy(() => model.logits(x));
    try {
      await assertLogitsOutput(logits);
    } finally {
      logits.dispose();
    }
  }
  const cleanAdv = reached(state, await predict(state, x, offset), offset);
  const active = tf.tensor1d(
    cleanAdv.map((a) => (a ? 0 : 1)),
    'bool',
  );
  const inactive = tf.logicalNot(active);
  hold.push(active, inactive);
  return { b, offset, size, x, goal: { targeted: goal.targeted, classes, labels }, active, inactive };
}

/** The abort point and progress report of perturbation `unit` of a batch. */
function checkpointOf(state: RunState<OptionSchema, NormName>, batch: Batch, unit: number): (step: number, steps: number) => Promise<void> {
  const { run, passes, batches, units } = state;
  return async (step, steps) => {
    if (run.signal?.aborted) throw abortedError(ABORTED_WHO);
    passes?.checkpoint();
    if (run.onProgress) {
      const progress: Progress = {
        fraction: Math.min(1, (batch.b * units + unit + (steps > 0 ? step / steps : 0)) / (batches * units)),
        batch: batch.b,
        batches,
        epsilonIndex: unit,
        step,
        steps,
      };
      run.onProgress(progress);
      if (run.signal?.aborted) throw abortedError(ABORTED_WHO);
    }
    if (Date.now() - state.lastYield > YIELD_EVERY_MS) {
      await yieldToEventLoop();
      state.lastYield = Date.now();
    }
  };
}

/** Throws `INVALID_SHAPE` unless the attack's output `adv` is a tensor shaped like its batch `x`. */
function checkOutput(name: string, adv: unknown, x: tf.Tensor): void {
  if (!(adv instanceof tf.Tensor)) {
    throw new AdvxError('INVALID_SHAPE', `${name} returned no tensor; expected a batch of shape [${x.shape.join(', ')}].`);
  }
  if (adv.shape.join() !== x.shape.join()) {
    throw new AdvxError('INVALID_SHAPE', `${name} returned a result of shape [${adv.shape.join(', ')}]; expected [${x.shape.join(', ')}].`);
  }
}

/**
 * Runs the attack's math on a batch at `epsilon` (perturbation `unit` of the batch), within the
 * pass budget, and returns it clipped (minimization) or projected (fixed-epsilon), the rows
 * adversarial when clean keeping their clean input.
 */
async function perturbBatch<S extends OptionSchema, N extends NormName>(
  state: RunState<S, N>,
  batch: Batch,
  epsilon: number,
  unit: number,
): Promise<tf.Tensor> {
  const { def, passes } = state;
  const scope: BatchScope<AttackOptions<S, N>> = {
    def,
    options: state.options,
    model: state.model,
    offset: batch.offset,
    seed: state.seed,
    batchSize: state.batchSize,
    epsilon,
    norm: state.norm,
    counts: state.counts,
    passes,
    checkpoint: checkpointOf(state as unknown as RunState<OptionSchema, NormName>, batch, unit),
  };
  const ctx = makeContext(scope, {
    x: batch.x,
    goal: batch.goal,
    active: batch.active,
    rng: new BatchRng(state.seed, batch.offset, batch.size),
    index: undefined,
  });
  // No engine scope spans an await here: tfjs scopes form one global stack, so a scope left open
  // across an await would capture (and later free) tensors of any other code running meanwhile,
  // such as a second run on the same engine. The attack's math releases its own intermediates
  // (every synchronous step in tf.tidy); the base owns and releases what perturb returns.
  passes?.begin(batch.offset, batch.x, batch.goal, epsilon);
  let adv: tf.Tensor | undefined;
  try {
    await ctx.checkpoint(0, 0);
    let stopped = false;
    try {
      adv = await def.perturb(ctx);
    } catch (err) {
      // The budget stopped the attack: the batch is settled from what the budget paid for.
      if (!(err instanceof BudgetSpent)) throw err;
      stopped = true;
    }
    if (!stopped) checkOutput(def.meta.name, adv, batch.x);
    if (passes?.limited) {
      const settled = passes.settle(adv, unit);
      if (adv !== undefined && settled !== adv && adv !== batch.x) adv.dispose();
      adv = settled;
    }
  } catch (err) {
    if (adv instanceof tf.Tensor && adv !== batch.x && !adv.isDisposed) adv.dispose();
    throw err;
  } finally {
    passes?.end();
  }
  const out = adv as tf.Tensor;
  try {
    return tf.tidy(() => whereRows(batch.inactive, batch.x, def.meta.kind === 'minimization' ? ctx.clip(out) : ctx.project(out)));
  } finally {
    if (out !== batch.x && !out.isDisposed) out.dispose();
  }
}

/**
 * Predicts `out` (after 8-bit rounding when the run asks for it, counted for ε index `e`); returns
 * the final tensor and per-row success.
 */
async function settle(state: RunState<OptionSchema, NormName>, out: tf.Tensor, batch: Batch, e: number | undefined): Promise<{ t: tf.Tensor; ok: boolean[] }> {
  const { offset } = batch;
  if (state.run.quantize === undefined) return { t: out, ok: reached(state, await predict(state, out, offset), offset) };
  const pre = reached(state, await predict(state, out, offset), offset);
  const q = quantizeToward(out, batch.x, state.model.bounds, 255);
  out.dispose();
  const ok = reached(state, await predict(state, q, offset), offset);
  if (e !== undefined) {
    const { before, survived } = state.quantization;
    before[e] = (before[e] as number) + pre.filter(Boolean).length;
    survived[e] = (survived[e] as number) + pre.filter((p, i) => p && ok[i]).length;
  }
  return { t: q, ok };
}

/**
 * Fixed-epsilon driver: one perturbation per ε; the raw row of a sample is its example at the
 * smallest ε that succeeded (the largest ε when none did), its distance finite when one did.
 */
const fixedEpsilon: Driver = async (state, batch, out) => {
  const s = state as unknown as RunState<OptionSchema, NormName>;
  const perEps: tf.Tensor[] = [];
  const okPerEps: boolean[][] = [];
  for (let e = 0; e < s.epsilons.length; e++) {
    const { t, ok } = await settle(s, await perturbBatch(state, batch, s.epsilons[e] as number, e), batch, e);
    (out.rows[e] as tf.Tensor[]).push(t);
    perEps.push(t);
    okPerEps.push(ok);
    (out.success[e] as boolean[]).push(...ok);
  }
  const raw = tf.tidy(() => {
    let best = perEps[perEps.length - 1] as tf.Tensor;
    for (let e = perEps.length - 2; e >= 0; e--) best = whereRows(tf.tensor1d(okPerEps[e] as boolean[], 'bool'), perEps[e] as tf.Tensor, best);
    return tf.clone(best);
  });
  out.raw.push(raw);
  const d = await dataAndDispose(s.norm.distance(raw, batch.x));
  for (let i = 0; i < batch.size; i++) out.distances[batch.offset + i] = okPerEps.some((ok) => ok[i]) ? (d[i] as number) : Infinity;
};

/**
 * Minimization driver: one unbounded perturbation; its distance where it succeeded, and at each ε
 * its projection onto the ε-ball, checked again.
 */
const minimization: Driver = async (state, batch, out) => {
  const s = state as unknown as RunState<OptionSchema, NormName>;
  const { t: raw, ok: rawOk } = await settle(s, await perturbBatch(state, batch, Infinity, 0), batch, undefined);
  out.raw.push(raw);
  const d = await dataAndDispose(s.norm.distance(raw, batch.x));
  rawOk.forEach((ok, i) => (out.distances[batch.offset + i] = ok ? (d[i] as number) : Infinity));
  const [lo, hi] = s.model.bounds;
  for (let e = 0; e < s.epsilons.length; e++) {
    const eps = s.epsilons[e] as number;
    const projected = tf.tidy(() => tf.clipByValue(tf.add(batch.x, s.norm.project(tf.sub(raw, batch.x), eps)), lo, hi));
    const { t, ok } = await settle(s, projected, batch, e);
    (out.rows[e] as tf.Tensor[]).push(t);
    (out.success[e] as boolean[]).push(...ok);
  }
};

const DRIVERS: Readonly<Record<AttackKind, Driver>> = { 'fixed-epsilon': fixedEpsilon, minimization };

/** Joins a result's parts along rows, releasing them. */
function concatRows(parts: tf.Tensor[]): tf.Tensor {
  if (parts.length === 1) return parts[0] as tf.Tensor;
  const joined = tf.concat(parts, 0);
  tf.dispose(parts);
  return joined;
}

/** One `run` of an attack defined by `def`: checks, batches, the kind's driver, and the result. */
export async function runAttack<S extends OptionSchema, N extends NormName>(
  def: AttackDefinition<S, N>,
  options: Required<AttackOptions<S, N>>,
  model: AnyModel,
  x: tf.Tensor,
  goal: Goal,
  run: RunOptions,
): Promise<AttackResult> {
  const state = await prepareRun(def, options, model, x, goal, run);
  const s = state as unknown as RunState<OptionSchema, NormName>;
  const drive = DRIVERS[def.meta.kind];
  const out: Collected = { rows: state.epsilons.map(() => []), raw: [], success: state.epsilons.map(() => []), distances: new Float32Array(state.n) };
  try {
    for (let b = 0; b < state.batches; b++) {
      const hold: tf.Tensor[] = [];
      try {
        await drive(state, await openBatch(s, b, hold), out);
      } finally {
        tf.dispose(hold);
      }
    }
  } catch (err) {
    for (const r of out.rows) tf.dispose(r);
    tf.dispose(out.raw);
    throw err;
  }
  const clipped = out.rows.map(concatRows);
  const raw = concatRows(out.raw);
  const { batches, units, counts, passes, maxPasses } = state;
  run.onProgress?.({ fraction: 1, batch: batches - 1, batches, epsilonIndex: Math.max(0, units - 1), step: 0, steps: 0 });
  let disposed = false;
  return {
    epsilons: state.epsilons,
    raw,
    clipped,
    success: out.success,
    distances: out.distances,
    ...(counts ? { queries: counts } : {}),
    ...(passes
      ? {
          passes: passes.totals(),
          samplePasses: passes.samplePasses(),
          ...(passes.limited ? { budget: { maxPasses, exhausted: passes.exhausted } } : {}),
        }
      : {}),
    ...(run.quantize !== undefined ? { quantization: { levels: 255, before: state.quantization.before, survived: state.quantization.survived } } : {}),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      tf.dispose([raw, ...clipped]);
    },
  };
}
