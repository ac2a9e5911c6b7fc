import * as tf from '@tensorflow/tfjs-core';

import { defineAttack, option, Rng, type FactoryOptions } from '@advx/core';

import { fgsm } from './fgsm.js';
import { pgd } from './pgd.js';
import { FIT_SUBSTITUTE_OPTIONS, fitSubstitute } from './substitute-training.js';

/**
 * Transfer attack through a substitute (Papernot et al. 2017), as an attack: from the run's samples
 * as the seed set, a local MLP is trained to imitate the model from its labels only
 * ({@link trainSubstitute}'s Jacobian-based augmentation: the set doubles every round), then a
 * white-box attack on the substitute (`transfer`: FGSM, as in the paper, or PGD) crafts each
 * sample's adversarial example at ε, and the model is checked on it. The model is only queried
 * for labels: seed size × 2^(ρ − 1) queries, each charged to the sample its synthetic input
 * descends from, and the final check.
 *
 * A dataset-level attack (`meta.scope: 'dataset'`): the substitute is trained on all the run's
 * samples, so a sample's result depends on the others, and `maxPasses` does not apply. It is trained
 * at each ε from the same seed (the same substitute; its queries are counted at each ε). In `advx eval` and `evaluate` a substitute is trained on each chunk of
 * `batchSize` samples. A transfer attack uses no gradient of the model, so it sees through gradient
 * masking: a defense that stops white-box attacks but not this one is masking gradients.
 *
 * Backends can disagree on a few samples: the augmentation takes sign(∂F/∂x) of the substitute,
 * which flips where one of its ReLUs sits within float32 rounding of the kink, and training on the
 * changed set amplifies it (measured on `mnist-mlp`, 32 MNIST images, the defaults: 1 sample of
 * 32 differs between cpu and wasm). Compare figures of this attack on one backend.
 *
 * Paper: Nicolas Papernot, Patrick McDaniel, Ian Goodfellow, Somesh Jha, Z. Berkay Celik, Ananthram
 * Swami (2017), "Practical Black-Box Attacks against Machine Learning", {@link https://arxiv.org/abs/1602.02697}.
 *
 * Threat model: black-box, label-only (decision) queries; untargeted; Linf or L2.
 *
 * Options: {@link substituteTransfer}.schema, listed by `advx list --options substitute-transfer`:
 *
 * <!-- options:substitute-transfer -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `hidden` | an array of positive integer layer widths | [200,200] | hidden ReLU layer widths of the substitute MLP (Papernot et al.'s MNIST substitute) |
 * | `rounds` | integer in [1, ∞) | 6 | substitute training rounds ρ; the training set doubles after each but the last |
 * | `epochs` | integer in [1, ∞) | 10 | training epochs per round |
 * | `lambda` | number in [0, ∞) | 0.1 | Jacobian-based augmentation step λ, as a fraction of the bounds' width |
 * | `tau` | integer in [1, ∞) | 3 | the sign of λ flips every tau rounds (Papernot et al.'s periodic step size); tau ≥ rounds keeps it fixed |
 * | `learningRate` | number in (0, ∞) | 0.001 | Adam learning rate |
 * | `trainBatchSize` | integer in [1, ∞) | 32 | mini-batch size of the training |
 * | `transfer` | 'fgsm' \| 'pgd' | 'fgsm' | the white-box attack on the substitute: FGSM (the paper's) or PGD |
 * | `transferSteps` | integer in [1, ∞) | 20 | PGD steps on the substitute |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { toQueryModel } from '@advx/core';
 * import { substituteTransfer } from '@advx/attacks';
 *
 * const oracle = toQueryModel(model, { output: 'label' });
 * const result = await substituteTransfer({ rounds: 4 }).run(oracle, x, { labels }, { epsilons: [0.3], seed: 0 });
 * result.success; // per sample: the substitute's FGSM example fools the oracle
 * result.dispose();
 * ```
 * @public
 */
export const substituteTransfer = defineAttack({
  meta: {
    name: 'substitute-transfer',
    kind: 'fixed-epsilon',
    norms: ['linf', 'l2'],
    threat: 'decision',
    goals: ['untargeted'],
    randomized: true,
    scope: 'dataset',
    paper:
      'Papernot, McDaniel, Goodfellow, Jha, Celik & Swami (2017), "Practical Black-Box Attacks against Machine Learning", https://arxiv.org/abs/1602.02697',
  },
  options: {
    ...FIT_SUBSTITUTE_OPTIONS,
    transfer: option.oneOf(['fgsm', 'pgd'], 'fgsm', "the white-box attack on the substitute: FGSM (the paper's) or PGD"),
    transferSteps: option.integer(20, 'PGD steps on the substitute', { min: 1 }),
  },
  perturb: async (ctx): Promise<tf.Tensor> => {
    const n = ctx.n;
    const sub = await fitSubstitute(
      {
        oracle: ctx.model,
        // Row j of the growing set descends from sample j mod n: its label query is charged to that sample.
        labels: async (x, first) => {
          const rows = Int32Array.from({ length: x.shape[0] as number }, (_, j) => (first + j) % n);
          const scores = await ctx.query(x, rows);
          const pred = tf.tidy(() => tf.cast(tf.argMax(scores, 1), 'int32'));
          scores.dispose();
          const values = (await pred.data()) as Int32Array;
          pred.dispose();
          return values;
        },
        checkpoint: (round, rounds, epoch, epochs) => ctx.checkpoint(round * epochs + epoch, rounds * epochs),
      },
      ctx.x,
      ctx.options,
      new Rng(ctx.seed),
    );
    try {
      const norm = ctx.norm.name as 'linf' | 'l2';
      const attack = ctx.options.transfer === 'fgsm' ? fgsm({ norm, earlyStop: false }) : pgd({ norm, steps: ctx.options.transferSteps, earlyStop: false });
      // Untargeted against the model's labels as the substitute learned them (the goal's labels for the rows still to attack).
      const r = await attack.run(sub.model, ctx.x, { labels: ctx.goal.classes }, { epsilons: [ctx.epsilon], seed: ctx.seed, batchSize: ctx.batchSize });
      const out = tf.clone(r.clipped[0] as tf.Tensor);
      r.dispose();
      return out;
    } finally {
      sub.dispose();
    }
  },
});

/**
 * Options of {@link substituteTransfer} (each optional; see its option table).
 *
 * @public
 */
export type SubstituteTransferOptions = FactoryOptions<typeof substituteTransfer>;
