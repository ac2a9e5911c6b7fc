import * as tf from '@tensorflow/tfjs-core';

import type { Attack, AttackMeta, AttackResult, Progress, RunOptions } from './attack.js';
import { makeContext, type BatchScope } from './attack-context.js';
import { AdvxError } from './errors.js';
import { goalKind, type Goal, type ResolvedGoal } from './goals.js';
import type { AnyModel, Bounds, Model } from './model.js';
import { getNorm } from './norms/index.js';
import type { NormGeometry, NormName } from './norms/types.js';
import { BudgetSpent, checkMaxPasses, PassLedger } from './passes.js';
import { BatchRng } from './rng.js';
import { whereRows } from './rows.js';
import { abortedError, yieldToEventLoop } from './plugin/checkpoint.js';
import { option, resolveOptions, schemaDefaults, type OptionSchema, type OptionSpec, type OptionsInput, type RequiredFlag } from './options.js';
import { assertLogitsOutput, checkInteger, validateEpsilons, validateGoal, validateInput } from './validate.js';

/**
 * Options every attack may take. Attacks extend this with their own (`steps`, `stepSize`, ...).
 *
 * @public
 */
export interface AttackOptionsBase {
  /** Perturbation norm (default: the attack's first supported norm). */
  readonly norm?: NormName;
  /** Stop updating a sample once it is adversarial (default `true`). */
  readonly earlyStop?: boolean;
}

/**
 * A per-sample objective on logits that an attack ascends: `[n, C] → [n]`.
 *
 * @public
 */
export type Objective = (logits: tf.Tensor2D) => tf.Tensor1D;

/**
 * The result of {@link AttackContext.gradient}.
 *
 * @public
 */
export interface GradientResult {
  /** Per-sample objective values `[n]`. */
  readonly value: tf.Tensor1D;
  /** Logits of the input `[n, C]`. */
  readonly logits: tf.Tensor2D;
  /** Gradient of the summed objective w.r.t. the input (same shape as the input). */
  readonly grad: tf.Tensor;
}

/**
 * State of an iterative attack: the current adversarial batch `x` plus any per-sample or global tensors.
 *
 * @public
 */
export type IterationState = {
  /** The current adversarial batch. */
  readonly x: tf.Tensor;
} & { readonly [key: string]: tf.Tensor };

/**
 * What the base gives an attack's math for one batch (and one epsilon, for fixed-epsilon attacks).
 * Runs may overlap on one engine (two attacks at once in a page, a server answering two requests), so
 * no engine scope spans `perturb`'s awaits: the attack releases the tensors it creates (each
 * synchronous step in `tf.tidy`; what it holds across awaits disposed explicitly, also when
 * {@link AttackContext.checkpoint} or {@link AttackContext.query} throws), and the base releases the
 * tensor `perturb` returns. The helpers here return new tensors that the caller owns.
 *
 * @public
 */
