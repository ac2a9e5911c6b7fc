/**
 * The APGD engine (Croce & Hein 2020; l1-APGD, Croce & Hein 2021) shared by `apgd` and `apgd-t`: the
 * checkpoints and step-size rules, one run on a set of rows (`apgdRun`), and the search over restarts
 * and groups (`apgdSearch`). The attacks' files hold their options, losses and definitions.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  gatherRows,
  linfProject,
  linfSignStep,
  option,
  scatterRows,
  whereRows,
  type AttackContext,
  type Model,
  type Objective,
  type Rng,
} from '@advx/core';

import { projectL1Box } from './l1-box-projection.js';
/** Settings of the APGD engine shared by `apgd` and `apgd-t`. @internal */
export interface ApgdConfig {
  readonly steps: number;
  readonly restarts: number;
  readonly randomStart: boolean;
  readonly rho: number;
  readonly alpha: number;
  readonly earlyStop: boolean;
  /** Forward/backward passes averaged per gradient (EOT); absent = 1. */
  readonly eotSteps?: number;
}

/** A loss for one run of the engine on a subset of rows. @internal */
export interface ApgdLoss {
  /** Per-sample loss to ascend, `[m, C] → [m]`. */
  readonly objective: Objective;
  /** Bool `[m]`: rows of `logits` that are adversarial (counted as success, kept as soon as found). */
  readonly isAdversarial: (logits: tf.Tensor2D) => tf.Tensor1D;
  /** Tensors owned by this loss, released after the run. */
  readonly tensors: readonly tf.Tensor[];
}

/**
 * The checkpoints `w_j = ⌈p_j·N⌉` of APGD (Croce & Hein 2020, §3.2): `p₀ = 0`, `p₁ = 0.22`,
 * `p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06)`. Computed in exact integer hundredths (floating
 * point gives `0.41·100 = 41.000000000000007`, whose ceiling is 42). Returns the distinct `w_j < N`
 * in increasing order, `w₀ = 0` first (later ones are never reached by the loop `k = 1 … N − 1`).
 *
 * @internal
 */
export function apgdCheckpoints(steps: number): number[] {
  const out = [0];
  let prev = 0;
  let p = 22;
  for (;;) {
    const w = Math.ceil((p * steps) / 100);
    if (w >= steps) return out;
    if (w !== out[out.length - 1]) out.push(w);
    const next = p + Math.max(p - prev - 3, 6);
    prev = p;
    p = next;
  }
}

/**
 * Per-sample bookkeeping of APGD's step-size rule (Croce & Hein 2020, Algorithm 1 and §3.2), in
 * plain numbers so that it can be tested on hand-made loss sequences. Feed it `f(x^(0))` at
 * construction, then `observe(k, f(x^(k+1)))` for `k = 0 … N − 1`.
 *
 * At a checkpoint `k = w_j` (k ≥ 1), after the best point has been updated with `x^(k+1)`, η is
 * halved and `x^(k+1)` replaced by `x_max` when
 * 1. fewer than `ρ·(w_j − w_{j−1})` of the comparisons `f(x^(i+1)) > f(x^(i))`,
 *    `i = w_{j−1} … w_j − 1`, were increases, or
 * 2. η was not halved at `w_{j−1}` and `f_max` did not increase since `w_{j−1}`.
 *
 * After a halving, the replaced iterate has loss `f_max`, which is what later comparisons see.
 *
 * @internal
 */
export class ApgdStepSize {
  /** Current step size η per sample. */
  eta: Float64Array;
  /** Highest loss found so far per sample. */
  fMax: Float64Array;
  private fPrev: Float64Array;
  private increases: Int32Array;
  private fMaxAtCheck: Float64Array;
  private halvedAtCheck: Uint8Array;
  private readonly checkpoints: ReadonlySet<number>;
  private lastCheck = 0;

  constructor(
    f0: ArrayLike<number>,
    eta0: number,
    steps: number,
    private readonly rho: number,
  ) {
    const n = f0.length;
    this.eta = new Float64Array(n).fill(eta0);
    this.fMax = Float64Array.from(f0);
    this.fPrev = Float64Array.from(f0);
    this.increases = new Int32Array(n);
    this.fMaxAtCheck = Float64Array.from(f0);
    this.halvedAtCheck = new Uint8Array(n);
    this.checkpoints = new Set(apgdCheckpoints(steps).slice(1));
  }

