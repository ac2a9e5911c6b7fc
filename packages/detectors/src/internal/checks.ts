import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, validateGoal, validateInput, type AnyModel } from '@advx/core';

/** Throws `INVALID_MODEL` unless `model` is an advx model (white-box, or query when `query` is allowed). */
export function checkModel(model: unknown, what: string, query: boolean): asserts model is AnyModel {
  const kind = (model as { kind?: unknown } | null)?.kind;
  if (kind === 'model') return;
  if (kind === 'query') {
    if (query) return;
    throw new AdvxError('UNSUPPORTED_MODEL', `${what} needs gradients or logits of a white-box advx Model; a QueryModel cannot be used.`);
  }
  throw new AdvxError('INVALID_MODEL', `${what} needs an advx Model (from fromLayersModel, fromGraphModel or fromFunction).`);
}

/** Validates `x` for `model` (shape, finite, bounds) and an optional class per sample. */
export async function checkBatch(model: AnyModel, x: tf.Tensor, classes?: tf.Tensor1D): Promise<Int32Array | undefined> {
  await validateInput(model, x);
  if (classes === undefined) return undefined;
  return (await validateGoal({ labels: classes }, x.shape[0] as number, model.numClasses)).classes;
}

/** Softmax probabilities `[n, C]` of a white-box model, or the scores of a query model. */
export async function probabilities(model: AnyModel, x: tf.Tensor): Promise<tf.Tensor2D> {
  if (model.kind === 'query') {
    if (model.output !== 'scores') {
      throw new AdvxError('UNSUPPORTED_MODEL', "This detector compares output probabilities: the QueryModel must return 'scores', not only labels.");
    }
    return model.query(x);
  }
  return tf.tidy(() => tf.softmax(model.logits(x)));
}
