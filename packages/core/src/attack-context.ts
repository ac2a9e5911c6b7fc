/**
 * The attack context: what the base hands an attack's math for one batch, and its row subsets.
 * Not part of the public API beyond the {@link AttackContext} type (see `define-attack.ts`).
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import type { AttackMeta } from './attack.js';
import type { AttackContext, AttackOptionsBase, Objective, SubsetContext } from './define-attack.js';
import { AdvxError } from './errors.js';
import { isAdversarialLogits, type ResolvedGoal } from './goals.js';
import { runIterations } from './iterate.js';
import { crossEntropy } from './losses.js';
import type { AnyModel, Model } from './model.js';
import type { NormGeometry } from './norms/types.js';
import type { BatchRng } from './rng.js';
import { linfProject } from './fused.js';
import type { PassLedger } from './passes.js';
import { gatherRows } from './rows.js';

/** What every context of one batch (and one epsilon) shares. */
export interface BatchScope<O extends AttackOptionsBase> {
  /** The method's metadata (for messages). */
  readonly def: { readonly meta: AttackMeta };
  readonly options: Required<O>;
  readonly model: AnyModel;
  /** Index of the batch's first sample within the run. */
  readonly offset: number;
  /** The run's seed. */
  readonly seed: number;
  /** The run's batch size. */
  readonly batchSize: number;
  readonly epsilon: number;
  readonly norm: NormGeometry;
  /** Per-sample query counts of the run (query models and score/decision attacks). */
  readonly counts: Int32Array | undefined;
  /** The run's per-sample white-box pass ledger and budget (white-box models). */
  readonly passes: PassLedger | undefined;
  /** Abort point and progress report. */
  checkpoint(step: number, steps: number): Promise<void>;
}

/** The rows one context covers. */
export interface RowView {
  /** Clean rows. */
  readonly x: tf.Tensor;
  readonly goal: ResolvedGoal;
  /** Bool: rows that still need an adversarial. */
  readonly active: tf.Tensor1D;
  readonly rng: BatchRng;
  /** Batch rows of this view, ascending; `undefined` = the whole batch. */
  readonly index: Int32Array | undefined;
}

/**
 * `model` with a `logits` that charges each call to the batch rows `rows` (of a context of `n`
 * rows): a call on `n` rows charges row `j` to `rows[j]`, a call on `k·n` rows (tiles or stacked
 * copies of them) charges each row `k` times; one while a gradient tape records (inside `tf.grad`,
 * `tf.valueAndGrad`, `engine().gradients`) charges backward passes too. Any other row count cannot
 * be attributed and throws. The rest of the model is `model`'s own (prototype chain).
 */
function countingModel(model: Model, ledger: PassLedger, rows: Int32Array, name: string): Model {
  const counted = Object.create(model) as Model;
  const n = rows.length;
  Object.defineProperty(counted, 'logits', {
    value: (x: tf.Tensor) => {
      const k = x.shape[0] ?? 1;
      if (n === 0 || k % n !== 0 || k === 0) {
        throw new AdvxError(
          'INVALID_SHAPE',
          `${name}: the white-box model was called on ${k} rows in a context of ${n}, so its passes cannot be counted per sample. ` +
            "Call it on the context's rows (or whole copies of them), or take the model of the rows you pass with ctx.whiteBox(rows) or ctx.subset(rows).",
          { rows: k, contextRows: n },
        );
      }
      const logits = model.logits(x);
      ledger.charge(rows, k / n, tf.engine().state.gradientDepth > 0, x, logits);
      return logits;
    },
  });
  return counted;
}

