import * as tf from '@tensorflow/tfjs-core';

import { AdvxError, checkInteger, checkNumber, logitMargin, type Model, type NormName } from '@advx/core';

import type { AttackSummary, CurvePoint, DiagnosticsOptions, EvaluationConfig, MaskingWarning, SampleRecord } from '../types.js';
import { reachWarnings } from './reach-warnings.js';
import type { ResolvedAttack } from './resolve-attacks.js';

/** Diagnostics thresholds with their defaults filled in. */
export type ResolvedDiagnostics = Required<DiagnosticsOptions>;

const DEFAULTS: ResolvedDiagnostics = {
  probeSamples: 32,
  zeroGradientShare: 0.1,
  unbounded: true,
  unboundedTolerance: 0.05,
  tolerance: 0.01,
};

/** Fills in and checks the diagnostics options; `null` when they are off. */
export function resolveDiagnostics(given: boolean | DiagnosticsOptions | undefined): ResolvedDiagnostics | null {
  if (given === false) return null;
  if (given === undefined || given === true) return { ...DEFAULTS };
  if (given === null || typeof given !== 'object') {
    throw new AdvxError('INVALID_OPTION', 'diagnostics must be true, false or an object of thresholds.');
  }
  const known = Object.keys(DEFAULTS);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) throw new AdvxError('INVALID_OPTION', `diagnostics: unknown option '${key}'. Known options: ${known.join(', ')}.`);
  }
  const d = { ...DEFAULTS, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) } as ResolvedDiagnostics;
  checkInteger('diagnostics.probeSamples', d.probeSamples, 1);
  checkNumber('diagnostics.zeroGradientShare', d.zeroGradientShare, 0, 1);
  checkNumber('diagnostics.unboundedTolerance', d.unboundedTolerance, 0, 1);
  checkNumber('diagnostics.tolerance', d.tolerance, 0, 1);
  if (typeof d.unbounded !== 'boolean') throw new AdvxError('INVALID_OPTION', 'diagnostics.unbounded must be true or false.');
  return d;
}

const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
const round = (v: number, digits = 4) => Number(v.toFixed(digits));

/** An epsilon so large that every input in the bounds is inside the ball. */
export function unboundedEpsilon(norm: NormName, bounds: readonly [number, number], dims: number): number {
  const width = bounds[1] - bounds[0];
  if (norm === 'linf') return width;
  if (norm === 'l2') return width * Math.sqrt(dims);
  if (norm === 'l1') return width * dims;
  return dims;
}

async function outputWarning(model: Model, x: tf.Tensor): Promise<MaskingWarning | undefined> {
  if (model.outputKind === 'log-probabilities') {
    return {
      code: 'PROBABILITY_OUTPUT',
      message:
        'The model outputs probabilities (its adapter converts them to log-probabilities): gradients through a saturated softmax vanish and make attacks look weak. ' +
        'Evaluate the model without its final softmax (logits).',
      evidence: { outputKind: model.outputKind },
    };
  }
  const shares = tf.tidy(() => {
    const z = model.logits(x);
    const rows = z.shape[0];
    const prob = tf.logicalAnd(tf.all(tf.greaterEqual(z, 0), 1), tf.lessEqual(tf.abs(tf.sub(tf.sum(z, 1), 1)), 1e-4));
    const logProb = tf.lessEqual(tf.abs(tf.logSumExp(z, 1)), 1e-4);
    return tf.div(tf.stack([tf.sum(tf.cast(prob, 'float32')), tf.sum(tf.cast(logProb, 'float32'))]), rows);
  });
  const [probShare, logProbShare] = Array.from(await shares.data());
  shares.dispose();
  if ((probShare as number) < 1 && (logProbShare as number) < 1) return undefined;
  const what = (probShare as number) >= 1 ? 'probabilities' : 'log-probabilities';
  return {
    code: 'PROBABILITY_OUTPUT',
    message:
      `Every output row of the model is a vector of ${what} although it is declared to output logits: gradients through a saturated softmax vanish and make attacks look weak. ` +
      'Remove the final (log-)softmax from the model.',
    evidence: { outputKind: model.outputKind, rows: x.shape[0], probabilityRows: probShare as number, logProbabilityRows: logProbShare as number },
  };
}

