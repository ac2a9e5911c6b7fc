import * as tf from '@tensorflow/tfjs-core';

import { AdvxError } from '../errors.js';
import type { Model, QueryModel, QueryOutput } from '../model.js';
import { assertBatchShape } from './make-model.js';

/**
 * Options of {@link toQueryModel}.
 *
 * @example
 * ```ts
 * const options: ToQueryModelOptions = { budget: 10_000, output: 'label' };
 * ```
 * @public
 */
export interface ToQueryModelOptions {
  /**
   * Total number of samples that may be queried: a positive integer, or `Infinity` (the default)
   * for no limit. Each sample of a batch counts as one query.
   */
  readonly budget?: number;
  /** `'scores'`: softmax probabilities `[n, C]`; `'label'`: one-hot rows of the top-1 class. Required. */
  readonly output: QueryOutput;
}

/**
 * A {@link QueryModel} made by {@link toQueryModel}, which also tells how many queries are left.
 *
 * @example
 * ```ts
 * const oracle: BudgetedQueryModel = toQueryModel(model, { budget: 100, output: 'scores' });
 * oracle.remaining; // 100
 * ```
 * @public
 */
export interface BudgetedQueryModel extends QueryModel {
  /** Queries left: `budget - queries` (`Infinity` without a budget). */
  readonly remaining: number;
}

const WHERE = 'toQueryModel';

/**
 * Turns a white-box {@link Model} into query-only access: a simulated black box for score-based or
 * decision-based attacks, with every queried sample counted against a budget.
 *
 * `query(x)` checks that `x` is `[n, ...inputShape]` (`INVALID_SHAPE`), then rejects with
 * `QUERY_BUDGET_EXHAUSTED` before any work when `n` exceeds the queries left, then counts `n`
 * queries and resolves to `[n, numClasses]`: softmax scores (`output: 'scores'`) or one-hot float32
 * rows of the arg-max class (`output: 'label'`). The caller owns (and disposes) the returned tensor;
 * nothing else is kept.
 *
 * @param model - a white-box model (from `fromLayersModel`, `fromGraphModel`, `fromFunction`).
 * @param options - see {@link ToQueryModelOptions}.
 * @returns a frozen {@link BudgetedQueryModel} with readonly `queries`, `budget` and `remaining`.
 * @throws AdvxError `INVALID_MODEL` when `model` is not an advx `Model`; `INVALID_OPTION` for an
 * invalid `budget` or `output`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromLayersModel, toQueryModel } from '@advx/core';
 *
 * const oracle = toQueryModel(fromLayersModel(net, { bounds: [0, 1] }), { budget: 1000, output: 'label' });
 * const labels = await oracle.query(tf.zeros([4, 28, 28, 1])); // one-hot [4, 10]
 * oracle.queries;   // 4
 * oracle.remaining; // 996
 * labels.dispose();
 * ```
 * @public
 */
export function toQueryModel(model: Model, options: ToQueryModelOptions): BudgetedQueryModel {
  if (model === null || typeof model !== 'object' || model.kind !== 'model' || typeof model.logits !== 'function') {
    throw new AdvxError('INVALID_MODEL', `${WHERE}: expected an advx Model (kind 'model'), e.g. from fromLayersModel, fromGraphModel or fromFunction.`);
  }
  if (options === null || typeof options !== 'object') {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: options { output } are required, e.g. { output: 'scores', budget: 1000 }.`);
  }
  const budget = options.budget ?? Infinity;
  if (typeof budget !== 'number' || !(budget === Infinity || (Number.isInteger(budget) && budget > 0))) {
    throw new AdvxError('INVALID_OPTION', `${WHERE}: budget must be a positive integer or Infinity, got ${String(budget)}.`, { option: 'budget', got: budget });
  }
  const output = options.output;
  if (output !== 'scores' && output !== 'label') {
    throw new AdvxError(
      'INVALID_OPTION',
      `${WHERE}: output must be 'scores' (softmax probabilities) or 'label' (one-hot top-1 class), got ${String(output)}.`,
      { option: 'output', got: output },
    );
  }

  const { inputShape, numClasses, bounds } = model;
  let queries = 0;

  const query = async (x: tf.Tensor): Promise<tf.Tensor2D> => {
    assertBatchShape(x, inputShape, `${WHERE}: query`);
    const n = x.shape[0] ?? 0;
    const remaining = budget - queries;
    if (n > remaining) {
      throw new AdvxError(
        'QUERY_BUDGET_EXHAUSTED',
        `${WHERE}: a query of ${n} samples was asked but only ${remaining} of the budget of ${budget} remain ` +
          `(${queries} used). Query fewer samples, or raise budget in toQueryModel.`,
        { asked: n, remaining, budget, queries },
      );
    }
    queries += n;
    return tf.tidy(() => {
      const logits = model.logits(x);
      if (output === 'scores') return tf.softmax(logits);
      return tf.cast(tf.oneHot(tf.argMax(logits, 1), numClasses), 'float32') as tf.Tensor2D;
    });
  };

  return Object.freeze({
    kind: 'query' as const,
    inputShape,
    numClasses,
    bounds,
    output,
    get budget(): number {
      return budget;
    },
    get queries(): number {
      return queries;
    },
    get remaining(): number {
      return budget - queries;
    },
    query,
  });
}
