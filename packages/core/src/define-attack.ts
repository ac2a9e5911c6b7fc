import type * as tf from '@tensorflow/tfjs-core';

import type { Attack, AttackMeta, AttackResult, RunOptions } from './attack.js';
import { AdvxError } from './errors.js';
import type { Goal, ResolvedGoal } from './goals.js';
import type { AnyModel, Bounds, Model } from './model.js';
import { getNorm } from './norms/index.js';
import type { NormGeometry, NormName } from './norms/types.js';
import { option, resolveOptions, schemaDefaults, type OptionSchema, type OptionSpec, type OptionsInput, type RequiredFlag } from './options.js';
import type { BatchRng } from './rng.js';
import { runAttack } from './run-attack.js';

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