async function gradientWarning(model: Model, x: tf.Tensor, labels: Int32Array, share: number): Promise<MaskingWarning | undefined> {
  const stats = tf.tidy(() => {
    const y = tf.tensor1d(labels, 'int32');
    const g = tf.grad((xi: tf.Tensor) => tf.sum(logitMargin(model.logits(xi), y)))(x);
    const flat = tf.reshape(g, [x.shape[0], -1]);
    const nan = tf.any(tf.isNaN(flat), 1);
    const zero = tf.logicalAnd(tf.logicalNot(nan), tf.equal(tf.max(tf.abs(flat), 1), 0));
    return tf.stack([tf.sum(tf.cast(zero, 'float32')), tf.sum(tf.cast(nan, 'float32'))]);
  });
  const [zero, nan] = Array.from(await stats.data()) as [number, number];
  stats.dispose();
  const n = x.shape[0];
  const bad = (zero + nan) / n;
  if (bad <= share) return undefined;
  return {
    code: 'ZERO_GRADIENTS',
    message:
      `The input gradient of the logit margin is all zero on ${zero} and NaN on ${nan} of ${n} probe samples (${pct(bad)}): ` +
      'gradient-based attacks cannot make progress, so their robust accuracy overstates robustness (e.g. a non-differentiable layer such as rounding or quantization). ' +
      'Attack through a differentiable approximation (BPDA) or use black-box attacks.',
    evidence: { samples: n, zeroGradients: zero, nanGradients: nan, share: round(bad) },
  };
}

async function randomnessWarning(model: Model, x: tf.Tensor): Promise<MaskingWarning | undefined> {
  const stats = tf.tidy(() => {
    const a = model.logits(x);
    const b = model.logits(x);
    return tf.stack([tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(a))]);
  });
  const [diff, scale] = Array.from(await stats.data()) as [number, number];
  stats.dispose();
  if (!(diff > 1e-5 * Math.max(1, scale))) return undefined;
  return {
    code: 'RANDOMIZED_MODEL',
    message:
      `Two forward passes on the same ${x.shape[0]} probe samples differ (largest logit difference ${diff.toPrecision(3)}): the model is randomized, ` +
      'so single-sample gradients are noisy and robust accuracy varies between runs. Use expectation over transformation (EOT) and report the spread over seeds.',
    evidence: { samples: x.shape[0], maxLogitDifference: round(diff, 6), maxLogit: round(scale, 4) },
  };
}

/**
 * The attack for the unbounded sanity check: the first per-sample white-box attack with a `steps`
 * option, else the first per-sample white-box one (a dataset-level attack need not reach 0 % even
 * unbounded: one perturbation for every sample leaves the samples of the class it lands on).
 */
function sanityAttack(attacks: readonly ResolvedAttack[]): ResolvedAttack | undefined {
  const white = attacks.filter((a) => a.attack.meta.threat === 'white-box' && a.attack.meta.scope !== 'dataset');
  return white.find((a) => 'steps' in (a.attack.options as object)) ?? white[0];
}

async function unboundedWarning(
  model: Model,
  x: tf.Tensor,
  labels: Int32Array,
  attacks: readonly ResolvedAttack[],
  norm: NormName,
  tolerance: number,
  seed: number,
  signal: AbortSignal | undefined,
): Promise<MaskingWarning | undefined> {
  const chosen = sanityAttack(attacks);
  if (chosen === undefined) return undefined;
  const pred = tf.tidy(() => tf.argMax(model.logits(x), 1));
  const predicted = (await pred.data()) as Int32Array;
  pred.dispose();
  const rows = Array.from(labels.keys()).filter((i) => predicted[i] === labels[i]);
  if (rows.length === 0) return undefined;
  const epsilon = unboundedEpsilon(
    norm,
    model.bounds,
    model.inputShape.reduce((p, d) => p * d, 1),
  );
  const xs = tf.gather(x, rows);
  const ys = tf.tensor1d(
    rows.map((i) => labels[i] as number),
    'int32',
  );
  let robust: number;
  try {
    const result = await chosen.attack.run(model, xs, { labels: ys }, { epsilons: [epsilon], seed, signal });
    robust = (result.success[0] as readonly boolean[]).filter((s) => !s).length / rows.length;
    result.dispose();
  } finally {
    tf.dispose([xs, ys]);
  }
  if (robust <= tolerance) return undefined;
  return {
    code: 'UNBOUNDED_NOT_ZERO',
    message:
      `${chosen.info.label} at ${norm} ε = ${round(epsilon)} (every input in the bounds is reachable) leaves ${pct(robust)} of ${rows.length} correctly classified probe samples robust; ` +
      'an unbounded attack must reach ~0 %. The attack is failing (masked gradients, too few steps or a too small step size): its robust accuracies are not trustworthy.',
    evidence: { attack: chosen.info.label, epsilon: round(epsilon, 6), samples: rows.length, robustAccuracy: round(robust) },
  };
}

