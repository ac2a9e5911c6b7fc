/**
 * Helpers shared by the score- and decision-based attacks: the clean batch and the goal as plain
 * arrays, counted queries of any subset of rows through {@link AttackContext.query} (never the model's
 * logits), goal checks and losses on the returned rows, and model checks run before any work.
 *
 * These attacks keep their per-sample state in plain `Float32Array`s: every sample follows its own
 * seeded stream and its own query sequence, so a result does not depend on the batch size and a
 * sample that is done stops spending queries.
 *
 * Not part of the public API: the attack files are its only callers.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, type AnyModel, type AttackContext, type Rng } from '@advx/core';
import { imageShapeOf } from '@advx/core/plugin';

/** The clean batch of an attack context as plain arrays. */
export interface QueryBatch {
  /** Rows. */
  readonly n: number;
  /** Values per sample. */
  readonly size: number;
  /** The clean batch, flat `[n · size]`. */
  readonly x: Float32Array;
  /** Goal class per row: the label (untargeted) or the target (targeted). */
  readonly classes: Int32Array;
  /** Whether the goal is targeted. */
  readonly targeted: boolean;
  /** Rows that still need an adversarial (not adversarial without perturbation). */
  readonly todo: Int32Array;
}

/** Reads the clean batch, the goal classes and the rows to attack. */
export async function readBatch(ctx: AttackContext<unknown>): Promise<QueryBatch> {
  const n = ctx.n;
  const x = Float32Array.from((await ctx.x.data()) as Float32Array);
  const classes = Int32Array.from((await ctx.goal.classes.data()) as Int32Array);
  const active = await ctx.active.data();
  const todo = Int32Array.from(Array.from({ length: n }, (_, i) => i).filter((i) => active[i]));
  return { n, size: x.length / n, x, classes, targeted: ctx.goal.targeted, todo };
}

/** Row `i` of a flat batch (a copy). */
export function rowOf(flat: Float32Array, size: number, i: number): Float32Array {
  return flat.slice(i * size, (i + 1) * size);
}

/**
 * Queries `inputs` (one flat sample each) as rows `rows` of the batch, counting one query per input,
 * and returns the output row of each: probabilities, or one-hot labels for a label-only model.
 */
export async function queryRows(ctx: AttackContext<unknown>, rows: Int32Array, inputs: readonly Float32Array[]): Promise<Float32Array[]> {
  const k = inputs.length;
  if (k === 0) return [];
  const size = (inputs[0] as Float32Array).length;
  const flat = new Float32Array(k * size);
  inputs.forEach((v, j) => flat.set(v, j * size));
  const t = tf.tensor(flat, [k, ...ctx.model.inputShape], 'float32');
  let out: tf.Tensor2D | undefined;
  try {
    out = await ctx.query(t, rows);
    const values = (await out.data()) as Float32Array;
    const c = ctx.model.numClasses;
    return Array.from({ length: k }, (_, j) => values.slice(j * c, (j + 1) * c));
  } finally {
    t.dispose();
    out?.dispose();
  }
}

/** Index of the first largest entry (the rule of `tf.argMax`). */
export function argMax(p: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < p.length; j++) if ((p[j] as number) > (p[best] as number)) best = j;
  return best;
}

/** Whether an output row satisfies the goal: top-1 ≠ label (untargeted) or = target (targeted). */
export function reachedGoal(p: ArrayLike<number>, cls: number, targeted: boolean): boolean {
  const top = argMax(p);
  return targeted ? top === cls : top !== cls;
}

/** Smallest probability taken into a logarithm (the float32 normal minimum). */
const P_MIN = 1e-38;

/**
 * Margin loss on a probability row, minimized by the attacks: `log p_y − max_{j≠y} log p_j`
 * (untargeted, label `y`) or `max_{j≠t} log p_j − log p_t` (targeted, target `t`). Differences of
 * log-probabilities equal differences of logits, so this is the logit margin of Carlini & Wagner.
 */
export function marginLoss(p: ArrayLike<number>, cls: number, targeted: boolean): number {
  let other = -Infinity;
  for (let j = 0; j < p.length; j++) if (j !== cls) other = Math.max(other, Math.log(Math.max(p[j] as number, P_MIN)));
  const own = Math.log(Math.max(p[cls] as number, P_MIN));
  return targeted ? other - own : own - other;
}

/** Cross-entropy of class `cls`, `−log p_cls`, on a probability row. */
export function crossEntropyLoss(p: ArrayLike<number>, cls: number): number {
  return -Math.log(Math.max(p[cls] as number, P_MIN));
}