/** The context of the rows `view` (its tensors stay the caller's). */
export function makeContext<O extends AttackOptionsBase>(scope: BatchScope<O>, view: RowView): AttackContext<Required<O>> {
  const { def, options, model, offset, seed, batchSize, epsilon, norm, counts, passes } = scope;
  const { x, goal, active, rng, index } = view;
  const n = x.shape[0] as number;
  const [lo, hi] = model.bounds;
  const batchRows = index ?? Int32Array.from({ length: n }, (_, i) => i);
  let counted: Model | undefined;
  const whiteBox = (rows?: Int32Array): Model => {
    if (model.kind !== 'model') {
      throw new AdvxError('UNSUPPORTED_MODEL', `${def.meta.name} needs a white-box model here, but got a query-only model.`);
    }
    if (!passes) return model;
    if (rows === undefined) {
      counted ??= countingModel(model, passes, batchRows, def.meta.name);
      return counted;
    }
    checkRows('whiteBox', rows, n, false);
    return countingModel(
      model,
      passes,
      Int32Array.from(rows, (r) => batchRows[r] as number),
      def.meta.name,
    );
  };
  const objective: Objective = (logits) => (goal.targeted ? (tf.neg(crossEntropy(logits, goal.classes)) as tf.Tensor1D) : crossEntropy(logits, goal.classes));
  const isAdversarial = (xAdv: tf.Tensor) => tf.tidy(() => isAdversarialLogits(whiteBox().logits(xAdv), goal));
  const clip = (xAdv: tf.Tensor) => tf.clipByValue(xAdv, lo, hi);
  const project = (xAdv: tf.Tensor) => {
    if (!Number.isFinite(epsilon)) return clip(xAdv);
    if (norm.name === 'linf') return linfProject(xAdv, x, epsilon, model.bounds);
    return tf.tidy(() => clip(tf.add(x, norm.project(tf.sub(xAdv, x), epsilon))));
  };

  const gradient = (xAdv: tf.Tensor, obj: Objective = objective) => {
    const m = whiteBox();
    return tf.tidy(() => {
      const c = m.numClasses;
      const rows = xAdv.shape[0] as number;
      const { value, grads } = tf.engine().gradients(
        () => {
          const logits = m.logits(xAdv);
          const v = obj(logits);
          return tf.concat([tf.expandDims(v, 1), logits], 1);
        },
        [xAdv],
        tf.concat([tf.ones([rows, 1]), tf.zeros([rows, c])], 1),
        true,
      );
      const g = grads[0] ?? tf.zerosLike(xAdv);
      return {
        value: tf.reshape(tf.slice(value, [0, 0], [rows, 1]), [rows]) as tf.Tensor1D,
        logits: tf.slice(value, [0, 1], [rows, c]) as tf.Tensor2D,
        grad: g,
      };
    });
  };

  const query = async (xAdv: tf.Tensor, rows?: Int32Array): Promise<tf.Tensor2D> => {
    const k = xAdv.shape[0];
    if (rows && rows.length !== k) {
      throw new AdvxError('INVALID_SHAPE', `query: ${k} inputs but ${rows.length} row indices.`);
    }
    if (!rows && k !== n) {
      throw new AdvxError('INVALID_SHAPE', `query: ${k} inputs for a batch of ${n}; pass the row index of each input.`);
    }
    // A white-box model's queries are forward passes of it too: charged (and, under a budget, checked) like them.
    const scores =
      model.kind === 'query'
        ? await model.query(xAdv)
        : tf.tidy(() => {
            const logits = model.logits(xAdv);
            passes?.charge(rows ? Int32Array.from(rows, (r) => batchRows[r] as number) : batchRows, 1, false, xAdv, logits);
            return tf.softmax(logits) as tf.Tensor2D;
          });
    if (counts) {
      for (let i = 0; i < k; i++) {
        const local = rows ? (rows[i] as number) : i;
        const row = offset + (batchRows[local] as number);
        counts[row] = (counts[row] as number) + 1;
      }
    }
    return scores;
  };

  const subset = (rows: Int32Array): SubsetContext<Required<O>> => {
    checkRows('subset', rows, n, true);
    const tensors = tf.tidy(() => ({
      x: gatherRows(x, rows),
      classes: gatherRows(goal.classes, rows) as tf.Tensor1D,
      labels: goal.labels ? (gatherRows(goal.labels, rows) as tf.Tensor1D) : undefined,
      active: gatherRows(active, rows) as tf.Tensor1D,
    }));
    const sub = makeContext(scope, {
      x: tensors.x,
      goal: { targeted: goal.targeted, classes: tensors.classes, labels: tensors.labels },
      active: tensors.active,
      rng: rng.select(rows),
      index: Int32Array.from(rows, (r) => batchRows[r] as number),
    });
    let disposed = false;
    return Object.assign(sub, {
      dispose: () => {
        if (disposed) return;
        disposed = true;
        tf.dispose([tensors.x, tensors.classes, tensors.active, ...(tensors.labels ? [tensors.labels] : [])]);
      },
    });
  };

  const ctx: AttackContext<Required<O>> = {
    options,
    model,
    x,
    n,
    offset,
    seed,
    batchSize,
    goal,
    active,
    epsilon,
    norm,
    bounds: model.bounds,
    rng,
    whiteBox,
    isAdversarial,
    objective,
    gradient,
    query,
    project,
    clip,
    subset,
    iterate: (init, steps, step) =>
      runIterations(
        ctx,
        {
          earlyStop: options.earlyStop as boolean,
          checkpoint: scope.checkpoint,
          spent: passes?.limited ? (rows) => passes.spentRows(rows ? Int32Array.from(rows, (r) => batchRows[r] as number) : batchRows) : undefined,
        },
        init,
        steps,
        step,
      ),
    chargeRun: (rows, result) => {
      checkRows('chargeRun', rows, n, false);
      if (result.samplePasses !== undefined && result.samplePasses.length !== rows.length) {
        throw new AdvxError('INVALID_SHAPE', `chargeRun: the nested run has ${result.samplePasses.length} samples but ${rows.length} rows were given.`);
      }
      passes?.chargeRun(
        Int32Array.from(rows, (r) => batchRows[r] as number),
        result,
      );
    },
    checkpoint: scope.checkpoint,
  };
  return ctx;
}

/** Throws `INVALID_SHAPE` unless `rows` are integer indices below `n` (ascending when `ascending`). */
function checkRows(what: string, rows: Int32Array, n: number, ascending: boolean): void {
  for (let j = 0; j < rows.length; j++) {
    const r = rows[j] as number;
    if (!Number.isInteger(r) || r < 0 || r >= n || (ascending && j > 0 && r <= (rows[j - 1] as number))) {
      throw new AdvxError('INVALID_SHAPE', `${what}: rows must be ${ascending ? 'ascending ' : ''}indices below ${n}; got ${Array.from(rows).join(', ')}.`);
    }
  }
}
