import * as tf from '@tensorflow/tfjs-core';

import {
  AdvxError,
  crossEntropy,
  fromFunction,
  option,
  resolveOptions,
  Rng,
  validateInput,
  type AnyModel,
  type Model,
  type OptionsInput,
  type OptionsResolved,
} from '@advx/core';
import { abortedError, CHECKPOINT_OPTIONS, disposable, makeCheckpoint } from '@advx/core/plugin';

/** The options of the substitute's training, shared by {@link trainSubstitute} and the attack `substituteTransfer`. */
export const FIT_SUBSTITUTE_OPTIONS = {
  hidden: option.custom<readonly number[]>([200, 200], "hidden ReLU layer widths of the substitute MLP (Papernot et al.'s MNIST substitute)", {
    type: 'an array of positive integer layer widths',
    accepts: (v) => Array.isArray(v) && v.every((h) => Number.isInteger(h) && (h as number) >= 1),
    json: true,
  }),
  rounds: option.integer(6, 'substitute training rounds ρ; the training set doubles after each but the last', { min: 1 }),
  epochs: option.integer(10, 'training epochs per round', { min: 1 }),
  lambda: option.number(0.1, "Jacobian-based augmentation step λ, as a fraction of the bounds' width", { min: 0 }),
  tau: option.integer(3, "the sign of λ flips every tau rounds (Papernot et al.'s periodic step size); tau ≥ rounds keeps it fixed", { min: 1 }),
  learningRate: option.number(0.001, 'Adam learning rate', { min: 0, above: true }),
  trainBatchSize: option.integer(32, 'mini-batch size of the training', { min: 1 }),
};

const TRAIN_OPTIONS = {
  ...FIT_SUBSTITUTE_OPTIONS,
  seed: option.number(0, 'seed of the initial weights and the shuffling'),
  ...CHECKPOINT_OPTIONS,
  onProgress: { ...CHECKPOINT_OPTIONS.onProgress, doc: 'called once per epoch (batch: the round, batches: the rounds)' },
};

/**
 * Options of {@link trainSubstitute}.
 *
 * @public
 */
export type TrainSubstituteOptions = OptionsInput<typeof TRAIN_OPTIONS>;

/**
 * The result of {@link trainSubstitute}. The substitute holds variables: call `dispose()` when done.
 *
 * @public
 */
export interface Substitute {
  /** The trained substitute, a white-box {@link Model} with the oracle's input shape, classes and bounds. */
  readonly model: Model;
  /** Oracle queries spent (one per labelled sample). */
  readonly queries: number;
  /** Size of the final synthetic training set. */
  readonly trainingSetSize: number;
  /** Accuracy of the substitute on its training set against the oracle's labels, after the last round. */
  readonly agreement: number;
  /** Releases the substitute's weights. */
  dispose(): void;
}

/** The oracle's top-1 label of every row, counting one query per row for a query model. */
async function oracleLabels(oracle: AnyModel, x: tf.Tensor, batch = 256): Promise<Int32Array> {
  const n = x.shape[0] as number;
  const out = new Int32Array(n);
  for (let b = 0; b < n; b += batch) {
    const xb = tf.slice(x, b, Math.min(batch, n - b));
    let scores: tf.Tensor2D;
    try {
      scores = oracle.kind === 'query' ? await oracle.query(xb) : tf.tidy(() => oracle.logits(xb));
    } finally {
      xb.dispose();
    }
    const pred = tf.tidy(() => tf.cast(tf.argMax(scores, 1), 'int32'));
    scores.dispose();
    out.set((await pred.data()) as Int32Array, b);
    pred.dispose();
  }
  return out;
}