export interface AttackContext<Options> {
  /** The attack's resolved options. */
  readonly options: Readonly<Options>;
  /** The model under attack. */
  readonly model: AnyModel;
  /** The clean batch `[n, ...inputShape]`. */
  readonly x: tf.Tensor;
  /** Rows in the batch. */
  readonly n: number;
  /** Index of the batch's first sample within the whole run. */
  readonly offset: number;
  /**
   * The run's seed ({@link RunOptions.seed}). Per-sample draws come from {@link AttackContext.rng};
   * a dataset-level attack (`meta.scope: 'dataset'`) seeds its one shared stream from this.
   */
  readonly seed: number;
  /**
   * The run's batch size ({@link RunOptions.batchSize}): a dataset-level attack, which gets every
   * sample in one context, calls the model on chunks of at most this many rows.
   */
  readonly batchSize: number;
  /** The goal for this batch. */
  readonly goal: ResolvedGoal;
  /** Bool `[n]`: samples that still need an adversarial (not already adversarial without perturbation). */
  readonly active: tf.Tensor1D;
  /** The epsilon of this run (fixed-epsilon attacks); `Infinity` for minimization attacks. */
  readonly epsilon: number;
  /** Geometry of the attack's norm. */
  readonly norm: NormGeometry;
  /** The model's input bounds. */
  readonly bounds: Bounds;
  /** Seeded per-sample random streams for this batch. */
  readonly rng: BatchRng;
  /**
   * The white-box model; throws `UNSUPPORTED_MODEL` for a query-only model. Its passes are counted
   * per sample ({@link AttackResult.passes}, {@link RunOptions.maxPasses}): call it on the context's
   * rows (or whole copies of them, such as tiles or stacked noise draws). To call it on some rows
   * only, take `whiteBox(rows)`, the model of rows `rows` of this context (indices into `x`), and call
   * that on exactly those rows; another row count throws `INVALID_SHAPE`.
   */
  whiteBox(rows?: Int32Array): Model;
  /** Bool `[n]`: whether each row of `xAdv` satisfies the goal (white-box). */
  isAdversarial(xAdv: tf.Tensor): tf.Tensor1D;
  /**
   * The default objective: cross-entropy of the label (untargeted, to ascend) or minus the
   * cross-entropy of the target (targeted).
   */
  readonly objective: Objective;
  /**
   * One forward and backward pass: the per-sample objective, the logits and the gradient of the
   * objective's sum w.r.t. `xAdv` (any number of rows, e.g. only the active ones).
   */
  gradient(xAdv: tf.Tensor, objective?: Objective): GradientResult;
  /** Queries a query model (or a white-box model as softmax scores), counting one query per row (or per listed row). */
  query(xAdv: tf.Tensor, rows?: Int32Array): Promise<tf.Tensor2D>;
  /** Projects `xAdv` onto the epsilon ball around `x`, then clips it to the bounds. */
  project(xAdv: tf.Tensor): tf.Tensor;
  /** Clips to the model's bounds. */
  clip(xAdv: tf.Tensor): tf.Tensor;
  /**
   * A context of rows `rows` of this one (ascending indices into its batch): `x`, `n`, `goal`,
   * `active` and `rng` (the same per-sample streams) cover those rows, and every helper works on
   * them; queries count against the original samples. The caller releases it with `dispose()`.
   */
  subset(rows: Int32Array): SubsetContext<Options>;
  /**
   * Runs `steps` iterations of `step` with memory management, abort, progress and (unless the
   * attack's `earlyStop` option is false) per-sample early stop: a sample stops changing once it is
   * adversarial, and the loop ends when every sample has. `step` may return `adversarial` (bool `[m]`)
   * telling which rows of its *input* state were already adversarial (saves a forward pass);
   * otherwise the base checks the new state itself.
   *
   * Rows that are done are not computed: once at most 3/4 of the state's rows are still running,
   * the state passed to `step` holds only those, and `step`'s third argument is the context of
   * exactly those rows. Per-row tensors are the tensors of `init` whose first dimension is the
   * batch's row count `n`; others (a step counter, a global scale) pass unchanged. So `step` must
   * take `x`, the goal, the objective, the projection and the rng from its `rows` argument, never
   * from the outer context. The returned state holds every row again, the finished ones with their
   * values from when they stopped, bit for bit what a loop over all rows gives.
   *
   * The loop takes ownership of `init`'s tensors (other than the context's own, such as `x`) and
   * releases each once it is replaced; the caller owns the returned state and releases what it does
   * not return.
   */
  iterate<S extends IterationState>(init: S, steps: number, step: IterationStep<Options, S>): Promise<S>;
  /**
   * Counts the passes of another attack run on `ctx.model` for rows `rows` of this context (indices
   * into `x`; its `samplePasses` one per row), when an attack runs one inside its math (e.g. DeepFool
   * inside a universal perturbation). Not allowed under a pass budget ({@link RunOptions.maxPasses}),
   * which a nested run could not respect: an attack that nests runs is dataset-level or refuses it.
   */
  chargeRun(rows: Int32Array, result: Pick<AttackResult, 'samplePasses' | 'passes'>): void;
  /** Abort point and progress report; call it inside long loops that do not use {@link AttackContext.iterate}. */
  checkpoint(step: number, steps: number): Promise<void>;
}