  /**
   * Records `f = f(x^(k+1))` per sample. Returns `improved` (x^(k+1) is the new best point) and
   * `halved` (η was halved: restart from the best point).
   */
  observe(k: number, f: ArrayLike<number>): { improved: Uint8Array; halved: Uint8Array } {
    const n = this.eta.length;
    const improved = new Uint8Array(n);
    const halved = new Uint8Array(n);
    const check = this.checkpoints.has(k);
    const window = k - this.lastCheck;
    for (let i = 0; i < n; i++) {
      let fk = f[i] as number;
      if (fk > (this.fMax[i] as number)) {
        this.fMax[i] = fk;
        improved[i] = 1;
      }
      if (check) {
        const condition1 = (this.increases[i] as number) < this.rho * window;
        const condition2 = !this.halvedAtCheck[i] && (this.fMax[i] as number) <= (this.fMaxAtCheck[i] as number);
        const halve = condition1 || condition2;
        if (halve) {
          this.eta[i] = (this.eta[i] as number) / 2;
          halved[i] = 1;
          fk = this.fMax[i] as number;
        }
        this.halvedAtCheck[i] = halve ? 1 : 0;
        this.fMaxAtCheck[i] = this.fMax[i] as number;
        this.increases[i] = 0;
      }
      if (fk > (this.fPrev[i] as number)) this.increases[i] = (this.increases[i] as number) + 1;
      this.fPrev[i] = fk;
    }
    if (check) this.lastCheck = k;
    return { improved, halved };
  }

  /** Keeps the samples `rows` (ascending indices) only, in that order. */
  keep(rows: Int32Array): void {
    this.eta = pickRows(this.eta, rows);
    this.fMax = pickRows(this.fMax, rows);
    this.fPrev = pickRows(this.fPrev, rows);
    this.increases = pickRows(this.increases, rows);
    this.fMaxAtCheck = pickRows(this.fMaxAtCheck, rows);
    this.halvedAtCheck = pickRows(this.halvedAtCheck, rows);
  }
}

/** Entries `rows` of a per-sample array. */
function pickRows<T extends Float64Array | Int32Array | Uint8Array>(values: T, rows: Int32Array): T {
  const out = new (values.constructor as new (n: number) => T)(rows.length);
  rows.forEach((r, j) => (out[j] = values[r] as number));
  return out;
}

/**
 * Runs the step-size rule on one sample's sequence `f(x^(0)), …, f(x^(N))` with η₀ = 1. Returns
 * the iterations `k` at which η was halved and η after each iteration.
 *
 * @internal
 */
export function apgdStepSizeTrace(losses: readonly number[], rho = 0.75): { halvedAt: number[]; eta: number[] } {
  const steps = losses.length - 1;
  const rule = new ApgdStepSize([losses[0] as number], 1, steps, rho);
  const halvedAt: number[] = [];
  const eta: number[] = [];
  for (let k = 0; k < steps; k++) {
    const { halved } = rule.observe(k, [losses[k + 1] as number]);
    if (halved[0]) halvedAt.push(k);
    eta.push(rule.eta[0] as number);
  }
  return { halvedAt, eta };
}

/**
 * Per-sample bookkeeping of l1-APGD's step size and sparsity (Croce & Hein 2021, §4, as in the
 * authors' `autopgd_base.py`), in plain numbers. η starts at ε and the fraction of coordinates a
 * step moves at 0.2. Every `max(⌊0.04·N⌋, 1)` iterations (a checkpoint), with `s` the number of
 * non-zero entries of `x_max − x` and `s_old` its value at the previous checkpoint (`d` at first):
 * the fraction becomes `s/(1.5·d)`; where `s/s_old < 0.95` (x_max got sparser) η is reset to ε and
 * the iterate restarts from `x_max`, elsewhere η is divided by 1.5; η stays in [ε/10, ε].
 *
 * @internal
 */
export class ApgdL1StepSize {
  /** Current step size η per sample. */
  eta: Float64Array;
  /** Highest loss found so far per sample. */
  fMax: Float64Array;
  /** Fraction of the coordinates a step moves, per sample. */
  topk: Float64Array;
  /** Iterations between checkpoints. */
  readonly interval: number;
  private spOld: Float64Array;

  constructor(
    f0: ArrayLike<number>,
    private readonly epsilon: number,
    steps: number,
    private readonly d: number,
  ) {
    const n = f0.length;
    this.eta = new Float64Array(n).fill(epsilon);
    this.fMax = Float64Array.from(f0);
    this.topk = new Float64Array(n).fill(0.2);
    this.spOld = new Float64Array(n).fill(d);
    this.interval = Math.max(Math.floor(0.04 * steps), 1);
  }

  /**
   * Coordinates a step moves per sample: those whose |g| reaches the entry at ascending sorted
   * position `min(⌊(1 − topk)·d⌋, d − 1)`, i.e. the `d − min(⌊(1 − topk)·d⌋, d − 1)` largest (≥ 1).
   */
  coordinates(): Int32Array {
    const d = this.d;
    return Int32Array.from(this.topk, (t) => d - Math.min(Math.max(Math.floor((1 - t) * d), 0), d - 1));
  }

  /** Records `f(x^(k+1))` per sample; returns where it is the new best point (strictly higher loss). */
  observe(f: ArrayLike<number>): Uint8Array {
    const improved = new Uint8Array(this.fMax.length);
    for (let i = 0; i < improved.length; i++) {
      if ((f[i] as number) > (this.fMax[i] as number)) {
        this.fMax[i] = f[i] as number;
        improved[i] = 1;
      }
    }
    return improved;
  }

