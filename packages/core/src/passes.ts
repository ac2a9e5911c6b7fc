/**
 * Per-sample accounting of a white-box model's passes, and the per-sample pass budget of
 * {@link RunOptions.maxPasses}.
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import type { PassCount, RunOptions } from './attack.js';
import { AdvxError } from './errors.js';
import { isAdversarialLogits, type ResolvedGoal } from './goals.js';
import type { NormGeometry } from './norms/types.js';
import { gatherRows, scatterRows, whereRows } from './rows.js';

/**
 * Thrown at a checkpoint once every row the attack charged since the previous checkpoint has spent
 * its budget: the base catches it and settles the batch from what the budget paid for.
 */
export class BudgetSpent extends Error {
  constructor() {
    super('every running sample spent its pass budget');
    this.name = 'BudgetSpent';
  }
}

/** Checks `maxPasses`: a positive integer or `Infinity` (no budget). */
export function checkMaxPasses(value: RunOptions['maxPasses']): number {
  const v = value ?? Infinity;
  if (v !== Infinity && !(typeof v === 'number' && Number.isInteger(v) && v >= 1)) {
    throw new AdvxError(
      'INVALID_OPTION',
      `maxPasses must be a positive integer (forward plus backward passes per sample and epsilon) or Infinity, got ${String(value)}.`,
      { option: 'maxPasses' },
    );
  }
  return v;
}

/** One batch at one epsilon: the rows' spending and, under a budget, the best point it paid for. */
interface Unit {
  readonly offset: number;
  readonly x: tf.Tensor;
  readonly goal: ResolvedGoal;
  readonly epsilon: number;
  /** Forward plus backward passes per batch row in this unit. */
  readonly spent: Int32Array;
  /** Rows charged since the last checkpoint. */
  readonly charged: Uint8Array;
  /** Best adversarial input the model saw per row within the budget (else the clean row). */
  best: tf.Tensor;
  /** Its distance from the clean row (`Infinity`: none yet). */
  bestDistance: tf.Tensor1D;
}

/**
 * The passes of one run: forward and backward passes per sample (every epsilon), and the per-unit
 * budget. Under a budget every call of the model is also checked, row by row, for an adversarial
 * within the epsilon ball that the row's budget still paid for, and the best one (the smallest
 * distance) is kept: a row that went over its budget returns that point, the clean row if none.
 */
export class PassLedger {
  /** Forward passes per sample of the run. */
  readonly forward: Int32Array;
  /** Backward passes per sample of the run. */
  readonly backward: Int32Array;
  /** Samples that spent their whole budget, per unit (epsilon) summed over batches. */
  readonly exhausted: number[];
  private unit: Unit | undefined;
  /** Per sample: passes of nested attack runs ({@link PassLedger.chargeRun}). */
  private readonly nested: Int32Array;
  private nestedForward = 0;
  private nestedBackward = 0;

  constructor(
    n: number,
    readonly maxPasses: number,
    private readonly norm: NormGeometry,
    units: number,
  ) {
    this.forward = new Int32Array(n);
    this.backward = new Int32Array(n);
    this.nested = new Int32Array(n);
    this.exhausted = new Array<number>(units).fill(0);
  }

  /** Whether a budget applies. */
  get limited(): boolean {
    return Number.isFinite(this.maxPasses);
  }

  /** Starts a batch (rows `offset …`, clean `x`, `goal`) at `epsilon`; `x` and `goal` stay the caller's. */
  begin(offset: number, x: tf.Tensor, goal: ResolvedGoal, epsilon: number): void {
    this.end();
    const size = x.shape[0] as number;
    this.unit = {
      offset,
      x,
      goal,
      epsilon,
      spent: new Int32Array(size),
      charged: new Uint8Array(size),
      best: this.limited ? tf.clone(x) : x,
      bestDistance: this.limited ? (tf.fill([size], Infinity) as tf.Tensor1D) : (undefined as unknown as tf.Tensor1D),
    };
  }