/**
 * Substitute training with Jacobian-based dataset augmentation, the first half of a transfer
 * attack: trains a local MLP to imitate a model that can only be queried for labels, from a small
 * seed set. Each round labels the new samples through the oracle, trains the substitute on all
 * labelled samples, then grows the set along the substitute's Jacobian:
 * `S ← S ∪ { clip(x + λ·sign(∂F_{Õ(x)}(x)/∂x)) : x ∈ S }`, with `Õ(x)` the oracle's label and
 * `λ` flipping sign every `tau` rounds. Attack the returned `model` with any white-box attack and
 * apply the adversarial examples to the oracle (they transfer).
 *
 * Paper: Nicolas Papernot, Patrick McDaniel, Ian Goodfellow, Somesh Jha, Z. Berkay Celik, Ananthram
 * Swami (2017), "Practical Black-Box Attacks against Machine Learning", {@link https://arxiv.org/abs/1602.02697}.
 *
 * Threat model: black-box, label-only queries. Each round labels only the new samples, so
 * `queries` = seed set size × 2^(ρ − 1).
 *
 * Options: the training options of the attack {@link substituteTransfer} (`hidden` `[200, 200]`,
 * `rounds` 6, `epochs` 10, `lambda` 0.1, `tau` 3, `learningRate` 0.001, `trainBatchSize` 32), and
 * `seed` (0), `signal`, `onProgress`.
 *
 * @param oracle - the attacked model: a `QueryModel` (labels or scores; the top-1 label is used) or a {@link Model} used only through its predictions.
 * @param seedImages - the initial substitute training set `[n, ...oracle.inputShape]` inside the bounds (Papernot et al.: 150 test images).
 * @param options - see {@link TrainSubstituteOptions}.
 * @throws AdvxError `INVALID_MODEL`, `INVALID_OPTION`, `INVALID_SHAPE`, `NON_FINITE_INPUT`, `OUT_OF_BOUNDS` (before any query),
 *   `QUERY_BUDGET_EXHAUSTED` (from the oracle), `ABORTED`.
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { fgsm, trainSubstitute } from '@advx/attacks';
 *
 * const oracle = toQueryModel(model, { output: 'label', budget: 5000 });
 * const sub = await trainSubstitute(oracle, seedImages, { rounds: 5, seed: 0 });
 * const adv = await fgsm().run(sub.model, x, { labels }, { epsilons: [0.3] });
 * // adv.clipped[0] now fools the oracle on most images
 * adv.dispose();
 * sub.dispose();
 * ```
 * @public
 */
export async function trainSubstitute(oracle: AnyModel, seedImages: tf.Tensor, options: TrainSubstituteOptions = {}): Promise<Substitute> {
  const o = oracle as AnyModel | null;
  if (o === null || typeof o !== 'object' || (o.kind !== 'model' && o.kind !== 'query')) {
    throw new AdvxError('INVALID_MODEL', 'trainSubstitute: oracle must be an advx Model or QueryModel (see toQueryModel).');
  }
  const opts = resolveOptions('trainSubstitute', TRAIN_OPTIONS, options);
  await validateInput(o, seedImages);
  if (opts.signal?.aborted) throw abortedError('trainSubstitute');
  const checkpoint = makeCheckpoint('trainSubstitute', opts);
  return fitSubstitute(
    {
      oracle: o,
      labels: (x) => oracleLabels(o, x),
      checkpoint: (round, rounds, epoch, epochs) =>
        checkpoint({ fraction: (round + epoch / epochs) / rounds, batch: round, batches: rounds, epsilonIndex: 0, step: epoch, steps: epochs }),
    },
    seedImages,
    opts,
    new Rng(opts.seed),
  );
}

/** How a substitute's training queries the oracle and checks for abort. */
export interface SubstituteFitScope {
  /** The oracle (its input shape, classes and bounds). */
  readonly oracle: AnyModel;
  /**
   * The oracle's labels of `x`, rows `first …` of the growing training set: row `j` of the set
   * descends from seed image `j mod n` (inside an attack, whose queries it counts).
   */
  readonly labels: (x: tf.Tensor, first: number) => Promise<Int32Array>;
  /** Abort point and progress, once per epoch. */
  readonly checkpoint: (round: number, rounds: number, epoch: number, epochs: number) => Promise<void>;
}

