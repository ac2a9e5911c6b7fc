import * as tf from '@tensorflow/tfjs-core';

import {
  crossEntropy,
  defineAttack,
  dlr,
  isAdversarialLogits,
  option,
  targetedDlr,
  type AttackContext,
  type AttackMeta,
  type AttackOptions,
  type FactoryOptions,
  type Objective,
} from '@advx/core';

import { APGD_OPTIONS, apgdSearch, requireClasses, type ApgdConfig } from './internal/apgd-engine.js';

/**
 * The options of {@link apgdCe} and {@link apgdDlr}: the engine's, and `eotSteps`; {@link apgd} adds `loss`.
 */
const PRESET_OPTIONS = {
  ...APGD_OPTIONS,
  eotSteps: option.integer(
    1,
    "expectation over transformation for randomized models: each gradient is the mean of eotSteps forward/backward passes (eot_iter of the authors' autopgd_base.py)",
    { min: 1 },
  ),
} as const;

/** The resolved options the shared APGD math reads (those of the presets; {@link apgd}'s include them). */
type PresetResolved = Required<AttackOptions<typeof PRESET_OPTIONS, 'linf' | 'l2' | 'l1'>>;

const PAPER =
  'Croce & Hein (2020), "Reliable evaluation of adversarial robustness with an ensemble of diverse parameter-free attacks", ICML 2020, https://arxiv.org/abs/2003.01690; L1: Croce & Hein (2021), "Mind the box: l1-APGD for sparse adversarial attacks on image classifiers", ICML 2021, https://arxiv.org/abs/2103.01208';

function pick(values: Int32Array, rows: Int32Array): Int32Array {
  return Int32Array.from(rows, (r) => values[r] as number);
}

async function perturbApgd(ctx: AttackContext<PresetResolved>, lossName: 'ce' | 'dlr', name: string): Promise<tf.Tensor> {
  const model = ctx.whiteBox();
  const { targeted } = ctx.goal;
  if (lossName === 'dlr') requireClasses(name, targeted ? 'dlr (targeted)' : 'dlr', model.numClasses, targeted ? 4 : 3);
  const classes = Int32Array.from(await ctx.goal.classes.data());
  let sources: Int32Array | undefined;
  if (targeted && lossName === 'dlr') {
    const labels = ctx.goal.labels ?? tf.tidy(() => tf.argMax(model.logits(ctx.x), 1) as tf.Tensor1D);
    sources = Int32Array.from(await labels.data());
    if (labels !== ctx.goal.labels) labels.dispose();
  }
  const o = ctx.options;
  const config: ApgdConfig = {
    steps: o.steps,
    restarts: o.restarts,
    randomStart: o.randomStart,
    rho: o.rho,
    alpha: o.alpha,
    earlyStop: o.earlyStop,
    eotSteps: o.eotSteps,
  };
  return apgdSearch(ctx, config, 1, (_, rows) => {
    const cls = tf.tensor1d(pick(classes, rows), 'int32');
    const goal = { targeted, classes: cls, labels: undefined };
    const isAdversarial = (logits: tf.Tensor2D) => isAdversarialLogits(logits, goal);
    if (!targeted) {
      const objective: Objective = lossName === 'ce' ? (z) => crossEntropy(z, cls) : (z) => dlr(z, cls);
      return { objective, isAdversarial, tensors: [cls] };
    }
    if (lossName === 'ce') return { objective: (z) => tf.neg(crossEntropy(z, cls)) as tf.Tensor1D, isAdversarial, tensors: [cls] };
    const y = tf.tensor1d(pick(sources as Int32Array, rows), 'int32');
    return { objective: (z) => targetedDlr(z, y, cls), isAdversarial, tensors: [cls, y] };
  });
}

const META = {
  kind: 'fixed-epsilon',
  norms: ['linf', 'l2', 'l1'] as const,
  threat: 'white-box',
  goals: ['untargeted', 'targeted'],
  randomized: true,
  paper: PAPER,
} as const satisfies Omit<AttackMeta, 'name'>;