  /** Whether iteration `k` (0-based, after `x^(k+1)` was observed) ends with a checkpoint. */
  isCheckpoint(k: number): boolean {
    return (k + 1) % this.interval === 0;
  }

  /** Applies a checkpoint given the sparsity of `x_max − x` per sample; returns where to restart from `x_max`. */
  check(sparsity: ArrayLike<number>): Uint8Array {
    const reset = new Uint8Array(this.eta.length);
    const eps = this.epsilon;
    for (let i = 0; i < reset.length; i++) {
      const sp = sparsity[i] as number;
      reset[i] = sp / (this.spOld[i] as number) < 0.95 ? 1 : 0;
      this.topk[i] = sp / this.d / 1.5;
      const eta = reset[i] ? eps : (this.eta[i] as number) / 1.5;
      this.eta[i] = Math.min(Math.max(eta, eps / 10), eps);
      this.spOld[i] = sp;
    }
    return reset;
  }

  /** Keeps the samples `rows` (ascending indices) only, in that order. */
  keep(rows: Int32Array): void {
    this.eta = pickRows(this.eta, rows);
    this.fMax = pickRows(this.fMax, rows);
    this.topk = pickRows(this.topk, rows);
    this.spOld = pickRows(this.spOld, rows);
  }
}

/**
 * The sparse step direction of l1-APGD: `sign(g)` on the `coordinates[i]` entries of row `i` with
 * the largest `|g|` (ties included), divided by their number, so the step has L1 norm 1. Entries
 * that sit on a bound with the gradient pointing out of the box are left out before ranking
 * (Croce & Hein 2021, §3: they cannot move, and the projection would clip their share of the step
 * away; the authors' code ranks all entries and lets the projection discard those shares, so this
 * only moves the budget of a step onto coordinates that can use it). Rows without a usable entry
 * give a zero direction.
 *
 * @internal
 */
export function l1ApgdDirection(grad: tf.Tensor, xk: tf.Tensor, coordinates: Int32Array, lo: number, hi: number): tf.Tensor {
  return tf.tidy(() => {
    const m = grad.shape[0] as number;
    const g = tf.reshape(tf.cast(grad, 'float32'), [m, -1]) as tf.Tensor2D;
    const xf = tf.reshape(xk, [m, -1]);
    const d = g.shape[1];
    const blocked = tf.logicalOr(tf.logicalAnd(tf.lessEqual(xf, lo), tf.less(g, 0)), tf.logicalAnd(tf.greaterEqual(xf, hi), tf.greater(g, 0)));
    const magnitude = tf.where(blocked, tf.zerosLike(g), tf.abs(g));
    const sorted = tf.topk(magnitude, d, true).values;
    // Column k − 1 of each row, selected by comparison (wasm's float32 oneHot writes integer bits).
    const last = tf.tensor2d(
      Int32Array.from(coordinates, (k) => k - 1),
      [m, 1],
      'int32',
    );
    const at = tf.cast(tf.equal(tf.reshape(tf.range(0, d, 1, 'int32'), [1, d]), last), 'float32');
    const threshold = tf.sum(tf.mul(sorted, at), 1, true);
    const chosen = tf.cast(tf.logicalAnd(tf.greaterEqual(magnitude, threshold), tf.greater(magnitude, 0)), 'float32');
    const count = tf.maximum(tf.sum(chosen, 1, true), 1);
    return tf.reshape(tf.div(tf.mul(tf.sign(g), chosen), count), grad.shape);
  });
}

interface Evaluation {
  readonly value: tf.Tensor1D;
  readonly adversarial: tf.Tensor1D;
  readonly grad: tf.Tensor | undefined;
}

/**
 * Loss, adversarial flags and (optionally) the gradient of the loss at `x`, in one pass. With
 * `eotSteps = k > 1` (expectation over a randomized model's passes, `eot_iter` of the authors'
 * `autopgd_base.py`) the gradient is the mean of `k` forward/backward passes and the loss and flags
 * are those of the last pass, as there; without the gradient a single forward pass gives them.
 */
function evaluate(model: Model, x: tf.Tensor, loss: ApgdLoss, withGrad: boolean, eotSteps = 1): Evaluation {
  if (withGrad && eotSteps > 1) {
    return tf.tidy(() => {
      let sum: tf.Tensor | undefined;
      let last: Evaluation | undefined;
      for (let i = 0; i < eotSteps; i++) {
        const pass = evaluate(model, x, loss, true);
        const g = pass.grad as tf.Tensor;
        const total: tf.Tensor = sum === undefined ? g : tf.add(sum, g);
        if (sum !== undefined) tf.dispose([sum, g]);
        sum = total;
        if (last) tf.dispose([last.value, last.adversarial]);
        last = pass;
      }
      const { value, adversarial } = last as Evaluation;
      return { value, adversarial, grad: tf.div(sum as tf.Tensor, eotSteps) };
    });
  }
  if (!withGrad) {
    return tf.tidy(() => {
      const logits = model.logits(x);
      return { value: loss.objective(logits), adversarial: loss.isAdversarial(logits), grad: undefined };
    });
  }
  return tf.tidy(() => {
    const m = x.shape[0] as number;
    const c = model.numClasses;
    const { value, grads } = tf.engine().gradients(
      () => {
        const logits = model.logits(x);
        return tf.concat([tf.expandDims(loss.objective(logits), 1), logits], 1) as tf.Tensor2D;
      },
      [x],
      tf.concat([tf.ones([m, 1]), tf.zeros([m, c])], 1) as tf.Tensor2D,
      true,
    );
    const logits = tf.slice(value, [0, 1], [m, c]) as tf.Tensor2D;
    return {
      value: tf.reshape(tf.slice(value, [0, 0], [m, 1]), [m]) as tf.Tensor1D,
      adversarial: loss.isAdversarial(logits),
      grad: grads[0] ?? tf.zerosLike(x),
    };
  });
}