/**
 * One iteration of {@link AttackContext.iterate}: the next state from `state` (the rows of `rows`
 * only) at iteration `i`, optionally with `adversarial`, bool `[m]`: which rows of the input state
 * were already adversarial.
 *
 * @public
 */
export type IterationStep<Options, S extends IterationState> = (
  state: S,
  i: number,
  rows: AttackContext<Options>,
) => S & {
  /** Bool `[m]`: rows of the input state that were already adversarial (saves the base a forward pass). */
  readonly adversarial?: tf.Tensor1D;
};

/**
 * A context of some rows of a batch ({@link AttackContext.subset}); `dispose()` releases the
 * tensors it gathered (its `x`, goal and `active`).
 *
 * @public
 */
export type SubsetContext<Options> = AttackContext<Options> & {
  /** Releases the subset's own tensors; idempotent. */
  dispose(): void;
};

/**
 * The options every attack takes, declared by the base for the norms `N` an attack supports.
 *
 * @public
 */
export type BaseAttackSchema<N extends NormName> = {
  /** Perturbation norm: one of the attack's norms, the first by default. */
  readonly norm: OptionSpec<N> & RequiredFlag<false>;
  /** Stop updating a sample once it is adversarial. */
  readonly earlyStop: OptionSpec<boolean> & RequiredFlag<false>;
};

/**
 * The options a user passes to an attack that declares `S` and supports the norms `N`: `norm`,
 * `earlyStop` and the declared ones, each optional.
 *
 * @public
 */
export type AttackOptions<S extends OptionSchema, N extends NormName> = OptionsInput<BaseAttackSchema<N> & S>;

/**
 * The options type of a factory: `FactoryOptions<typeof pgd>` for an attack, `FactoryOptions<typeof
 * bitDepth>` for a factory of {@link defineFactory} (its options argument).
 *
 * @public
 */
export type FactoryOptions<F> = F extends AttackFactory<infer O> ? O : F extends (...args: infer A) => unknown ? NonNullable<A[0]> : never;

/**
 * The definition of an attack method: its metadata, its option declarations and its math.
 *
 * @public
 */
export interface AttackDefinition<S extends OptionSchema, N extends NormName> {
  /** Static description; `norms` lists the supported norms, the default first. */
  readonly meta: AttackMeta & {
    /** Norms the attack is defined for, the default first. */
    readonly norms: readonly N[];
  };
  /**
   * Every option of the method, declared once with {@link option} (default, range, doc): from it come
   * the options type, the defaults, the validation, the docs table and the command line's parsing.
   * The base adds `norm` (from `meta.norms`) and `earlyStop`; unknown options are rejected.
   */
  readonly options: S;
  /**
   * Constraints between options that the declarations cannot state (e.g. `restarts > 1` needs
   * `randomStart`); throw `AdvxError('INVALID_OPTION', ...)`.
   */
  check?(options: Required<AttackOptions<S, N>>): void;
  /**
   * Validation that depends on the model (e.g. a loss that needs ≥ 3 classes), run before any work;
   * throw an `AdvxError`.
   */
  checkModel?(model: AnyModel, options: Required<AttackOptions<S, N>>): void;
  /**
   * The math: returns the adversarial batch for `ctx.x` (the base clips and projects it, then releases
   * it). It releases every other tensor it creates, on every path (see {@link AttackContext}).
   */
  perturb(ctx: AttackContext<Required<AttackOptions<S, N>>>): tf.Tensor | Promise<tf.Tensor>;
}

/**
 * A factory of configured attacks: `pgd({ steps: 40 })`.
 *
 * @public
 */
export type AttackFactory<Options extends AttackOptionsBase> = ((options?: Partial<Options>) => Attack<Required<Options>>) & {
  /** The method's static description. */
  readonly meta: AttackMeta;
  /** Default options. */
  readonly defaults: Readonly<Required<Options>>;
  /** Every option's declaration (`norm` and `earlyStop` included): see {@link describeOptions}. */
  readonly schema: OptionSchema;
};