/** Clips `v` in place to `[lo, hi]`. */
export function clipInPlace(v: Float32Array, lo: number, hi: number): Float32Array {
  for (let i = 0; i < v.length; i++) v[i] = Math.min(hi, Math.max(lo, v[i] as number));
  return v;
}

/** Euclidean norm of `a − b`. */
export function l2Distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    s += d * d;
  }
  return Math.sqrt(s);
}

/** A batch tensor of the context's shape from one flat row per sample. */
export function batchTensor(ctx: AttackContext<unknown>, flat: Float32Array): tf.Tensor {
  return tf.tensor(flat, ctx.x.shape, 'float32');
}

/** Throws `UNSUPPORTED_MODEL` for a label-only query model: a score-based attack needs scores. */
export function requireScores(name: string, model: AnyModel): void {
  if (model.kind === 'query' && model.output !== 'scores') {
    throw new AdvxError(
      'UNSUPPORTED_MODEL',
      `${name} is score-based and needs probabilities, but the query model returns only labels (output '${model.output}'). ` +
        "Query it with output: 'scores', or use a decision-based attack (hopSkipJump, boundaryAttack).",
    );
  }
}

/** Height, width and channels of an image input, in the short names of the pixel searches. */
export interface ImageDims {
  /** Rows. */
  readonly h: number;
  /** Columns. */
  readonly w: number;
  /** Channels (1 for `[h, w]` inputs). */
  readonly c: number;
}

/**
 * Core's {@link imageShapeOf} as {@link ImageDims}: the `[h, w, c]` (or `[h, w]`) layout of an
 * image model's input (channels last); throws `UNSUPPORTED_MODEL`, naming `name`, for other shapes
 * or images smaller than `minSide`.
 */
export function imageDims(name: string, inputShape: readonly number[], minSide: number): ImageDims {
  const { height: h, width: w, channels: c } = imageShapeOf(inputShape, name, minSide);
  return { h, w, c };
}

/** A request of a sample's search: the inputs to query next (each one flat sample). */
export type QueryRequest = readonly Float32Array[];

/**
 * One sample's search written as a generator: it yields the inputs it wants queried, receives their
 * output rows (probabilities, or one-hot labels) and returns its final point. It must keep to its
 * own query budget.
 */
export type SampleSearch = Generator<QueryRequest, Float32Array, Float32Array[]>;

/** Most rows sent to the model in one call. */
const MAX_ROWS_PER_CALL = 512;

/**
 * Runs the searches of several samples in lockstep: each round gathers the pending request of every
 * unfinished search, queries them together (in calls of at most 512 rows, each row counted against
 * its sample) and hands every search its own outputs. A search sees only its own answers, so the
 * result does not depend on which samples share a batch. Abort and progress go through
 * {@link AttackContext.checkpoint} once per round; `progress` tells the completed fraction.
 */
export async function runSearches(
  ctx: AttackContext<unknown>,
  searches: ReadonlyMap<number, SampleSearch>,
  progress: () => number,
): Promise<Map<number, Float32Array>> {
  const results = new Map<number, Float32Array>();
  const pending = new Map<number, QueryRequest>();
  for (const [row, search] of searches) {
    const first = search.next([]);
    if (first.done) results.set(row, first.value);
    else pending.set(row, first.value);
  }
  const ROUNDS = 1000;
  while (pending.size > 0) {
    await ctx.checkpoint(Math.min(ROUNDS - 1, Math.floor(progress() * ROUNDS)), ROUNDS);
    const rows: number[] = [];
    const inputs: Float32Array[] = [];
    for (const [row, request] of pending)
      for (const input of request) {
        rows.push(row);
        inputs.push(input);
      }
    const outputs: Float32Array[] = [];
    for (let start = 0; start < inputs.length; start += MAX_ROWS_PER_CALL) {
      const end = Math.min(inputs.length, start + MAX_ROWS_PER_CALL);
      outputs.push(...(await queryRows(ctx, Int32Array.from(rows.slice(start, end)), inputs.slice(start, end))));
    }
    let at = 0;
    for (const [row, request] of [...pending]) {
      const answer = outputs.slice(at, at + request.length);
      at += request.length;
      const step = (searches.get(row) as SampleSearch).next(answer);
      if (step.done) {
        pending.delete(row);
        results.set(row, step.value);
      } else {
        pending.set(row, step.value);
      }
    }
  }
  return results;
}

/**
 * The `perturb` of a per-sample search attack: starts `make(i, …)` for every row that needs an
 * adversarial, runs them in lockstep ({@link runSearches}) and returns the batch of their final
 * points (rows already adversarial stay clean). `used(q)` reports a search's queries so far, for
 * progress against `maxQueries` per sample.
 */