/** Checks that probe the model on the first samples of the dataset, before the grid. */
export async function probeWarnings(args: {
  model: Model;
  x: tf.Tensor;
  labels: Int32Array;
  attacks: readonly ResolvedAttack[];
  norm: NormName;
  diagnostics: ResolvedDiagnostics;
  seed: number;
  signal: AbortSignal | undefined;
}): Promise<MaskingWarning[]> {
  const { model, x, labels, diagnostics } = args;
  const found = [
    await outputWarning(model, x),
    await gradientWarning(model, x, labels, diagnostics.zeroGradientShare),
    await randomnessWarning(model, x),
    diagnostics.unbounded
      ? await unboundedWarning(model, x, labels, args.attacks, args.norm, diagnostics.unboundedTolerance, args.seed, args.signal)
      : undefined,
  ];
  return found.filter((w): w is MaskingWarning => w !== undefined);
}

function blackBoxWarnings(config: EvaluationConfig, attacks: readonly AttackSummary[], samples: readonly SampleRecord[], tolerance: number): MaskingWarning[] {
  const black = attacks.map((a, i) => (a.threat === 'white-box' ? -1 : i)).filter((i) => i >= 0);
  // A dataset-level white-box attack (one universal perturbation) is weaker than per-sample attacks by design: it is no white-box reference.
  const white = attacks.map((a, i) => (a.threat === 'white-box' && a.scope !== 'dataset' ? i : -1)).filter((i) => i >= 0);
  if (black.length === 0 || white.length === 0 || samples.length === 0) return [];
  for (let e = 0; e < config.epsilons.length; e++) {
    const only = samples.filter((s) => black.some((b) => s.attacks[b]?.success[e] === true) && !white.some((w) => s.attacks[w]?.success[e] === true)).length;
    const share = only / samples.length;
    const bestOf = (ids: number[]) => Math.min(...ids.map((i) => (attacks[i] as AttackSummary).perEpsilon[e]?.robustAccuracy ?? 1));
    const bb = bestOf(black);
    const wb = bestOf(white);
    const beats = config.mode === 'sequential' ? true : bb < wb;
    if (share > tolerance && beats) {
      const eps = config.epsilons[e] as number;
      return [
        {
          code: 'BLACK_BOX_BEATS_WHITE_BOX',
          message:
            `At ε = ${eps}, black-box attacks fooled ${only} of ${samples.length} samples (${pct(share)}) that no white-box attack fooled` +
            (config.mode === 'sequential' ? '' : ` (best black-box robust accuracy ${pct(bb)}, best white-box ${pct(wb)}`) +
            (config.mode === 'sequential' ? '' : ')') +
            ': with working gradients white-box attacks are stronger, so the gradients are likely masked. Trust the black-box numbers and investigate the gradients.',
          evidence: { epsilon: eps, onlyBlackBox: only, samples: samples.length, blackBoxRobustAccuracy: round(bb), whiteBoxRobustAccuracy: round(wb) },
        },
      ];
    }
  }
  return [];
}

