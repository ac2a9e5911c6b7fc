import {
  RESULT_SCHEMA,
  type AttackSummary,
  type CurvePoint,
  type EpsilonSummary,
  type EvaluationConfig,
  type EvaluationResult,
  type ExampleRecord,
  type MaskingWarning,
  type SampleRecord,
} from '../types.js';
import type { PassCount } from '@advx/core';
import { clopperPearson } from '../clopper-pearson.js';
import { gridWarnings } from './masking-checks.js';

/** The confidence of every interval in a result. */
export const CONFIDENCE = 0.95;
/** `robust` of `n` samples as a curve point's accuracy and interval. */
const share = (robust: number, n: number) => ({ robustAccuracy: n === 0 ? 0 : robust / n, interval: clopperPearson(robust, n, CONFIDENCE) });

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((s, v) => s + v, 0) / values.length;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Whether sample `s` is still correctly classified at epsilon `e` after attack `a` (sequential: and all before it). */
function robustAfter(s: SampleRecord, a: number, e: number, cumulative: boolean): boolean {
  if (s.prediction !== s.label) return false;
  const first = cumulative ? 0 : a;
  for (let k = first; k <= a; k++) if (s.attacks[k]?.success[e] === true) return false;
  return true;
}

function minimizationCurve(samples: readonly SampleRecord[], a: number): CurvePoint[] {
  const n = samples.length;
  const correct = samples.filter((s) => s.prediction === s.label);
  const distances = correct
    .map((s) => s.attacks[a]?.distance)
    .filter((d): d is number => d !== null && d !== undefined)
    .sort((x, y) => x - y);
  const points: CurvePoint[] = [{ epsilon: 0, ...share(correct.length, n) }];
  let fooled = 0;
  for (let i = 0; i < distances.length;) {
    const d = distances[i] as number;
    while (i < distances.length && distances[i] === d) {
      fooled++;
      i++;
    }
    // A sample with minimal perturbation d is fooled for every epsilon ≥ d.
    if (d === 0) points[0] = { epsilon: 0, ...share(correct.length - fooled, n) };
    else points.push({ epsilon: d, ...share(correct.length - fooled, n) });
  }
  return points;
}

function summarizeAttack(config: EvaluationConfig, samples: readonly SampleRecord[], a: number, timeMs: number, passes: PassCount | undefined): AttackSummary {
  const info = config.attacks[a] as EvaluationConfig['attacks'][number];
  const cumulative = config.mode === 'sequential';
  const blackBox = info.threat !== 'white-box';
  const n = samples.length;
  const perEpsilon: EpsilonSummary[] = config.epsilons.map((epsilon, e) => {
    const runs = samples.map((s) => s.attacks[a] as SampleRecord['attacks'][number]).filter((r) => r.success[e] !== null);
    const perturbations = runs.filter((r) => r.success[e] === true).map((r) => r.perturbation[e] as number);
    const robust = samples.filter((s) => robustAfter(s, a, e, cumulative)).length;
    return {
      epsilon,
      robustAccuracy: n === 0 ? 0 : robust / n,
      robustInterval: clopperPearson(robust, n, CONFIDENCE),
      successRate: runs.length === 0 ? 0 : perturbations.length / runs.length,
      attacked: runs.length,
      meanPerturbation: mean(perturbations),
      medianPerturbation: median(perturbations),
      meanQueries: blackBox ? mean(runs.map((r) => r.queries)) : null,
    };
  });
  const summary: AttackSummary = { ...info, perEpsilon, timeMs, ...(passes ? { passes } : {}) };
  if (info.kind !== 'minimization' || cumulative) return summary;
  const fooled = samples.filter((s) => s.prediction === s.label && s.attacks[a]?.distance !== null);
  const ratios = fooled.map((s) => (s.inputNorm > 0 ? (s.attacks[a]?.distance as number) / s.inputNorm : 0));
  const minimal = fooled.map((s) => s.attacks[a]?.distance as number);
  return {
    ...summary,
    curve: minimizationCurve(samples, a),
    ...(fooled.length
      ? {
          empiricalRobustness: mean(ratios) as number,
          minimalPerturbation: { mean: mean(minimal) as number, median: median(minimal) as number },
        }
      : {}),
  };
}

/** Per epsilon, the share of samples correct and fooled by no attack. */
function ensembleCurve(config: EvaluationConfig, samples: readonly SampleRecord[]): CurvePoint[] {
  const last = config.attacks.length - 1;
  return config.epsilons.map((epsilon, e) => ({ epsilon, ...share(samples.filter((s) => robustAfter(s, last, e, true)).length, samples.length) }));
}

/**
 * The first `config.examples` examples (by dataset index) of each attack at each ε, ordered by attack,
 * then ε (the unrestricted minimal adversarials, `epsilon: null`, first), then index.
 */
export function pickExamples(config: EvaluationConfig, examples: readonly ExampleRecord[]): ExampleRecord[] {
  const out: ExampleRecord[] = [];
  for (const info of config.attacks) {
    for (const epsilon of [null, ...config.epsilons]) {
      const mine = examples.filter((x) => x.attack === info.label && x.epsilon === epsilon).sort((p, q) => p.index - q.index);
      out.push(...mine.slice(0, config.examples));
    }
  }
  return out;
}

/**
 * The sum of pass counts, or `undefined` when any part has none (an attack that ran through
 * queries, or a chunk restored from a state written before advx counted passes): a partial sum
 * would understate the cost.
 */
export function sumPasses(parts: readonly (PassCount | null | undefined)[]): PassCount | undefined {
  if (parts.length === 0 || parts.some((p) => p === null || p === undefined)) return undefined;
  return (parts as PassCount[]).reduce((s, p) => ({ forward: s.forward + p.forward, backward: s.backward + p.backward }), { forward: 0, backward: 0 });
}

/** Builds the result from per-sample records: the one place aggregates are computed (evaluate and mergeResults). */
export function buildResult(args: {
  config: EvaluationConfig;
  shard: EvaluationResult['shard'];
  range: readonly [number, number];
  samples: readonly SampleRecord[];
  timeMs: readonly number[];
  /** Per attack: passes summed over the samples' chunks (undefined where not counted). */
  passes?: readonly (PassCount | undefined)[];
  examples: readonly ExampleRecord[];
  probeWarnings: readonly MaskingWarning[];
}): EvaluationResult {
  const { config } = args;
  const samples = [...args.samples].sort((p, q) => p.index - q.index);
  const n = samples.length;
  const attacks = config.attacks.map((_, a) => summarizeAttack(config, samples, a, args.timeMs[a] ?? 0, args.passes?.[a]));
  const ensemble = ensembleCurve(config, samples);
  const warnings = [...args.probeWarnings, ...(config.diagnostics ? gridWarnings(config, attacks, ensemble, samples, config.diagnostics) : [])];
  return {
    schema: RESULT_SCHEMA,
    config,
    shard: args.shard,
    range: [args.range[0], args.range[1]],
    n,
    cleanAccuracy: n === 0 ? 0 : samples.filter((s) => s.prediction === s.label).length / n,
    cleanInterval: clopperPearson(samples.filter((s) => s.prediction === s.label).length, n, CONFIDENCE),
    intervals: { method: 'clopper-pearson', confidence: CONFIDENCE },
    attacks,
    ensemble,
    warnings,
    examples: pickExamples(config, args.examples),
    samples,
  };
}
