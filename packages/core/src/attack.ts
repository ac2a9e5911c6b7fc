import type * as tf from '@tensorflow/tfjs-core';

import type { Goal, GoalKind } from './goals.js';
import type { AnyModel } from './model.js';
import type { NormName } from './norms/types.js';

/**
 * `fixed-epsilon`: runs once per epsilon and stays inside that ball.
 * `minimization`: looks for the smallest adversarial perturbation; runs once and its result is
 * clipped to every epsilon, so one run gives a whole robustness curve.
 *
 * @public
 */
export type AttackKind = 'fixed-epsilon' | 'minimization';

/**
 * What the attacker can see: gradients (`white-box`), output scores, only the top-1 decision, or a
 * substitute model (`transfer`).
 *
 * @public
 */
export type ThreatModel = 'white-box' | 'score' | 'decision' | 'transfer';

/**
 * Static description of an attack method, used by the registry, the docs and the conformance suites.
 *
 * @public
 */
export interface AttackMeta {
  /** Registry name, kebab-case (e.g. `pgd`, `carlini-wagner-l2`). */
  readonly name: string;
  /** Fixed-epsilon or minimization. */
  readonly kind: AttackKind;
  /** Norms the attack is defined for. */
  readonly norms: readonly NormName[];
  /** Threat model. */
  readonly threat: ThreatModel;
  /** Goal kinds the attack supports. */
  readonly goals: readonly GoalKind[];
  /** Whether the attack draws random numbers (so the seed matters). */
  readonly randomized: boolean;
  /** Paper reference (authors, year, title, link). */
  readonly paper?: string;
  /**
   * `'sample'` (default): each sample is attacked on its own, so results do not depend on the batch.
   * `'dataset'`: one perturbation (a universal perturbation, a patch, a substitute model) is fitted
   * on all the samples of a run together and applied to each; the base runs them as one batch (the
   * method chunks its own passes by {@link AttackContext.batchSize}), and a per-sample pass budget
   * does not apply.
   */
  readonly scope?: 'sample' | 'dataset';
}

/**
 * Progress of a running attack.
 *
 * @public
 */
export interface Progress {
  /** Overall completed fraction in [0, 1]. */
  readonly fraction: number;
  /** Index of the current batch. */
  readonly batch: number;
  /** Number of batches. */
  readonly batches: number;
  /** Index of the current epsilon (fixed-epsilon attacks; 0 otherwise). */
  readonly epsilonIndex: number;
  /** Current step within the batch, when the attack reports steps. */
  readonly step: number;
  /** Steps per batch, when known (0 otherwise). */
  readonly steps: number;
}

/**
 * Options of one run, shared by every attack.
 *
 * @public
 */
export interface RunOptions {
  /** Perturbation radii in the attack's norm. Required for fixed-epsilon attacks; optional for minimization attacks. */
  readonly epsilons?: readonly number[];
  /** Seed of every random choice (default 0). Same seed, same backend ⇒ same result. */
  readonly seed?: number;
  /** Samples per batch (default 128). Results do not depend on it. */
  readonly batchSize?: number;
  /** Aborts the run: it throws `AdvxError` `ABORTED` at the next step and leaks nothing. */
  readonly signal?: AbortSignal;
  /** Called as the run progresses. */
  readonly onProgress?: (progress: Progress) => void;
  /**
   * `8`: round every output to the 8-bit grid of the bounds (`lo + k·(hi − lo)/255`), moving each
   * value toward the input so it stays in every epsilon ball; success is re-evaluated after rounding
   * and {@link AttackResult.quantization} counts the adversarials that survived it. Values are exact
   * grid points when the input is itself 8-bit; a coordinate that cannot be rounded without crossing
   * the input keeps the input's value.
   */
  readonly quantize?: 8;
  /**
   * Per-sample budget of white-box passes, per epsilon: forward plus backward passes (a gradient
   * costs 2), as AttackBench counts them (Cinà et al., AAAI 2025). A sample stops being computed once
   * it spent its budget (iterative attacks drop it, and the attack stops when every sample still
   * running has); a sample whose passes went over the budget returns the best adversarial (the
   * smallest distance, inside the epsilon ball) among the inputs its budget paid for, else its clean
   * input. The attack's own final output counts as paid for when the sample stayed within the budget.
   * Queries of a score- or decision-based attack on a white-box model are passes too; a query model's
   * budget is `toQueryModel`'s. Default `Infinity`; white-box models only.
   */
  readonly maxPasses?: number;
}