const DEFAULT_BATCH_SIZE = 128;

const YIELD_EVERY_MS = 25;

/** Who the base's `ABORTED` error names: 'The attack was aborted through its AbortSignal; partial results were released.' */
const ABORTED_WHO = 'The attack';

/** The full schema of an attack: the base's `norm` and `earlyStop`, then the attack's own. */
function attackSchema(meta: AttackMeta, own: OptionSchema): OptionSchema {
  const norms = meta.norms as readonly string[];
  return Object.freeze({
    norm: option.oneOf(norms, norms[0] as string, `perturbation norm`),
    earlyStop: option.boolean(true, 'stop updating a sample once it is adversarial'),
    ...own,
  });
}

function resolveAttackOptions(meta: AttackMeta, schema: OptionSchema, given: unknown, check: ((o: never) => void) | undefined): Record<string, unknown> {
  const norm = (given as { norm?: unknown } | null | undefined)?.norm;
  if (given !== null && typeof given === 'object' && norm !== undefined) {
    getNorm(norm as NormName);
    if (!meta.norms.includes(norm as NormName)) {
      throw new AdvxError('UNSUPPORTED_NORM', `${meta.name} is defined for ${meta.norms.join(', ')}, not '${String(norm)}'.`, { norm, supported: meta.norms });
    }
  }
  return resolveOptions(meta.name, schema, given, check as ((o: Record<string, unknown>) => void) | undefined);
}

/** Predicted classes of a batch, counting queries on query models. */
async function predict(model: AnyModel, x: tf.Tensor, counts: Int32Array | undefined, offset: number): Promise<Int32Array> {
  let scores: tf.Tensor2D;
  if (model.kind === 'query') {
    scores = await model.query(x);
    if (counts) for (let i = 0; i < x.shape[0]; i++) counts[offset + i] = (counts[offset + i] as number) + 1;
  } else {
    scores = tf.tidy(() => model.logits(x));
  }
  const pred = tf.tidy(() => tf.cast(tf.argMax(scores, 1), 'int32'));
  scores.dispose();
  const values = (await pred.data()) as Int32Array;
  pred.dispose();
  return values;
}

/**
 * Rounds `xAdv` to the grid `lo + k·(hi − lo)/levels`, each value toward `x` (so every norm of
 * `xAdv − x` can only shrink); where rounding would cross `x` (an input off the grid), keeps `x`.
 *
 * @public
 */
export function quantizeToward(xAdv: tf.Tensor, x: tf.Tensor, bounds: Bounds, levels = 255): tf.Tensor {
  return tf.tidy(() => {
    const [lo, hi] = bounds;
    const k = tf.mul(tf.sub(xAdv, lo), levels / (hi - lo));
    const up = tf.greaterEqual(xAdv, x);
    // A small tolerance absorbs float error of values that are already on the grid.
    const kq = tf.where(up, tf.floor(tf.add(k, 1e-3)), tf.ceil(tf.sub(k, 1e-3)));
    const q = tf.add(lo, tf.mul(hi - lo, tf.div(kq, levels)));
    const crossed = tf.logicalOr(tf.logicalAnd(up, tf.less(q, x)), tf.logicalAnd(tf.logicalNot(up), tf.greater(q, x)));
    return tf.clipByValue(tf.where(crossed, x, q), lo, hi);
  });
}

async function dataAndDispose(t: tf.Tensor): Promise<Float32Array> {
  const values = (await t.data()) as Float32Array;
  t.dispose();
  return values;
}

function reached(pred: Int32Array, classes: Int32Array, offset: number, targeted: boolean): boolean[] {
  return Array.from(pred, (p, i) => (targeted ? p === classes[offset + i] : p !== classes[offset + i]));
}