export async function searchEachSample(
  ctx: AttackContext<unknown>,
  maxQueries: number,
  make: (i: number, batch: QueryBatch, used: (q: number) => void) => SampleSearch,
): Promise<tf.Tensor> {
  const b = await readBatch(ctx);
  const used = new Float64Array(b.n);
  const searches = new Map<number, SampleSearch>();
  for (const i of b.todo)
    searches.set(
      i,
      make(i, b, (q) => (used[i] = q)),
    );
  const total = Math.max(1, b.todo.length * maxQueries);
  const results = await runSearches(ctx, searches, () => used.reduce((a, q) => a + q, 0) / total);
  const out = Float32Array.from(b.x);
  for (const [i, point] of results) out.set(point, i * b.size);
  return batchTensor(ctx, out);
}

/** What a decision-based search of one sample starts from (HopSkipJump, the Boundary attack). */
export interface DecisionSearchInput<O> {
  /** The clean sample, flat. */
  readonly x: Float32Array;
  /** Whether a label (or score) row of a query meets the sample's goal. */
  readonly adversarial: (p: Float32Array) => boolean;
  /** The sample's seeded stream. */
  readonly rng: Rng;
  /** The model's bounds. */
  readonly bounds: readonly [number, number];
  /** The attack's resolved options. */
  readonly options: O;
  /** Reports the search's queries so far. */
  readonly used: (q: number) => void;
}

/** {@link searchEachSample} for decision-based searches: each gets its sample's {@link DecisionSearchInput}. */
export function searchEachDecision<O extends { readonly maxQueries: number }>(
  ctx: AttackContext<O>,
  search: (input: DecisionSearchInput<O>) => SampleSearch,
): Promise<tf.Tensor> {
  return searchEachSample(ctx, ctx.options.maxQueries, (i, b, used) => {
    const cls = b.classes[i] as number;
    return search({
      x: rowOf(b.x, b.size, i),
      adversarial: (p) => reachedGoal(p, cls, b.targeted),
      rng: ctx.rng.streams[i] as Rng,
      bounds: ctx.bounds,
      options: ctx.options,
      used,
    });
  });
}

/**
 * A sample's query budget inside a {@link SampleSearch}: `yield* budget.ask(inputs)` queries the
 * inputs when they fit in what is left (else returns `undefined` without querying) and reports the
 * running count.
 */
export class SearchBudget {
  /** Queries left. */
  left: number;

  /**
   * @param max - queries the search may spend.
   * @param report - told the queries spent after every request.
   */
  constructor(
    readonly max: number,
    private readonly report: (spent: number) => void,
  ) {
    this.left = max;
  }

  /** Queries `inputs` if they fit in the budget; their output rows, or `undefined`. */
  *ask(inputs: Float32Array[]): Generator<QueryRequest, Float32Array[] | undefined, Float32Array[]> {
    if (inputs.length === 0 || inputs.length > this.left) return undefined;
    this.left -= inputs.length;
    this.report(this.max - this.left);
    return yield inputs;
  }
}

/**
 * The usual start of a decision-based search: uniform noise in the bounds, redrawn until it satisfies
 * the goal (at most `tries` draws), then blended towards `x` by binary search on the blend factor
 * (to 0.001) — the initialization of HopSkipJump's code. `undefined` when no draw satisfies the goal
 * within the tries or the budget.
 */
export function* blendedNoiseStart(
  x: Float32Array,
  adversarial: (p: Float32Array) => boolean,
  rng: Rng,
  bounds: readonly [number, number],
  tries: number,
  budget: SearchBudget,
): Generator<QueryRequest, Float32Array | undefined, Float32Array[]> {
  const [lo, hi] = bounds;
  let noise: Float32Array | undefined;
  for (let t = 0; t < tries && noise === undefined; t++) {
    const candidate = Float32Array.from(x, () => lo + (hi - lo) * rng.uniform());
    const out = yield* budget.ask([candidate]);
    if (!out) return undefined;
    if (adversarial(out[0] as Float32Array)) noise = candidate;
  }
  if (noise === undefined) return undefined;
  const blend = (alpha: number) => Float32Array.from(x, (v, i) => (1 - alpha) * v + alpha * (noise[i] as number));
  let low = 0;
  let high = 1;
  while (high - low > 0.001) {
    const mid = (high + low) / 2;
    const out = yield* budget.ask([blend(mid)]);
    if (!out) break;
    if (adversarial(out[0] as Float32Array)) high = mid;
    else low = mid;
  }
  return blend(high);
}