/**
 * APGD: Auto-PGD, a step-size-free PGD with momentum.
 *
 * Paper: Francesco Croce, Matthias Hein (2020), "Reliable evaluation of adversarial robustness with
 * an ensemble of diverse parameter-free attacks", ICML 2020, {@link https://arxiv.org/abs/2003.01690}.
 * L1: Francesco Croce, Matthias Hein (2021), "Mind the box: l1-APGD for sparse adversarial attacks
 * on image classifiers", ICML 2021, {@link https://arxiv.org/abs/2103.01208}.
 *
 * Threat model: white-box (gradients), fixed epsilon; untargeted or targeted.
 *
 * Distance measure: Linf or L2 (option `norm`). Algorithm 1 of the paper: from `x⁽⁰⁾` (a random point
 * on the ε-sphere, or `x`), `x⁽¹⁾ = P(x⁽⁰⁾ + η∇f)`, then `z = P(x⁽ᵏ⁾ + η∇f(x⁽ᵏ⁾))` and
 * `x⁽ᵏ⁺¹⁾ = P(x⁽ᵏ⁾ + α(z − x⁽ᵏ⁾) + (1 − α)(x⁽ᵏ⁾ − x⁽ᵏ⁻¹⁾))`, where `∇` is `sign(g)` (linf) or
 * `g/‖g‖₂` (l2) and `P` projects onto the ε-ball and the model's bounds. The step size η starts at 2ε
 * per sample and is halved at the checkpoints `w_j = ⌈p_j·N⌉` (p = 0, 0.22, 0.41, 0.57, 0.70, …)
 * when fewer than ρ of the steps since the last checkpoint increased the loss, or when η and the best
 * loss both stayed unchanged since the last checkpoint; a halving restarts from the best point.
 * Each sample returns its first adversarial iterate (or, with `earlyStop: false`, the adversarial
 * iterate of highest loss of its first successful run), else the point of highest loss over all runs.
 *
 * `norm: 'l1'` is l1-APGD (Croce & Hein 2021, §3–4, with the details of the authors'
 * `autopgd_base.py`): the threat model is the L1 ball intersected with the bounds, and
 * - the start is `x + P(t)`, `t` standard normal, `P` the exact projection onto the ε-L1 ball ∩ the
 *   bounds (a sparse point on the sphere);
 * - a step is `x⁽ᵏ⁺¹⁾ = x + P(x⁽ᵏ⁾ + η·s − x)` with no momentum, where `s` is `sign(g)` on the
 *   coordinates of largest `|g|`, divided by their number (unit L1 norm); coordinates on a bound
 *   whose gradient points out of the box are left out (they cannot move);
 * - `P` is the exact Euclidean projection onto the intersection (the paper's point: projecting onto
 *   the ball and then clipping is not the projection and wastes budget);
 * - η starts at ε and a step moves 20 % of the coordinates. Every `max(⌊0.04·N⌋, 1)` iterations,
 *   with `s` the sparsity (non-zero count) of `x_max − x`, a step moves the fraction `s/(1.5·d)`;
 *   if `s` dropped below 95 % of its value at the previous checkpoint, η is reset to ε and the
 *   iterate restarts from `x_max`, else η is divided by 1.5; η stays in [ε/10, ε]. `rho` and
 *   `alpha` do not apply.
 * ε scale: the paper uses ε = 12 on CIFAR-10 (d = 3072) in [0, 1]; for MNIST-like 28×28 inputs in
 * [0, 1] use ε = 10 (Tramèr & Boneh 2019's L1 MNIST budget).
 *
 * Input: a batch `[n, ...model.inputShape]` inside `model.bounds` (any range); epsilons in input units.
 *
 * Options: {@link apgd}.schema, listed by `advx list --options apgd`:
 *
 * <!-- options:apgd -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `loss` | 'ce' \| 'dlr' | 'ce' | loss to ascend: cross-entropy of the label (minus that of the target when targeted), or the difference-of-logits-ratio loss |
 * | `steps` | integer in [1, ∞) | 100 | iterations N_iter per run |
 * | `restarts` | integer in [1, ∞) | 1 | runs per sample; a run after the first only attacks samples not yet adversarial, from a random point |
 * | `randomStart` | boolean | true | start the first run from a random point on the epsilon sphere too (as the authors' code); false starts it at x |
 * | `rho` | number in [0, 1] | 0.75 | ρ of the step-size rule: η is halved when fewer than ρ of the steps since the last checkpoint increased the loss (not used by 'l1') |
 * | `alpha` | number in (0, 1] | 0.75 | momentum weight α of the new gradient step (1: no momentum; not used by 'l1', which has no momentum) |
 * | `eotSteps` | integer in [1, ∞) | 1 | expectation over transformation for randomized models: each gradient is the mean of eotSteps forward/backward passes (eot_iter of the authors' autopgd_base.py) |
 * <!-- /options -->
 *
 * `loss` `'ce'` is APGD-CE; `'dlr'` is APGD-DLR (≥ 3 classes, targeted ≥ 4; targeted, the label is
 * its `y`). With `eotSteps` (expectation over transformation, EOT, Athalye et al. 2018, as `eot_iter`
 * of the authors' `autopgd_base.py`) each gradient is the mean of `eotSteps` forward/backward passes
 * of the model, while the loss that the step-size rule and the best-point bookkeeping see and the
 * adversarial check are those of the last pass (the reference averages only the gradient). It costs
 * `eotSteps` passes per iteration; 1 is plain APGD, and a deterministic model gives the same result
 * for any value (up to float rounding). AutoAttack's `'rand'` version uses 20.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { fromFunction } from '@advx/core';
 * import { apgd } from '@advx/attacks';
 *
 * const w = tf.tensor2d([[1, -1, 0.5], [-1, 1, 0], [0.5, -0.5, -1]]);
 * const model = fromFunction((x) => tf.matMul(x as tf.Tensor2D, w), {
 *   inputShape: [3], numClasses: 3, bounds: [0, 1], output: 'logits',
 * });
 * const x = tf.tensor2d([[0.6, 0.4, 0.5], [0.3, 0.8, 0.2]]);
 * const labels = tf.tensor1d([0, 1], 'int32');
 * const result = await apgd({ loss: 'dlr', steps: 100 }).run(model, x, { labels }, { epsilons: [0.1, 0.3], seed: 0 });
 * console.log(result.success); // per epsilon, per sample
 * result.dispose();
 *
 * // l1-APGD on the same model: budgets in L1 units of the input.
 * const sparse = await apgd({ norm: 'l1' }).run(model, x, { labels }, { epsilons: [0.2, 0.5], seed: 0 });
 * sparse.dispose();
 *
 * // A randomized model (noise in every forward pass): average each gradient over 20 passes (EOT).
 * const noisy = fromFunction((z) => tf.tidy(() => tf.matMul(tf.add(z as tf.Tensor2D, tf.randomNormal(z.shape, 0, 0.1)), w)), {
 *   inputShape: [3], numClasses: 3, bounds: [0, 1], output: 'logits',
 * });
 * const eot = await apgd({ eotSteps: 20 }).run(noisy, x, { labels }, { epsilons: [0.1] });
 * eot.dispose();
 * ```
 * @public
 */
