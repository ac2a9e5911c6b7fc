/**
 * The attack context: what the base hands an attack's math for one batch, and its row subsets.
 * Not part of the public API beyond the {@link AttackContext} type (see `define-attack.ts`).
 *
 * @internal
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

import type { AttackContext, AttackDefinition, AttackOptionsBase, Objective, SubsetContext } from './define-attack.js';
import { AdvxError } from './errors.js';
import { isAdversarialLogits, type ResolvedGoal } from './goals.js';
import { runIterations } from './iterate.js';
import { crossEntropy } from './losses.js';
import type { AnyModel, Model } from './model.js';
import type { NormGeometry } from './norms/types.js';
import type { BatchRng } from './rng.js';
import { linfProject } from './fused.js';
import { gatherRows } from './rows.js';

/** What every context of one batch (and one epsilon) shares. */
export interface BatchScope<O extends AttackOptionsBase> {
  readonly def: AttackDefinition<O>;
  readonly options: Required<O>;
  readonly model: AnyModel;
  /** Index of the batch's first sample within the run. */
  readonly offset: number;
  readonly epsilon: number;
  readonly norm: NormGeometry;
  /** Per-sample query counts of the run (query models and score/decision attacks). */
  readonly counts: Int32Array | undefined;
  /** The run's white-box pass counter (white-box models). */
  readonly passes: { forward: number; backward: number } | undefined;
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
 * `model` with a `logits` that counts rows into `passes`: every call counts forward, and a call
 * while a gradient tape records (inside `tf.grad`, `tf.valueAndGrad`, `engine().gradients`) counts
 * backward too. The rest of the model is `model`'s own (prototype chain).
 */
function countingModel(model: Model, passes: { forward: number; backward: number }): Model {
  const counted = Object.create(model) as Model;
  Object.defineProperty(counted, 'logits', {
    value: (x: tf.Tensor) => {
      const rows = x.shape[0] ?? 1;
      passes.forward += rows;
      if (tf.engine().state.gradientDepth > 0) passes.backward += rows;
      return model.logits(x);
    },
  });
  return counted;
}

/** The context of the whole batch `view` (its tensors stay the caller's). */
export function makeContext<O extends AttackOptionsBase>(scope: BatchScope<O>, view: RowView): AttackContext<Required<O>> {
  const { model, passes } = scope;
  return contextOf(scope, view, model.kind === 'model' && passes ? countingModel(model, passes) : undefined);
}

function contextOf<O extends AttackOptionsBase>(scope: BatchScope<O>, view: RowView, counted: Model | undefined): AttackContext<Required<O>> {
  const { def, options, model, offset, epsilon, norm, counts } = scope;
  const { x, goal, active, rng, index } = view;
  const n = x.shape[0] as number;
  const [lo, hi] = model.bounds;
  const whiteBox = (): Model => {
    if (model.kind !== 'model') {
      throw new AdvxError('UNSUPPORTED_MODEL', `${def.meta.name} needs a white-box model here, but got a query-only model.`);
    }
    return counted ?? model;
  };
  const objective: Objective = (logits) =>
    goal.targeted ? (tf.neg(crossEntropy(logits, goal.classes)) as tf.Tensor1D) : crossEntropy(logits, goal.classes);
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
    const scores = model.kind === 'query' ? await model.query(xAdv) : tf.tidy(() => tf.softmax(model.logits(xAdv)) as tf.Tensor2D);
    if (counts) {
      for (let i = 0; i < k; i++) {
        const local = rows ? (rows[i] as number) : i;
        const row = offset + (index ? (index[local] as number) : local);
        counts[row] = (counts[row] as number) + 1;
      }
    }
    return scores;
  };

  const subset = (rows: Int32Array): SubsetContext<Required<O>> => {
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j] as number;
      if (!Number.isInteger(r) || r < 0 || r >= n || (j > 0 && r <= (rows[j - 1] as number))) {
        throw new AdvxError('INVALID_SHAPE', `subset: rows must be ascending indices below ${n}; got ${Array.from(rows).join(', ')}.`);
      }
    }
    const tensors = tf.tidy(() => ({
      x: gatherRows(x, rows),
      classes: gatherRows(goal.classes, rows) as tf.Tensor1D,
      labels: goal.labels ? (gatherRows(goal.labels, rows) as tf.Tensor1D) : undefined,
      active: gatherRows(active, rows) as tf.Tensor1D,
    }));
    const sub = contextOf(
      scope,
      {
        x: tensors.x,
        goal: { targeted: goal.targeted, classes: tensors.classes, labels: tensors.labels },
        active: tensors.active,
        rng: rng.select(rows),
        index: index ? Int32Array.from(rows, (r) => index[r] as number) : Int32Array.from(rows),
      },
      counted,
    );
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
    iterate: (init, steps, step) => runIterations(ctx, { earlyStop: options.earlyStop as boolean, checkpoint: scope.checkpoint }, init, steps, step),
    checkpoint: scope.checkpoint,
  };
  return ctx;
}