  /**
   * Charges one call of the model on `input` (rows `rows` of the batch, each `copies` times, in
   * row-major tiles when `copies > 1`); `backward` when a gradient tape records. With a budget and one
   * copy, `logits` are checked for a better adversarial within what each row's budget paid for.
   */
  charge(rows: Int32Array, copies: number, backward: boolean, input: tf.Tensor, logits: tf.Tensor2D): void {
    const u = this.unit;
    if (!u) return;
    const cost = copies * (backward ? 2 : 1);
    const within = new Uint8Array(rows.length);
    rows.forEach((r, j) => {
      const s = u.offset + r;
      this.forward[s] = (this.forward[s] as number) + copies;
      if (backward) this.backward[s] = (this.backward[s] as number) + copies;
      u.spent[r] = (u.spent[r] as number) + cost;
      u.charged[r] = 1;
      within[j] = (u.spent[r] as number) <= this.maxPasses ? 1 : 0;
    });
    if (!this.limited || copies !== 1 || !within.some((w) => w)) return;
    const { best, bestDistance } = u;
    const next = tf.tidy(() => {
      const x0 = gatherRows(u.x, rows);
      const classes = gatherRows(u.goal.classes, rows) as tf.Tensor1D;
      const adversarial = isAdversarialLogits(logits, { targeted: u.goal.targeted, classes, labels: undefined });
      const d = this.norm.distance(input, x0);
      const old = gatherRows(bestDistance, rows) as tf.Tensor1D;
      let better = tf.logicalAnd(tf.logicalAnd(adversarial, tf.tensor1d(within, 'bool')), tf.less(d, old));
      if (Number.isFinite(u.epsilon)) better = tf.logicalAnd(better, tf.lessEqual(d, u.epsilon * (1 + 1e-5) + 1e-7));
      const rowsBest = whereRows(better, tf.reshape(input, x0.shape), gatherRows(best, rows));
      return {
        best: tf.keep(scatterRows(best, rowsBest, rows)),
        bestDistance: tf.keep(scatterRows(bestDistance, tf.where(better, d, old), rows) as tf.Tensor1D),
      };
    });
    best.dispose();
    bestDistance.dispose();
    u.best = next.best;
    u.bestDistance = next.bestDistance;
  }

  /** Per row of `rows`: 1 once it spent its whole budget in this unit. */
  spentRows(rows: Int32Array | undefined): Uint8Array {
    const u = this.unit;
    const size = rows ? rows.length : (u?.spent.length ?? 0);
    const out = new Uint8Array(size);
    if (!u || !this.limited) return out;
    for (let j = 0; j < size; j++) out[j] = (u.spent[rows ? (rows[j] as number) : j] as number) >= this.maxPasses ? 1 : 0;
    return out;
  }

  /** At a checkpoint: throws {@link BudgetSpent} once every row charged since the last one spent its budget. */
  checkpoint(): void {
    const u = this.unit;
    if (!u || !this.limited) return;
    let charged = false;
    let running = false;
    u.charged.forEach((c, r) => {
      if (!c) return;
      charged = true;
      if ((u.spent[r] as number) < this.maxPasses) running = true;
    });
    u.charged.fill(0);
    if (charged && !running) throw new BudgetSpent();
  }

  /**
   * Ends the unit `index`: the attack's output `adv` (`undefined` when the budget stopped it), with
   * every row that went over its budget (every row, when stopped) replaced by the best point its
   * budget paid for. Returns a new tensor when it replaced rows, else `adv`.
   */
  settle(adv: tf.Tensor | undefined, index: number): tf.Tensor {
    const u = this.unit as Unit;
    if (this.limited) {
      this.exhausted[index] = (this.exhausted[index] as number) + u.spent.filter((s) => s >= this.maxPasses).length;
    }
    if (adv !== undefined && !u.spent.some((s) => s > this.maxPasses)) return adv;
    const over = Uint8Array.from(u.spent, (s) => (adv === undefined || s > this.maxPasses ? 1 : 0));
    return tf.tidy(() => (adv === undefined ? tf.clone(u.best) : whereRows(tf.tensor1d(over, 'bool'), u.best, adv)));
  }

  /** Releases the unit's tensors. */
  end(): void {
    const u = this.unit;
    if (u && this.limited) tf.dispose([u.best, u.bestDistance]);
    this.unit = undefined;
  }

  /**
   * Charges a nested attack run on rows `rows` of the current batch (its `samplePasses`, one per
   * row, and its `passes` totals). Only without a budget: a nested run cannot be cut by this one's.
   */
  chargeRun(rows: Int32Array, result: { readonly samplePasses?: Int32Array; readonly passes?: PassCount }): void {
    const u = this.unit;
    if (!u || !result.samplePasses || !result.passes) return;
    if (this.limited) throw new Error('PassLedger.chargeRun: a nested run cannot be charged under a pass budget.');
    rows.forEach((r, j) => {
      const s = u.offset + r;
      this.nested[s] = (this.nested[s] as number) + (result.samplePasses?.[j] as number);
      u.charged[r] = 1;
    });
    this.nestedForward += result.passes.forward;
    this.nestedBackward += result.passes.backward;
  }

  /** Per sample: forward plus backward passes, nested runs included. */
  samplePasses(): Int32Array {
    return Int32Array.from(this.forward, (f, i) => f + (this.backward[i] as number) + (this.nested[i] as number));
  }

  /** Totals over the run. */
  totals(): { forward: number; backward: number } {
    return {
      forward: this.forward.reduce((a, b) => a + b, 0) + this.nestedForward,
      backward: this.backward.reduce((a, b) => a + b, 0) + this.nestedBackward,
    };
  }
}