/**
 * Defines an attack method. The returned factory builds configured {@link Attack}s whose `run`
 * owns everything but the math: option and input validation (before any work), batching, seeded
 * per-sample randomness, memory scopes, clipping to bounds, projection to each epsilon, success
 * re-evaluated on the model, early stop, abort, progress, query and per-sample pass counting, the
 * per-sample pass budget ({@link RunOptions.maxPasses}) and the result.
 *
 * @example
 * ```ts
 * export const fgsm = defineAttack({
 *   meta: { name: 'fgsm', kind: 'fixed-epsilon', norms: ['linf'], threat: 'white-box',
 *           goals: ['untargeted', 'targeted'], randomized: false },
 *   options: { scale: option.number(1, 'step length as a multiple of epsilon', { min: 0, above: true }) },
 *   perturb: (ctx) => {
 *     const { grad } = ctx.gradient(ctx.x);
 *     return tf.add(ctx.x, tf.mul(ctx.norm.normalizeGradient(grad), ctx.options.scale * ctx.epsilon));
 *   },
 * });
 * const result = await fgsm().run(model, x, { labels }, { epsilons: [0.1, 0.3] });
 * ```
 * @public
 */
export function defineAttack<const N extends NormName, const S extends OptionSchema>(def: AttackDefinition<S, N>): AttackFactory<AttackOptions<S, N>> {
  type O = AttackOptions<S, N>;
  const meta = Object.freeze({ ...def.meta });
  const schema = attackSchema(meta, def.options);
  const factory = (given?: Partial<O>): Attack<Required<O>> => {
    const options = resolveAttackOptions(meta, schema, given, def.check?.bind(def) as ((o: never) => void) | undefined) as Required<O>;
    return Object.freeze({
      meta,
      options,
      run: (model: AnyModel, x: tf.Tensor, goal: Goal, runOptions?: RunOptions) => runAttack(def, options, model, x, goal, runOptions ?? {}),
    });
  };
  return Object.assign(factory, { meta, defaults: schemaDefaults(schema) as Readonly<Required<O>>, schema });
}

