import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, validateInput, type AnyModel, type QueryModel } from '@advx/core';

/**
 * An output transform of a deployed classifier: class probabilities `[n, classes]` in, the scores
 * that are released out (rows of probabilities, or one-hot labels).
 *
 * @public
 */
export interface Postprocessor {
  /** Name, kebab-case. */
  readonly name: string;
  /** `'label'` when the output rows are one-hot labels (top-1 only), else `'scores'`. */
  readonly output: 'scores' | 'label';
  /** Transforms a batch of probability rows. */
  apply(probabilities: tf.Tensor2D): tf.Tensor2D;
}

/**
 * Puts postprocessors behind a model: the result is a `QueryModel` (`@advx/core`) whose `query`
 * returns the base model's softmax probabilities (or its query scores) transformed by each
 * postprocessor in turn. Score-based and model-stealing attacks then see only the released output;
 * gradients are not exposed. Every queried sample is counted (`queries`); there is no budget.
 *
 * @example
 * ```ts
 * import { postprocess, reverseSigmoid, roundOutput } from '@advx/defenses';
 *
 * const api = postprocess(model, reverseSigmoid(), roundOutput({ decimals: 2 }));
 * const scores = await api.query(x);
 * ```
 * @public
 */
export function postprocess(model: AnyModel, ...postprocessors: Postprocessor[]): QueryModel {
  if (model?.kind !== 'model' && model?.kind !== 'query') {
    throw new AdvxError('INVALID_MODEL', 'postprocess() needs an advx Model or QueryModel.');
  }
  if (model.kind === 'query' && model.output !== 'scores') {
    throw new AdvxError('UNSUPPORTED_MODEL', "postprocess(): the query model returns labels only; postprocessors need its scores (output: 'scores').");
  }
  for (const p of postprocessors) {
    if (!p || typeof p.apply !== 'function' || (p.output !== 'scores' && p.output !== 'label')) {
      throw new AdvxError('INVALID_OPTION', "postprocess(): every postprocessor needs apply() and an output of 'scores' or 'label'.");
    }
  }
  const output = postprocessors.some((p) => p.output === 'label') ? 'label' : 'scores';
  let queries = 0;
  return {
    kind: 'query',
    inputShape: model.inputShape,
    numClasses: model.numClasses,
    bounds: model.bounds,
    output,
    budget: Infinity,
    get queries() {
      return queries;
    },
    async query(x: tf.Tensor) {
      await validateInput(model, x);
      const probabilities = model.kind === 'query' ? await model.query(x) : tf.tidy(() => tf.softmax(model.logits(x)) as tf.Tensor2D);
      queries += x.shape[0] as number;
      const out = tf.tidy(() => postprocessors.reduce((p, post) => post.apply(p), probabilities));
      if (out !== probabilities) probabilities.dispose();
      return out;
    },
  };
}