export const apgd = defineAttack({
  meta: { name: 'apgd', ...META },
  options: {
    loss: option.oneOf(
      ['ce', 'dlr'],
      'ce',
      'loss to ascend: cross-entropy of the label (minus that of the target when targeted), or the difference-of-logits-ratio loss',
    ),
    ...PRESET_OPTIONS,
  },
  perturb: (ctx) => perturbApgd(ctx, ctx.options.loss, 'apgd'),
});

/**
 * APGD-CE: {@link apgd} with the cross-entropy loss (`loss: 'ce'`), the first attack of AutoAttack.
 *
 * Paper: Francesco Croce, Matthias Hein (2020), "Reliable evaluation of adversarial robustness with
 * an ensemble of diverse parameter-free attacks", ICML 2020, {@link https://arxiv.org/abs/2003.01690}.
 *
 * Threat model, norms (linf, l2, l1) and input: those of {@link apgd}. With `norm: 'l1'` it is
 * l1-APGD-CE (Croce & Hein 2021, {@link https://arxiv.org/abs/2103.01208}).
 *
 * Its options are those of {@link apgd} except `loss`.
 *
 * Options: {@link apgdCe}.schema, listed by `advx list --options apgd-ce`:
 *
 * <!-- options:apgd-ce -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | iterations N_iter per run |
 * | `restarts` | integer in [1, ∞) | 1 | runs per sample; a run after the first only attacks samples not yet adversarial, from a random point |
 * | `randomStart` | boolean | true | start the first run from a random point on the epsilon sphere too (as the authors' code); false starts it at x |
 * | `rho` | number in [0, 1] | 0.75 | ρ of the step-size rule: η is halved when fewer than ρ of the steps since the last checkpoint increased the loss (not used by 'l1') |
 * | `alpha` | number in (0, 1] | 0.75 | momentum weight α of the new gradient step (1: no momentum; not used by 'l1', which has no momentum) |
 * | `eotSteps` | integer in [1, ∞) | 1 | expectation over transformation for randomized models: each gradient is the mean of eotSteps forward/backward passes (eot_iter of the authors' autopgd_base.py) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { apgdCe } from '@advx/attacks';
 * const result = await apgdCe({ norm: 'l2' }).run(model, x, { labels }, { epsilons: [0.5] });
 * result.dispose();
 * ```
 * @public
 */
