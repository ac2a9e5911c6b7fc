import type { EvaluationConfig, MaskingWarning } from '../types.js';
import { stepReach, type StepReach } from './step-reach.js';

const fmt = (v: number) => String(Number(v.toPrecision(3)));

/** What {@link reachWarnings} reads of an evaluation's configuration. */
export type ReachConfig = Pick<EvaluationConfig, 'attacks' | 'epsilons'> & { readonly model: Pick<EvaluationConfig['model'], 'inputShape' | 'bounds'> };

/**
 * `STEPS_CANNOT_REACH_EPSILON`: one warning per attack whose `steps × stepSize` (see {@link stepReach})
 * is below ε at some ε of the grid — the iterates cannot leave a ball of that radius around their start,
 * so the attack runs at a smaller ε than reported and its robust accuracy overstates robustness.
 *
 * The rule is the same with and without a random start: the reach counts from the start point. From
 * the clean input, `T·α ≥ ε` is what reaching the boundary takes. A uniform random start does not make
 * up for a shorter path: in Linf each coordinate starts uniformly in [−ε, ε], and only a share
 * `T·α/(2ε)` of them (for `T·α ≤ 2ε`) can get to the boundary on the side the gradient points to, so a
 * random start with `T·α < ε` leaves more than half of the coordinates short. Restarts do not lengthen
 * a path either. The check uses only the configuration, so merged shards recompute it.
 *
 * @param config - the evaluation's configuration (attacks with their resolved options, epsilons, model shape and bounds).
 * @returns the warnings, in attack order.
 */
export function reachWarnings(config: ReachConfig): MaskingWarning[] {
  const dims = config.model.inputShape.reduce((p, d) => p * d, 1);
  const epsilons = [...config.epsilons].sort((p, q) => p - q);
  const out: MaskingWarning[] = [];
  for (const attack of config.attacks) {
    if (attack.kind !== 'fixed-epsilon') continue;
    const short = epsilons
      .map((epsilon) => ({ epsilon, reach: stepReach(attack.name, attack.options, epsilon, config.model.bounds, dims) }))
      .filter((r): r is { epsilon: number; reach: StepReach } => r.reach !== undefined && r.reach.reach < r.epsilon * (1 - 1e-9));
    const worst = short[short.length - 1];
    if (worst === undefined) continue;
    const { epsilon, reach: r } = worst;
    const ratio = r.reach / epsilon;
    const relative = r.stepSizeFrom === 'relative';
    const stepText = relative ? `${fmt(r.stepSize / epsilon)}·ε` : fmt(r.stepSize);
    const reachText = relative ? `${fmt(ratio)}·ε < ε` : `${fmt(r.reach)} (${fmt(ratio)}·ε) < ε = ${fmt(epsilon)}`;
    // A relative step size falls short at every ε alike.
    const others = short.length > 1 && !relative ? ` (short at ε = ${short.map((s) => fmt(s.epsilon)).join(', ')})` : '';
    const budget =
      r.queryLimitedSteps !== undefined
        ? ` maxQueries = ${String(attack.options.maxQueries)} pays for ${r.queryLimitedSteps} of its ${String(attack.options.steps)} steps.`
        : '';
    const start = r.randomStart ? 'their random start (restarts do not lengthen a path)' : 'the input';
    const fix =
      r.queryLimitedSteps !== undefined
        ? `raise maxQueries or ${r.stepSizeOption}`
        : r.stepSizeOption === 'steps'
          ? 'raise steps'
          : `raise steps or ${r.stepSizeOption}`;
    const target = relative ? `steps × relStepSize ≥ 1` : `steps × step size ≥ ${fmt(epsilons[epsilons.length - 1] as number)}`;
    out.push({
      code: 'STEPS_CANNOT_REACH_EPSILON',
      message:
        `${attack.label}: ${r.steps} steps × ${stepText} reach ${reachText}${others}.${budget} The iterates stay within ${relative ? `${fmt(ratio)}·ε` : fmt(r.reach)} of ${start}, ` +
        `so the attack runs at a smaller ε than reported and its robust accuracy overstates robustness: ${fix} (${target}).`,
      evidence: {
        attack: attack.label,
        epsilon,
        steps: r.steps,
        stepSize: Number(r.stepSize.toPrecision(6)),
        reach: Number(r.reach.toPrecision(6)),
        reachOverEpsilon: Number(ratio.toPrecision(6)),
        randomStart: r.randomStart,
        shortEpsilons: short.length,
      },
    });
  }
  return out;
}