/** Reads a loss vector and a bool vector in one transfer and releases the evaluation's tensors. */
async function readBack(e: Evaluation): Promise<{ f: Float64Array; adv: Uint8Array }> {
  const m = e.value.shape[0];
  const packed = tf.tidy(() => tf.concat([tf.cast(e.value, 'float32'), tf.cast(e.adversarial, 'float32')]));
  const data = await packed.data();
  tf.dispose([packed, e.value, e.adversarial]);
  return { f: Float64Array.from(data.subarray(0, m)), adv: Uint8Array.from(data.subarray(m), (v) => (v ? 1 : 0)) };
}

function mask(flags: Uint8Array): tf.Tensor1D {
  return tf.tensor1d(flags, 'bool');
}

/** Outcome of one APGD run on `m` rows. @internal */
export interface ApgdOutcome {
  /** `x_max`, the point of highest loss per row. */
  readonly best: tf.Tensor;
  /** `f(x_max)` per row. */
  readonly bestLoss: Float64Array;
  /** The kept adversarial iterate per row (rows with `found[i] = 0` hold no meaning). */
  readonly adversarial: tf.Tensor;
  /** Whether an adversarial iterate was found per row. */
  readonly found: Uint8Array;
}

/**
 * The rows of one APGD run still running, and what the others found. With early stop, rows that
 * found an adversarial leave the run once at most 3/4 of its rows are still running (the schedule of
 * the base's `iterate`): the run stops computing them, and their kept adversarial is put back in the
 * outcome unchanged, so results are those of a run over every row, bit for bit.
 */
class RunRows {
  /** Positions of the running rows among the run's rows. */
  private pos: Int32Array;
  /** Clean inputs of the running rows. */
  x: tf.Tensor;
  /** The loss of the running rows. */
  loss: ApgdLoss;
  /** Run-sized; rows that left hold their adversarial (`undefined` until some leave). */
  private left: tf.Tensor | undefined;
  /** The model of the running rows (its passes count against them). */
  model: Model;
  private readonly bestLoss: Float64Array;
  private readonly found: Uint8Array;

  constructor(
    private readonly x0: tf.Tensor,
    private readonly batchRows: Int32Array,
    private readonly lossFor: (rows: Int32Array) => ApgdLoss,
    private readonly modelFor: (rows: Int32Array) => Model,
  ) {
    this.pos = Int32Array.from(batchRows.keys());
    this.x = x0;
    this.loss = lossFor(batchRows);
    this.model = modelFor(batchRows);
    this.bestLoss = new Float64Array(batchRows.length);
    this.found = new Uint8Array(batchRows.length);
  }

  /** Running rows. */
  get m(): number {
    return this.pos.length;
  }