/**
 * Papernot et al.'s substitute training from the seed images: returns the substitute (its weights
 * the caller's, through `dispose`).
 */
export async function fitSubstitute(
  scope: SubstituteFitScope,
  seedImages: tf.Tensor,
  opts: OptionsResolved<typeof FIT_SUBSTITUTE_OPTIONS>,
  rng: Rng,
): Promise<Substitute> {
  const o = scope.oracle;
  const { hidden, rounds, epochs, lambda, tau, learningRate, trainBatchSize: batchSize } = opts;
  const d = o.inputShape.reduce((p, s) => p * s, 1);
  const sizes = [d, ...hidden, o.numClasses];
  const weights: tf.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l] as number, sizes[l + 1] as number];
    const scale = Math.sqrt(2 / fanIn);
    const values = Float32Array.from({ length: fanIn * fanOut }, () => scale * rng.normal());
    weights.push(tf.tidy(() => tf.variable(tf.tensor2d(values, [fanIn, fanOut]))));
    weights.push(tf.tidy(() => tf.variable(tf.zeros([fanOut]))));
  }
  const forward = (x: tf.Tensor): tf.Tensor2D => {
    let h = tf.reshape(x, [-1, d]) as tf.Tensor2D;
    for (let l = 0; l < weights.length; l += 2) {
      h = tf.add(tf.matMul(h, weights[l] as tf.Variable), weights[l + 1] as tf.Variable) as tf.Tensor2D;
      if (l + 2 < weights.length) h = tf.relu(h);
    }
    return h;
  };
  const optimizer = tf.train.adam(learningRate);
  const [lo, hi] = o.bounds;
  let set = tf.clone(seedImages);
  let labels = new Int32Array(0);
  let queries = 0;
  let agreement = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const fresh = tf.slice(set, labels.length);
      let got: Int32Array;
      try {
        got = await scope.labels(fresh, labels.length);
      } finally {
        fresh.dispose();
      }
      queries += got.length;
      const all = new Int32Array(labels.length + got.length);
      all.set(labels);
      all.set(got, labels.length);
      labels = all;
      const n = labels.length;
      const y = tf.tensor1d(labels, 'int32');
      try {
        for (let epoch = 0; epoch < epochs; epoch++) {
          await scope.checkpoint(round, rounds, epoch, epochs);
          const order = rng.permutation(n);
          for (let b = 0; b < n; b += batchSize) {
            const idx = tf.tensor1d(order.subarray(b, Math.min(n, b + batchSize)), 'int32');
            const cost = optimizer.minimize(() => tf.mean(crossEntropy(forward(tf.gather(set, idx)), tf.gather(y, idx) as tf.Tensor1D)) as tf.Scalar, true);
            tf.dispose([idx, cost as tf.Tensor]);
          }
        }
        const acc = tf.tidy(() => tf.mean(tf.cast(tf.equal(tf.cast(tf.argMax(forward(set), 1), 'int32'), y), 'float32')));
        agreement = ((await acc.data()) as Float32Array)[0] as number;
        acc.dispose();
        if (round + 1 < rounds) {
          const step = lambda * (hi - lo) * (Math.floor(round / tau) % 2 === 0 ? 1 : -1);
          const grown = tf.tidy(() => {
            const onehot = tf.oneHot(y, o.numClasses);
            const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(forward(x), onehot)))(set);
            return tf.concat([set, tf.clipByValue(tf.add(set, tf.mul(tf.sign(g), step)), lo, hi)], 0);
          });
          set.dispose();
          set = grown;
        }
      } finally {
        y.dispose();
      }
    }
  } catch (err) {
    tf.dispose([set, ...weights]);
    optimizer.dispose();
    throw err;
  }
  optimizer.dispose();
  const trainingSetSize = set.shape[0] as number;
  set.dispose();
  const model = fromFunction((x) => forward(x), { inputShape: o.inputShape, numClasses: o.numClasses, bounds: o.bounds, output: 'logits' });
  return disposable({ model, queries, trainingSetSize, agreement }, weights);
}