async function runAttack<S extends OptionSchema, N extends NormName>(
  def: AttackDefinition<S, N>,
  options: Required<AttackOptions<S, N>>,
  model: AnyModel,
  x: tf.Tensor,
  goal: Goal,
  run: RunOptions,
): Promise<AttackResult> {
  const { meta } = def;
  const signal = run.signal;
  if (signal?.aborted) throw abortedError(ABORTED_WHO);
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
  const minimization = meta.kind === 'minimization';
  const epsilons = validateEpsilons(run.epsilons, !minimization);
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
  const n = x.shape[0];
  const goalValues = await validateGoal(goal, n, model.numClasses);
  if (signal?.aborted) throw abortedError(ABORTED_WHO);

  const norm = getNorm((options as unknown as AttackOptionsBase).norm as NormName);
  // Query models count every query; score- and decision-based attacks also count their own queries of a white-box model.
  const counts = model.kind === 'query' || meta.threat === 'score' || meta.threat === 'decision' ? new Int32Array(n) : undefined;
  // A dataset-level attack fits one perturbation on every sample: the run is one batch.
  const rowsPerBatch = meta.scope === 'dataset' ? n : batchSize;
  const batches = Math.ceil(n / rowsPerBatch);
  const units = minimization ? 1 : epsilons.length;
  // White-box models count their forward and backward passes per sample, whatever the attack's threat model.
  const passes = model.kind === 'model' ? new PassLedger(n, maxPasses, norm, units) : undefined;
  const rows = epsilons.map(() => [] as tf.Tensor[]);
  const rawParts: tf.Tensor[] = [];
  const success: boolean[][] = epsilons.map(() => []);
  const distances = new Float32Array(n);
  let lastYield = Date.now();
  const quantBefore = epsilons.map(() => 0);
  const quantSurvived = epsilons.map(() => 0);

  /** Throws `INVALID_SHAPE` unless the attack's output `adv` is a tensor shaped like its batch `xb`. */
  const checkOutput = (adv: unknown, xb: tf.Tensor): void => {
    if (!(adv instanceof tf.Tensor)) {
      throw new AdvxError('INVALID_SHAPE', `${meta.name} returned no tensor; expected a batch of shape [${xb.shape.join(', ')}].`);
    }
    if (adv.shape.join() !== xb.shape.join()) {
      throw new AdvxError('INVALID_SHAPE', `${meta.name} returned a result of shape [${adv.shape.join(', ')}]; expected [${xb.shape.join(', ')}].`);
    }
  };

  /** Predicts `out` (after 8-bit rounding when asked); returns the final tensor and per-row success. */
  const settle = async (out: tf.Tensor, xb: tf.Tensor, offset: number, e: number | undefined): Promise<{ t: tf.Tensor; ok: boolean[] }> => {
    if (run.quantize === undefined) {
      const pred = await predict(model, out, counts, offset);
      return { t: out, ok: reached(pred, goalValues.classes, offset, goalValues.targeted) };
    }
    const pre = reached(await predict(model, out, counts, offset), goalValues.classes, offset, goalValues.targeted);
    const q = quantizeToward(out, xb, model.bounds, 255);
    out.dispose();
    const ok = reached(await predict(model, q, counts, offset), goalValues.classes, offset, goalValues.targeted);
    if (e !== undefined) {
      quantBefore[e] = (quantBefore[e] as number) + pre.filter(Boolean).length;
      quantSurvived[e] = (quantSurvived[e] as number) + pre.filter((p, i) => p && ok[i]).length;
    }
    return { t: q, ok };
  };

  const disposeAll = () => {
    for (const r of rows) tf.dispose(r);
    tf.dispose(rawParts);
  };

  try {
    for (let b = 0; b < batches; b++) {
      const offset = b * rowsPerBatch;
      const size = Math.min(rowsPerBatch, n - offset);
      const xb = tf.slice(x, offset, size);
      const classes = tf.tensor1d(goalValues.classes.subarray(offset, offset + size), 'int32');
      const labels = goalValues.labels ? tf.tensor1d(goalValues.labels.subarray(offset, offset + size), 'int32') : undefined;
      const resolved: ResolvedGoal = { targeted: goalValues.targeted, classes, labels };
      let active: tf.Tensor1D | undefined;
      let inactiveMask: tf.Tensor | undefined;
      try {
        if (model.kind === 'model' && b === 0) {
          const logits = tf.tidy(() => model.logits(xb));
          try {
            await assertLogitsOutput(logits);
          } finally {
            logits.dispose();
          }
        }
        const cleanPred = await predict(model, xb, counts, offset);
        const cleanAdv = reached(cleanPred, goalValues.classes, offset, goalValues.targeted);
        active = tf.tensor1d(
          cleanAdv.map((a) => (a ? 0 : 1)),
          'bool',
        );
        const inactive = tf.logicalNot(active);
        inactiveMask = inactive;
        const activeMask = active;

        const perturbOnce = async (epsilon: number, unit: number): Promise<tf.Tensor> => {
          const scope: BatchScope<AttackOptions<S, N>> = {
            def,
            options,
            model,
            offset,
            seed,
            batchSize,
            epsilon,
            norm,
            counts,
            passes,
            checkpoint: async (step, steps) => {
              if (signal?.aborted) throw abortedError(ABORTED_WHO);
              passes?.checkpoint();
              if (run.onProgress) {
                const progress: Progress = {
                  fraction: Math.min(1, (b * units + unit + (steps > 0 ? step / steps : 0)) / (batches * units)),
                  batch: b,
                  batches,
                  epsilonIndex: unit,
                  step,
                  steps,
                };
                run.onProgress(progress);
                if (signal?.aborted) throw abortedError(ABORTED_WHO);
              }
              if (Date.now() - lastYield > YIELD_EVERY_MS) {
                await yieldToEventLoop();
                lastYield = Date.now();
              }
            },
          };
          const ctx = makeContext(scope, { x: xb, goal: resolved, active: activeMask, rng: new BatchRng(seed, offset, size), index: undefined });
          // No engine scope spans an await here: tfjs scopes form one global stack, so a scope left open
          // across an await would capture (and later free) tensors of any other code running meanwhile,
          // such as a second run on the same engine. The attack's math releases its own intermediates
          // (every synchronous step in tf.tidy); the base owns and releases what perturb returns.
          passes?.begin(offset, xb, resolved, epsilon);
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
            if (!stopped) checkOutput(adv, xb);
            if (passes?.limited) {
              const settled = passes.settle(adv, unit);
              if (adv !== undefined && settled !== adv && adv !== xb) adv.dispose();
              adv = settled;
            }
          } catch (err) {
            if (adv instanceof tf.Tensor && adv !== xb && !adv.isDisposed) adv.dispose();
            throw err;
          } finally {
            passes?.end();
          }
          const out = adv as tf.Tensor;
          try {
            return tf.tidy(() => {
              const bounded = minimization ? ctx.clip(out) : ctx.project(out);
              return whereRows(inactive, xb, bounded);
            });
          } finally {
            if (out !== xb && !out.isDisposed) out.dispose();
          }
        };

        if (minimization) {
          const { t: raw, ok: rawOk } = await settle(await perturbOnce(Infinity, 0), xb, offset, undefined);
          rawParts.push(raw);
          const d = await dataAndDispose(norm.distance(raw, xb));
          rawOk.forEach((ok, i) => (distances[offset + i] = ok ? (d[i] as number) : Infinity));
          for (let e = 0; e < epsilons.length; e++) {
            const eps = epsilons[e] as number;
            const projected = tf.tidy(() => {
              const delta = norm.project(tf.sub(raw, xb), eps);
              return tf.clipByValue(tf.add(xb, delta), model.bounds[0], model.bounds[1]);
            });
            const { t: clipped, ok } = await settle(projected, xb, offset, e);
            (rows[e] as tf.Tensor[]).push(clipped);
            (success[e] as boolean[]).push(...ok);
          }
        } else {
          const perEps: tf.Tensor[] = [];
          const okPerEps: boolean[][] = [];
          for (let e = 0; e < epsilons.length; e++) {
            const { t: out, ok } = await settle(await perturbOnce(epsilons[e] as number, e), xb, offset, e);
            (rows[e] as tf.Tensor[]).push(out);
            perEps.push(out);
            okPerEps.push(ok);
            (success[e] as boolean[]).push(...ok);
          }
          const raw = tf.tidy(() => {
            let best = perEps[perEps.length - 1] as tf.Tensor;
            for (let e = perEps.length - 2; e >= 0; e--) {
              best = whereRows(tf.tensor1d(okPerEps[e] as boolean[], 'bool'), perEps[e] as tf.Tensor, best);
            }
            return tf.clone(best);
          });
          rawParts.push(raw);
          const d = await dataAndDispose(norm.distance(raw, xb));
          for (let i = 0; i < size; i++) {
            const any = okPerEps.some((ok) => ok[i]);
            distances[offset + i] = any ? (d[i] as number) : Infinity;
          }
        }
      } finally {
        active?.dispose();
        inactiveMask?.dispose();
        xb.dispose();
        classes.dispose();
        labels?.dispose();
      }
    }
  } catch (err) {
    disposeAll();
    throw err;
  }

  const concat = (parts: tf.Tensor[]): tf.Tensor => {
    if (parts.length === 1) return parts[0] as tf.Tensor;
    const joined = tf.concat(parts, 0);
    tf.dispose(parts);
    return joined;
  };
  const clipped = rows.map(concat);
  const raw = concat(rawParts);
  run.onProgress?.({ fraction: 1, batch: batches - 1, batches, epsilonIndex: Math.max(0, units - 1), step: 0, steps: 0 });
  let disposed = false;
  const result: AttackResult = {
    epsilons,
    raw,
    clipped,
    success,
    distances,
    ...(counts ? { queries: counts } : {}),
    ...(passes
      ? {
          passes: passes.totals(),
          samplePasses: passes.samplePasses(),
          ...(passes.limited ? { budget: { maxPasses, exhausted: passes.exhausted } } : {}),
        }
      : {}),
    ...(run.quantize !== undefined ? { quantization: { levels: 255, before: quantBefore, survived: quantSurvived } } : {}),
    dispose: () => {
      if (disposed) return;
      disposed = true;
      tf.dispose([raw, ...clipped]);
    },
  };
  return result;
}