  /** The first evaluation of the run (from `evaluation`); the run is released if it throws. */
  first(evaluation: () => Evaluation): Evaluation {
    try {
      return evaluation();
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /**
   * After a step: once at most 3/4 of the running rows are still without an adversarial (`found`),
   * the others leave (see {@link RunRows.shrink}) and `tensors` (per running row, released), the step-size
   * `rule`, `found` and `fAdv` are cut to the rows that stay. Returns them cut, or `undefined` when no row leaves.
   */
  prune<T extends tf.Tensor[], F extends Uint8Array, A extends Float64Array>(
    found: F,
    fAdv: A,
    rule: { readonly fMax: Float64Array; keep(rows: Int32Array): void },
    xAdv: tf.Tensor,
    tensors: [...T],
  ): { tensors: T; found: F; fAdv: A } | undefined {
    const keep = Int32Array.from(Array.from(found.keys()).filter((j) => !found[j]));
    if (keep.length === 0 || keep.length > 0.75 * found.length) return undefined;
    const cut = this.shrink(keep, rule.fMax, xAdv, tensors) as T;
    rule.keep(keep);
    return { tensors: cut, found: pickRows(found, keep), fAdv: pickRows(fAdv, keep) };
  }

  /**
   * Keeps the running rows `keep` (indices among them); the others, adversarial (`found`), leave with
   * their `xAdv` and loss `fMax`. Returns `tensors` (per running row) cut to `keep`, releasing them.
   */
  private shrink(keep: Int32Array, fMax: Float64Array, xAdv: tf.Tensor, tensors: readonly tf.Tensor[]): tf.Tensor[] {
    const kept = new Set(keep);
    const leaving = Int32Array.from(Array.from(this.pos.keys()).filter((j) => !kept.has(j)));
    const at = Int32Array.from(leaving, (j) => this.pos[j] as number);
    const previous = this.left;
    this.left = previous ? tf.tidy(() => scatterRows(previous, gatherRows(xAdv, leaving), at)) : tf.clone(xAdv);
    previous?.dispose();
    leaving.forEach((j, i) => {
      this.bestLoss[at[i] as number] = fMax[j] as number;
      this.found[at[i] as number] = 1;
    });
    const x = gatherRows(this.x, keep);
    if (this.x !== this.x0) this.x.dispose();
    this.x = x;
    tf.dispose([...this.loss.tensors]);
    this.pos = Int32Array.from(keep, (j) => this.pos[j] as number);
    const running = Int32Array.from(this.pos, (p) => this.batchRows[p] as number);
    this.loss = this.lossFor(running);
    this.model = this.modelFor(running);
    return tensors.map((t) => {
      const g = gatherRows(t, keep);
      t.dispose();
      return g;
    });
  }

  /**
   * The run's outcome over all its rows, from the running rows' `xMax`, `xAdv` (both taken over),
   * `fMax` and `found`; releases the run.
   */
  finish(xMax: tf.Tensor, xAdv: tf.Tensor, fMax: Float64Array, found: Uint8Array): ApgdOutcome {
    const outcome = this.outcome(xMax, xAdv, fMax, found);
    this.dispose();
    return outcome;
  }

  /** After a failure or an abort between steps: releases the run and the iterates it was given. */
  abandon(iterates: readonly tf.Tensor[]): void {
    tf.dispose([...iterates]);
    this.dispose();
  }

  private outcome(xMax: tf.Tensor, xAdv: tf.Tensor, fMax: Float64Array, found: Uint8Array): ApgdOutcome {
    const left = this.left;
    if (left === undefined) return { best: xMax, bestLoss: Float64Array.from(fMax), adversarial: xAdv, found };
    this.left = undefined;
    this.pos.forEach((p, j) => {
      this.bestLoss[p] = fMax[j] as number;
      this.found[p] = found[j] as number;
    });
    // Rows that left have their adversarial as `best` too: with `found` set, only `adversarial` is read.
    const outcome = { best: scatterRows(left, xMax, this.pos), bestLoss: this.bestLoss, adversarial: scatterRows(left, xAdv, this.pos), found: this.found };
    tf.dispose([left, xMax, xAdv]);
    return outcome;
  }

  /** Releases the run's own tensors (not the caller's rows `x0`). */
  dispose(): void {
    tf.dispose([...this.loss.tensors, ...(this.left ? [this.left] : [])]);
    if (this.x !== this.x0) this.x.dispose();
  }
}

/** Everything one APGD run needs besides its rows. @internal */
export interface ApgdRunSettings {
  /** The model of some batch rows, counting its passes against them (`ctx.whiteBox(rows)`). */
  readonly model: (rows: Int32Array) => Model;
  readonly ctx: Pick<AttackContext<unknown>, 'norm' | 'epsilon' | 'bounds'>;
  readonly config: ApgdConfig;
  /** Abort and progress point, called with the iteration index. */
  readonly checkpoint: (k: number) => Promise<void>;
}

/**
 * The start of one APGD run (either norm) on rows `x` from `start`: its {@link RunRows}, the first
 * evaluation with its gradient and losses `f0`, the adversarial flags and losses found there, and the
 * iterate, best point, its gradient and kept adversarial, each a copy of the start.
 */
async function beginRun(settings: ApgdRunSettings, x: tf.Tensor, start: tf.Tensor, rows: Int32Array, lossFor: (rows: Int32Array) => ApgdLoss) {
  const run = new RunRows(x, rows, lossFor, settings.model);
  const first = run.first(() => evaluate(run.model, start, run.loss, true, settings.config.eotSteps));
  const gk = first.grad as tf.Tensor;
  const { f: f0, adv: adv0 } = await readBack(first);
  return {
    run,
    f0,
    gk,
    found: Uint8Array.from(adv0),
    fAdv: Float64Array.from(f0, (f, i) => (adv0[i] ? f : -Infinity)),
    xk: tf.clone(start),
    xMax: tf.clone(start),
    gMax: tf.clone(gk),
    xAdv: tf.clone(start),
  };
}

/**
 * One run of APGD (Croce & Hein 2020, Algorithm 1) on rows `x` (batch rows `rows`) from `start`:
 * `x⁽¹⁾ = P(x⁽⁰⁾ + η∇f(x⁽⁰⁾))`, then `z = P(x⁽ᵏ⁾ + η∇f(x⁽ᵏ⁾))`,
 * `x⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + α(z − x⁽ᵏ⁾) + (1 − α)(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾))`, with per-row η starting at 2ε and
 * halved by {@link ApgdStepSize}. `∇` is the norm's steepest-ascent direction (sign for linf,
 * unit-L2 for l2) and `P` the projection onto the ε-ball around `x` and the bounds. `lossFor` gives
 * the loss of any subset of the batch rows (the run releases the losses it makes).
 *
 * Adversarial iterates are kept: with `earlyStop` the first one found per row, otherwise the one of
 * highest loss; with `earlyStop` a row stops being computed once it has one (see `RunRows`) and
 * the run ends when every row has. For the l1 norm the run is l1-APGD (see `apgdRunL1`).
 *
 * @internal
 */
export async function apgdRun(
  settings: ApgdRunSettings,
  x: tf.Tensor,
  start: tf.Tensor,
  rows: Int32Array,
  lossFor: (rows: Int32Array) => ApgdLoss,
): Promise<ApgdOutcome> {
  if (settings.ctx.norm.name === 'l1') return apgdRunL1(settings, x, start, rows, lossFor);
  const { config } = settings;
  const { norm, epsilon } = settings.ctx;
  const [lo, hi] = settings.ctx.bounds;
  const { steps, alpha, earlyStop } = config;
  const begun = await beginRun(settings, x, start, rows, lossFor);
  const { run, f0 } = begun;
  let { gk, found, fAdv, xk, xMax, gMax, xAdv } = begun;
  const project = (v: tf.Tensor): tf.Tensor =>
    norm.name === 'linf' ? linfProject(v, run.x, epsilon, [lo, hi]) : tf.clipByValue(tf.add(run.x, norm.project(tf.sub(v, run.x), epsilon)), lo, hi);
  const rule = new ApgdStepSize(f0, 2 * epsilon, steps, config.rho);
  let xPrev = tf.clone(start);

  try {
    for (let k = 0; k < steps; k++) {
      if (earlyStop && found.every((v) => v === 1)) break;
      await settings.checkpoint(k);
      const m = run.m;
      const column = [m, ...new Array<number>(x.rank - 1).fill(1)];
      const etaValues = Float32Array.from(rule.eta);
      const cur = xk;
      const prev = xPrev;
      const grad = gk;
      const next = tf.tidy(() => {
        const z =
          norm.name === 'linf'
            ? linfSignStep(cur, grad, run.x, tf.tensor1d(etaValues), epsilon, [lo, hi])
            : project(tf.add(cur, tf.mul(tf.reshape(tf.tensor1d(etaValues), column), norm.normalizeGradient(grad))));
        if (k === 0) return z;
        const momentum = tf.add(tf.mul(tf.sub(z, cur), alpha), tf.mul(tf.sub(cur, prev), 1 - alpha));
        return project(tf.add(cur, momentum));
      });
      const ev = evaluate(run.model, next, run.loss, k + 1 < steps, config.eotSteps);
      const gNext = ev.grad;
      const { f, adv } = await readBack(ev);
      const { improved, halved } = rule.observe(k, f);
      const record = recordAdversarial(adv, f, found, fAdv, earlyStop);
      xMax = updateRows(improved, next, xMax);
      if (gNext) gMax = updateRows(improved, gNext, gMax);
      xAdv = updateRows(record, next, xAdv);
      let xNext = next;
      let gradNext = gNext;
      if (halved.includes(1)) {
        xNext = tf.tidy(() => whereRows(mask(halved), xMax, next));
        next.dispose();
        if (gNext) {
          gradNext = tf.tidy(() => whereRows(mask(halved), gMax, gNext));
          gNext.dispose();
        }
      }
      tf.dispose([prev, grad]);
      xPrev = cur;
      xk = xNext;
      gk = gradNext ?? tf.zerosLike(xNext);
      const cut = earlyStop && k + 1 < steps ? run.prune(found, fAdv, rule, xAdv, [xk, xPrev, gk, xMax, gMax, xAdv]) : undefined;
      if (cut)
        ({
          tensors: [xk, xPrev, gk, xMax, gMax, xAdv],
          found,
          fAdv,
        } = cut);
    }
  } catch (err) {
    run.abandon([xMax, xAdv]);
    throw err;
  } finally {
    tf.dispose([xk, xPrev, gk, gMax]);
  }
  return run.finish(xMax, xAdv, rule.fMax, found);
}

/**
 * Marks the rows whose new iterate is kept as their adversarial: adversarial (`adv`) and either the
 * first found, or (without early stop) of higher loss than the kept one. Updates `found` and `fAdv`.
 */
function recordAdversarial(adv: Uint8Array, f: Float64Array, found: Uint8Array, fAdv: Float64Array, earlyStop: boolean): Uint8Array {
  const record = new Uint8Array(adv.length);
  for (let i = 0; i < adv.length; i++) {
    if (adv[i] && (!found[i] || (!earlyStop && (f[i] as number) > (fAdv[i] as number)))) {
      record[i] = 1;
      found[i] = 1;
      fAdv[i] = f[i] as number;
    }
  }
  return record;
}

/** Replaces the rows of `b` flagged in `flags` by those of `a` (releasing `b`); returns `b` itself when none is. */
function updateRows(flags: Uint8Array, a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (!flags.includes(1)) return b;
  const out = tf.tidy(() => whereRows(mask(flags), a, b));
  b.dispose();
  return out;
}

/**
 * One run of l1-APGD (Croce & Hein 2021, §4; the `L1` branch of the authors' `autopgd_base.py`) on
 * rows `x` from `start`: `x⁽ᵏ⁺¹⁾ = x + P(x⁽ᵏ⁾ + η·s(∇f(x⁽ᵏ⁾)) − x)` without momentum, where `s` is
 * {@link l1ApgdDirection} and `P` the exact projection onto the ε-L1 ball ∩ the bounds
 * ({@link projectL1Box}); η and the sparsity of `s` follow {@link ApgdL1StepSize}. Best-point and
 * adversarial bookkeeping, and the rows that leave, as in {@link apgdRun}.
 */
async function apgdRunL1(
  settings: ApgdRunSettings,
  x: tf.Tensor,
  start: tf.Tensor,
  rows: Int32Array,
  lossFor: (rows: Int32Array) => ApgdLoss,
): Promise<ApgdOutcome> {
  const { config } = settings;
  const { epsilon } = settings.ctx;
  const [lo, hi] = settings.ctx.bounds;
  const { steps, earlyStop } = config;
  const d = x.size / (x.shape[0] as number);
  const begun = await beginRun(settings, x, start, rows, lossFor);
  const { run, f0 } = begun;
  let { gk, found, fAdv, xk, xMax, gMax, xAdv } = begun;
  const rule = new ApgdL1StepSize(f0, epsilon, steps, d);

  try {
    for (let k = 0; k < steps; k++) {
      if (earlyStop && found.every((v) => v === 1)) break;
      await settings.checkpoint(k);
      const m = run.m;
      const xs = run.x;
      const column = [m, ...new Array<number>(x.rank - 1).fill(1)];
      const etaValues = Float32Array.from(rule.eta);
      const coordinates = rule.coordinates();
      const cur = xk;
      const grad = gk;
      const next = tf.tidy(() => {
        const eta = tf.reshape(tf.tensor1d(etaValues), column);
        const v = tf.sub(tf.add(cur, tf.mul(eta, l1ApgdDirection(grad, cur, coordinates, lo, hi))), xs);
        return tf.clipByValue(tf.add(xs, projectL1Box(xs, v, epsilon, lo, hi)), lo, hi);
      });
      tf.dispose([cur, grad]);
      xk = next;
      const ev = evaluate(run.model, next, run.loss, k + 1 < steps, config.eotSteps);
      const gNext = ev.grad;
      gk = gNext ?? tf.zerosLike(next);
      const { f, adv } = await readBack(ev);
      const improved = rule.observe(f);
      const record = recordAdversarial(adv, f, found, fAdv, earlyStop);
      xMax = updateRows(improved, next, xMax);
      if (gNext) gMax = updateRows(improved, gNext, gMax);
      xAdv = updateRows(record, next, xAdv);
      if (rule.isCheckpoint(k)) {
        const counts = tf.tidy(() => tf.sum(tf.cast(tf.notEqual(tf.reshape(tf.sub(xMax, xs), [m, -1]), 0), 'float32'), 1));
        const sparsity = await counts.data();
        counts.dispose();
        const reset = rule.check(sparsity);
        xk = updateRows(reset, xMax, xk);
        gk = updateRows(reset, gMax, gk);
      }
      const cut = earlyStop && k + 1 < steps ? run.prune(found, fAdv, rule, xAdv, [xk, gk, xMax, gMax, xAdv]) : undefined;
      if (cut)
        ({
          tensors: [xk, gk, xMax, gMax, xAdv],
          found,
          fAdv,
        } = cut);
    }
  } catch (err) {
    run.abandon([xMax, xAdv]);
    throw err;
  } finally {
    tf.dispose([xk, gk, gMax]);
  }
  return run.finish(xMax, xAdv, rule.fMax, found);
}

/**
 * A random start as in the authors' code: `x + ε·t/‖t‖` on the sphere of the norm, with `t` uniform
 * in [−1, 1]^d (linf) or standard normal (l2), drawn from each row's own stream; then projected.
 * For l1: `x + P(t)` with `t` standard normal and `P` the projection onto the ε-L1 ball ∩ the bounds
 * (a sparse point on the sphere, as `L1_projection(x, t, eps)` in the authors' code).
 */
function sphereStart(ctx: AttackContext<unknown>, rows: Int32Array, xs: tf.Tensor): tf.Tensor {
  const d = xs.size / rows.length;
  const values = new Float32Array(xs.size);
  const [lo, hi] = ctx.bounds;
  if (ctx.norm.name === 'l1') {
    rows.forEach((row, p) => {
      const rng = ctx.rng.streams[row] as Rng;
      for (let j = 0; j < d; j++) values[p * d + j] = rng.normal();
    });
    return tf.tidy(() => tf.clipByValue(tf.add(xs, projectL1Box(xs, tf.tensor(values, xs.shape, 'float32'), ctx.epsilon, lo, hi)), lo, hi));
  }
  const linf = ctx.norm.name === 'linf';
  rows.forEach((row, p) => {
    const rng = ctx.rng.streams[row] as Rng;
    const t = new Float64Array(d);
    let scale = 0;
    for (let j = 0; j < d; j++) {
      const v = linf ? 2 * rng.uniform() - 1 : rng.normal();
      t[j] = v;
      scale = linf ? Math.max(scale, Math.abs(v)) : scale + v * v;
    }
    const denom = (linf ? scale : Math.sqrt(scale)) + 1e-12;
    for (let j = 0; j < d; j++) values[p * d + j] = (ctx.epsilon * (t[j] as number)) / denom;
  });
  return tf.tidy(() => {
    const delta = ctx.norm.project(tf.tensor(values, xs.shape, 'float32'), ctx.epsilon);
    return tf.clipByValue(tf.add(xs, delta), lo, hi);
  });
}

/**
 * Runs APGD `groups × restarts` times, each run only on the rows not yet adversarial (the group is
 * e.g. the target of APGD-T), and merges: a row keeps the first run's adversarial iterate that
 * succeeded, else the point of highest loss over all runs. A run's start is random when
 * `randomStart` or for every restart after the first of its group.
 *
 * @internal
 */
export async function apgdSearch(
  ctx: AttackContext<unknown>,
  config: ApgdConfig,
  groups: number,
  makeLoss: (group: number, rows: Int32Array) => ApgdLoss,
): Promise<tf.Tensor> {
  const n = ctx.n;
  const done = Uint8Array.from(await ctx.active.data(), (a) => (a ? 0 : 1));
  const bestLoss = new Float64Array(n).fill(-Infinity);
  let out = tf.clone(ctx.x);
  const runs = groups * config.restarts;
  const total = runs * config.steps;
  for (let run = 0; run < runs; run++) {
    const restart = run % config.restarts;
    const rows = Int32Array.from(Array.from(done.keys()).filter((i) => !done[i]));
    if (rows.length === 0) break;
    const xs = tf.tidy(() => tf.gather(ctx.x, tf.tensor1d(rows, 'int32')));
    const start = config.randomStart || restart > 0 ? sphereStart(ctx, rows, xs) : tf.clone(xs);
    const group = Math.floor(run / config.restarts);
    let outcome: ApgdOutcome;
    try {
      outcome = await apgdRun(
        { model: (sub) => ctx.whiteBox(sub), ctx, config, checkpoint: (k) => ctx.checkpoint(run * config.steps + k, total) },
        xs,
        start,
        rows,
        (sub) => makeLoss(group, sub),
      );
    } catch (err) {
      tf.dispose([out, xs, start]);
      throw err;
    }
    const position = new Int32Array(n);
    const useAdv = new Uint8Array(n);
    const useBest = new Uint8Array(n);
    rows.forEach((row, p) => {
      position[row] = p;
      if (outcome.found[p]) {
        useAdv[row] = 1;
        done[row] = 1;
      } else if ((outcome.bestLoss[p] as number) > (bestLoss[row] as number)) {
        useBest[row] = 1;
        bestLoss[row] = outcome.bestLoss[p] as number;
      }
    });
    const previous = out;
    out = tf.tidy(() => {
      const at = tf.tensor1d(position, 'int32');
      const best = whereRows(mask(useBest), tf.gather(outcome.best, at), previous);
      return whereRows(mask(useAdv), tf.gather(outcome.adversarial, at), best);
    });
    tf.dispose([previous, xs, start, outcome.best, outcome.adversarial]);
  }
  return out;
}

/**
 * The options shared by `apgd` (and its presets) and `apgd-t`, declared once; each definition spreads
 * them into its `options`. @internal
 */
export const APGD_OPTIONS = {
  steps: option.integer(100, 'iterations N_iter per run', { min: 1 }),
  restarts: option.integer(1, 'runs per sample; a run after the first only attacks samples not yet adversarial, from a random point', { min: 1 }),
  randomStart: option.boolean(true, "start the first run from a random point on the epsilon sphere too (as the authors' code); false starts it at x"),
  rho: option.number(
    0.75,
    "ρ of the step-size rule: η is halved when fewer than ρ of the steps since the last checkpoint increased the loss (not used by 'l1')",
    {
      min: 0,
      max: 1,
    },
  ),
  alpha: option.number(0.75, "momentum weight α of the new gradient step (1: no momentum; not used by 'l1', which has no momentum)", {
    min: 0,
    max: 1,
    above: true,
  }),
} as const;

/** Throws `INVALID_OPTION` when the model has fewer classes than a loss needs. @internal */
export function requireClasses(name: string, loss: string, numClasses: number, needed: number): void {
  if (numClasses < needed) {
    throw new AdvxError(
      'INVALID_OPTION',
      `${name}: loss '${loss}' needs a model with at least ${needed} classes, got ${numClasses}. Use loss 'ce' for this model.`,
      { option: 'loss', numClasses, needed },
    );
  }
}