export const apgdCe = defineAttack({
  meta: { name: 'apgd-ce', ...META },
  options: PRESET_OPTIONS,
  perturb: (ctx) => perturbApgd(ctx, 'ce', 'apgd-ce'),
});

/**
 * APGD-DLR: {@link apgd} with the difference-of-logits-ratio loss (`loss: 'dlr'`), invariant to
 * shifts and rescalings of the logits. Needs ≥ 3 classes (≥ 4 for a targeted goal).
 *
 * Paper: Francesco Croce, Matthias Hein (2020), "Reliable evaluation of adversarial robustness with
 * an ensemble of diverse parameter-free attacks", ICML 2020, {@link https://arxiv.org/abs/2003.01690}.
 *
 * Threat model, norms (linf, l2, l1) and input: those of {@link apgd}. With `norm: 'l1'` it is
 * l1-APGD on DLR (Croce & Hein 2021, {@link https://arxiv.org/abs/2103.01208}).
 *
 * Its options are those of {@link apgd} except `loss`.
 *
 * Options: {@link apgdDlr}.schema, listed by `advx list --options apgd-dlr`:
 *
 * <!-- options:apgd-dlr -->
 * | option | values | default | |
 * | --- | --- | --- | --- |
 * | `norm` | 'linf' \| 'l2' \| 'l1' | 'linf' | perturbation norm |
 * | `earlyStop` | boolean | true | stop updating a sample once it is adversarial |
 * | `steps` | integer in [1, ∞) | 100 | iterations N_iter per run |
 * | `restarts` | integer in [1, ∞) | 1 | runs per sample; a run after the first only attacks samples not yet adversarial, from a random point |
 * | `randomStart` | boolean | true | start the first run from a random point on the epsilon sphere too (as the authors' code); false starts it at x |
 * | `rho` | number in [0, 1] | 0.75 | ρ of the step-size rule: η is halved when fewer than ρ of the steps since the last checkpoint increased the loss (not used by 'l1') |
 * | `alpha` | number in (0, 1] | 0.75 | momentum weight α of the new gradient step (1: no momentum; not used by 'l1', which has no momentum) |
 * | `eotSteps` | integer in [1, ∞) | 1 | expectation over transformation for randomized models: each gradient is the mean of eotSteps forward/backward passes (eot_iter of the authors' autopgd_base.py) |
 * <!-- /options -->
 *
 * @example
 * ```ts
 * import { apgdDlr } from '@advx/attacks';
 * const result = await apgdDlr().run(model, x, { labels }, { epsilons: [8 / 255] });
 * result.dispose();
 * ```
 * @public
 */
export const apgdDlr = defineAttack({
  meta: { name: 'apgd-dlr', ...META },
  options: PRESET_OPTIONS,
  perturb: (ctx) => perturbApgd(ctx, 'dlr', 'apgd-dlr'),
});

/**
 * Options of {@link apgd} (each optional; see its option table).
 *
 * @public
 */
export type ApgdOptions = FactoryOptions<typeof apgd>;

/**
 * Options of the presets {@link apgdCe} and {@link apgdDlr}: those of {@link apgd} without `loss`
 * (each optional; see their option tables).
 *
 * @public
 */
export type ApgdPresetOptions = FactoryOptions<typeof apgdCe>;