/**
 * How a run's pass budget ({@link RunOptions.maxPasses}) was used.
 *
 * @public
 */
export interface PassBudgetReport {
  /** The budget per sample and epsilon. */
  readonly maxPasses: number;
  /** Per epsilon (one entry for minimization attacks): samples that spent their whole budget. */
  readonly exhausted: readonly number[];
}

/**
 * How many adversarials survived rounding to 8 bits, per epsilon.
 *
 * @public
 */
export interface QuantizationReport {
  /** Grid levels above the lower bound (255 for 8 bits). */
  readonly levels: number;
  /** Per epsilon: samples adversarial before rounding. */
  readonly before: readonly number[];
  /** Per epsilon: samples still adversarial after rounding. */
  readonly survived: readonly number[];
}

/**
 * Forward and backward passes of a white-box model, summed over rows ({@link AttackResult.passes}).
 *
 * @public
 */
export interface PassCount {
  /** Rows through the model's forward pass. */
  readonly forward: number;
  /** Rows through a backward pass (gradients w.r.t. the input). */
  readonly backward: number;
}

/**
 * The result of {@link Attack.run}: one row per epsilon. The caller owns the tensors and must call
 * {@link AttackResult.dispose}.
 *
 * @public
 */
export interface AttackResult {
  /** The epsilons of the run, in the order given. */
  readonly epsilons: readonly number[];
  /**
   * Best adversarial per sample: for minimization attacks the unrestricted output; for fixed-epsilon
   * attacks the output at the smallest epsilon that succeeded (the largest epsilon's output if none
   * did). Samples that are adversarial without perturbation are returned unchanged.
   */
  readonly raw: tf.Tensor;
  /** Per epsilon: adversarials inside the epsilon ball and the model's bounds. */
  readonly clipped: readonly tf.Tensor[];
  /** `success[e][i]`: `clipped[e][i]` satisfies the goal, as re-evaluated on the model. */
  readonly success: readonly (readonly boolean[])[];
  /** Per sample: distance of `raw` from the input in the attack's norm if `raw` is adversarial, else `Infinity`. */
  readonly distances: Float32Array;
  /**
   * Per sample: model queries spent. Present for query models (every query, the base's clean and final
   * checks included) and for score- or decision-based attacks on a white-box model (the attack's own
   * queries; the base's checks read logits there and are not counted).
   */
  readonly queries?: Int32Array;
  /**
   * White-box passes the attack spent, summed over samples (present for white-box models): a forward
   * pass of the model on k rows counts k, and one inside a gradient computation counts k backward
   * passes too; a score- or decision-based attack's queries of a white-box model are forward passes as
   * well. The base's clean and final checks are not counted. Per sample: {@link AttackResult.samplePasses}.
   */
  readonly passes?: PassCount;
  /** Per sample: forward plus backward passes over every epsilon (present for white-box models). */
  readonly samplePasses?: Int32Array;
  /** Present when the run had a {@link RunOptions.maxPasses} budget. */
  readonly budget?: PassBudgetReport;
  /** Present when the run used `quantize`. */
  readonly quantization?: QuantizationReport;
  /** Disposes every tensor of the result. */
  dispose(): void;
}

/**
 * An adversarial attack: a configured method whose `run` crafts adversarial examples for a batch.
 * Targeting is data (the goal), never a mode of the attack object.
 *
 * @public
 */
export interface Attack<Options = Record<string, unknown>> {
  /** Static description. */
  readonly meta: AttackMeta;
  /** The resolved options (defaults filled in). */
  readonly options: Readonly<Options>;
  /**
   * Runs the attack.
   * @param model - a differentiable {@link Model} (white-box) or a {@link QueryModel}.
   * @param x - batch `[n, ...model.inputShape]` inside `model.bounds`.
   * @param goal - `{ labels }` or `{ targets, labels? }`.
   * @param options - epsilons, seed, batching, abort and progress.
   */
  run(model: AnyModel, x: tf.Tensor, goal: Goal, options?: RunOptions): Promise<AttackResult>;
}