function epsilonWarnings(config: EvaluationConfig, attacks: readonly AttackSummary[], ensemble: readonly CurvePoint[], tolerance: number): MaskingWarning[] {
  // Single-step attacks (FGSM) are not checked: on a curved loss surface their one linear step
  // overshoots at large ε (Carlini et al. 2019, "On Evaluating Adversarial Robustness", §5), so
  // non-monotonicity says nothing about masking there. Iterative and minimization attacks must be monotone.
  const checked = attacks.filter((a) => a.kind === 'minimization' || 'steps' in a.options);
  const rows: [string, readonly CurvePoint[]][] = [...checked.map((a) => [a.label, a.perEpsilon] as [string, readonly CurvePoint[]]), ['ensemble', ensemble]];
  const out: MaskingWarning[] = [];
  for (const [label, points] of rows) {
    for (let e = 1; e < points.length; e++) {
      const lo = points[e - 1] as CurvePoint;
      const hi = points[e] as CurvePoint;
      if (hi.robustAccuracy > lo.robustAccuracy + tolerance) {
        out.push({
          code: 'ACCURACY_INCREASES_WITH_EPSILON',
          message:
            `${label}: robust accuracy rises from ${pct(lo.robustAccuracy)} at ε = ${lo.epsilon} to ${pct(hi.robustAccuracy)} at ε = ${hi.epsilon}; ` +
            'a larger ball contains the smaller one, so the attack is failing to optimise (masked or shattered gradients, or a step size tied to ε).',
          evidence: {
            attack: label,
            epsilon: lo.epsilon,
            robustAccuracy: round(lo.robustAccuracy),
            largerEpsilon: hi.epsilon,
            largerEpsilonRobustAccuracy: round(hi.robustAccuracy),
          },
        });
        break;
      }
    }
  }
  return config.epsilons.length > 1 ? out : [];
}

function stepsWarnings(config: EvaluationConfig, attacks: readonly AttackSummary[], tolerance: number): MaskingWarning[] {
  if (config.mode === 'sequential') return [];
  const out: MaskingWarning[] = [];
  const withoutSteps = (o: Readonly<Record<string, unknown>>) =>
    JSON.stringify(
      Object.entries(o)
        .filter(([k]) => k !== 'steps')
        .sort(),
    );
  for (const few of attacks) {
    for (const many of attacks) {
      const s1 = few.options.steps;
      const s2 = many.options.steps;
      if (few.name !== many.name || typeof s1 !== 'number' || typeof s2 !== 'number' || s2 <= s1) continue;
      if (withoutSteps(few.options) !== withoutSteps(many.options)) continue;
      const e = many.perEpsilon.findIndex((p, i) => p.robustAccuracy > (few.perEpsilon[i] as CurvePoint).robustAccuracy + tolerance);
      if (e < 0) continue;
      const a = few.perEpsilon[e] as CurvePoint;
      const b = many.perEpsilon[e] as CurvePoint;
      out.push({
        code: 'ACCURACY_INCREASES_WITH_STEPS',
        message:
          `At ε = ${a.epsilon}, ${many.label} (${s2} steps) leaves ${pct(b.robustAccuracy)} robust but ${few.label} (${s1} steps) only ${pct(a.robustAccuracy)}: ` +
          'more iterations of the same attack should never do worse; the loss surface is likely obfuscated.',
        evidence: {
          epsilon: a.epsilon,
          fewerSteps: s1,
          fewerStepsRobustAccuracy: round(a.robustAccuracy),
          moreSteps: s2,
          moreStepsRobustAccuracy: round(b.robustAccuracy),
        },
      });
    }
  }
  return out;
}

/** Checks on the grid's numbers (recomputed by mergeResults from the merged samples). */
export function gridWarnings(
  config: EvaluationConfig,
  attacks: readonly AttackSummary[],
  ensemble: readonly CurvePoint[],
  samples: readonly SampleRecord[],
  diagnostics: ResolvedDiagnostics,
): MaskingWarning[] {
  return [
    ...reachWarnings(config),
    ...blackBoxWarnings(config, attacks, samples, diagnostics.tolerance),
    ...epsilonWarnings(config, attacks, ensemble, diagnostics.tolerance),
    ...stepsWarnings(config, attacks, diagnostics.tolerance),
  ];
}
