import * as tf from '@tensorflow/tfjs-core';

import type { AttackContext } from '@advx/core';

import { allTrue, type CwMargin } from './cw-margin.js';

/**
 * The per-sample binary search over the constant `c` that weighs the classification loss against the
 * distance in Carlini & Wagner's attack and in EAD (the authors' reference code): `c` is multiplied by 10
 * while no adversarial has been found, bisected between the largest failing and the smallest succeeding
 * value afterwards, and — when there are at least 10 search steps — the last step uses the smallest
 * succeeding `c`.
 */
export class ConstSearch {
  private readonly consts: Float64Array;
  private readonly lower: Float64Array;
  private readonly upper: Float64Array;

  /** A search for `n` samples, each starting at `initial`. */
  constructor(
    n: number,
    initial: number,
    private readonly steps: number,
  ) {
    this.consts = new Float64Array(n).fill(initial);
    this.lower = new Float64Array(n);
    this.upper = new Float64Array(n).fill(Infinity);
  }

  /** The constants of search step `b` (0-based), one per sample. */
  constants(b: number): Float32Array {
    if (b === this.steps - 1 && this.steps >= 10) {
      this.upper.forEach((u, i) => {
        if (Number.isFinite(u)) this.consts[i] = u;
      });
    }
    return Float32Array.from(this.consts);
  }

  /** Moves each sample's constant after a search step, given whether it found an adversarial. */
  update(found: ArrayLike<number | boolean>): void {
    for (let i = 0; i < this.consts.length; i++) {
      const c = this.consts[i] as number;
      if (found[i]) this.upper[i] = Math.min(this.upper[i] as number, c);
      else this.lower[i] = Math.max(this.lower[i] as number, c);
      const hi = this.upper[i] as number;
      this.consts[i] = Number.isFinite(hi) ? ((this.lower[i] as number) + hi) / 2 : c * 10;
    }
  }
}

/** What every iterate of a constant search carries, per sample (the batch is the first axis of each tensor). */
export interface SearchState {
  /** The best adversarial so far (the clean input where none). */
  readonly best: tf.Tensor;
  /** Its distance (the decision rule's), `Infinity` where none. */
  readonly bestDist: tf.Tensor1D;
  /** An adversarial was found in this binary-search step. */
  readonly found: tf.Tensor1D;
  /** The sample's binary-search step has ended (it stalled, or it was adversarial when clean). */
  readonly frozen: tf.Tensor1D;
  /** The loss at the last abort-early check, `Infinity` before the first. */
  readonly prevLoss: tf.Tensor1D;
}

/** What one iteration of the inner optimiser is given. */
export interface SearchStep {
  /** The iteration within the binary-search step, from 0. */
  readonly k: number;
  /** This binary-search step's constants, `[n]`. */
  readonly c: tf.Tensor1D;
  /** `−c·f(logits)`: the classification term to maximise (through `ctx.gradient`). */
  readonly objective: (logits: tf.Tensor2D) => tf.Tensor1D;
  /** This iteration checks for a stalled loss (abort early). */
  readonly check: boolean;
}

/** The inner optimiser of a constant search (C&W-L2's Adam in tanh space, EAD's FISTA). */
export interface SearchMethod<R extends SearchState> {
  /** The state at the start of a binary-search step, from the carried best and the fresh flags. */
  start(base: SearchState): R;
  /** One iteration: the next state, every tensor new (it runs inside `tf.tidy`). */
  step(prev: R, s: SearchStep): R;
}

/**
 * Carlini & Wagner's outer loop, shared by C&W-L2 and EAD: `binarySearchSteps` binary-search steps
 * over the per-sample constant c ({@link ConstSearch}), each running the inner optimiser for up to
 * `steps` iterations from `method.start`, ending once every sample is frozen (abort early, checked
 * every ceil(steps / 10) iterations); returns the best adversarial of every sample (the clean input
 * where none was found). Releases every state on every path; `margin` stays the caller's.
 */
export async function searchConstant<R extends SearchState>(
  ctx: AttackContext<unknown>,
  options: { readonly steps: number; readonly binarySearchSteps: number; readonly initialConst: number; readonly abortEarly: boolean },
  margin: CwMargin,
  method: SearchMethod<R>,
): Promise<tf.Tensor> {
  const { steps, binarySearchSteps, initialConst, abortEarly } = options;
  const n = ctx.n;
  const inactive = tf.logicalNot(ctx.active) as tf.Tensor1D;
  let best = tf.clone(ctx.x);
  let bestDist = tf.fill([n], Infinity) as tf.Tensor1D;
  const search = new ConstSearch(n, initialConst, binarySearchSteps);
  const period = Math.ceil(steps / 10);
  const total = binarySearchSteps * steps;
  try {
    for (let b = 0; b < binarySearchSteps; b++) {
      const c = tf.tensor1d(search.constants(b), 'float32');
      const objective = (logits: tf.Tensor2D): tf.Tensor1D => tf.neg(tf.mul(c, margin.loss(logits))) as tf.Tensor1D;
      let state = method.start({
        best,
        bestDist,
        found: tf.zeros([n], 'bool') as tf.Tensor1D,
        frozen: tf.clone(inactive),
        prevLoss: tf.fill([n], Infinity) as tf.Tensor1D,
      });
      try {
        for (let k = 0; k < steps; k++) {
          await ctx.checkpoint(b * steps + k, total);
          const check = abortEarly && k % period === 0;
          const prev = state;
          const next = tf.tidy(() => method.step(prev, { k, c, objective, check }) as unknown as tf.TensorContainerObject) as unknown as R;
          tf.dispose(Object.values(prev) as tf.Tensor[]);
          state = next;
          if (check && (await allTrue(state.frozen))) break;
        }
      } catch (err) {
        // Aborted between iterations: release the search state (no engine scope will).
        tf.dispose([c, ...(Object.values(state) as tf.Tensor[])]);
        throw err;
      }
      const found = await state.found.data();
      ({ best, bestDist } = state);
      tf.dispose([c, ...(Object.values(state) as tf.Tensor[]).filter((t) => t !== best && t !== bestDist)]);
      search.update(found);
    }
    bestDist.dispose();
    return best;
  } catch (err) {
    tf.dispose([best, bestDist]); // (already released with the state when an iteration failed)
    throw err;
  } finally {
    inactive.dispose();
  }
}
