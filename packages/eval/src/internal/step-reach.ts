/**
 * How far an iterative attack's iterates can move from their start: `steps × stepSize`, from the
 * attack's resolved options at one ε. Every attack built on a fixed-size steepest-ascent step
 * (`x ← Π(x + α·d)` with ‖d‖ = 1 in the norm: sign steps for Linf, unit-norm steps for L2 and L1)
 * moves at most `α` per step, so after `T` steps it is within `T·α` of where it started. When
 * `T·α < ε` the boundary of the ε-ball is out of reach and the attack is run at a smaller ε than
 * reported.
 */

/** The step schedule of one attack at one ε, and the distance it can cover. */
export interface StepReach {
  /** Steps the attack can take (for estimated-gradient attacks, capped by the query budget). */
  readonly steps: number;
  /** Step size α at this ε, in the norm's units. */
  readonly stepSize: number;
  /** `steps × stepSize`. */
  readonly reach: number;
  /** Whether the iterates start from a random point of the ball (the reach is then from that point). */
  readonly randomStart: boolean;
  /** How the step size was set: `'relative'` (relStepSize·ε), `'absolute'` (stepSize) or `'rule'` (the attack's own schedule). */
  readonly stepSizeFrom: 'relative' | 'absolute' | 'rule';
  /** The option a user raises for a longer path besides `steps`. */
  readonly stepSizeOption: string;
  /** For estimated-gradient attacks: the steps the query budget allows, when it is below `steps`. */
  readonly queryLimitedSteps?: number;
}

const LEVELS = 255;
const num = (o: Readonly<Record<string, unknown>>, key: string, fallback: number): number => (typeof o[key] === 'number' ? (o[key] as number) : fallback);

/**
 * The reach of attack `name` with resolved `options` at `epsilon`, or `undefined` for attacks that
 * have no fixed step schedule to check:
 *
 * - `pgd`: `steps`, α = `stepSize` when > 0, else `relStepSize·ε`; from a random start when `randomStart`
 *   (restarts do not lengthen a path: each restart starts afresh).
 * - `bim`: Kurakin et al.'s schedule when `steps` / `stepSize` are 0 (Linf: α = (hi − lo)/255,
 *   steps = max(1, round(min(ε′ + 4, 1.25·ε′))), ε′ = ε/α; L2: 10 steps, α = 1.25·ε/steps), as the attack computes it.
 * - `mi-fgsm`: α = ε/steps, so the reach is ε exactly (never short).
 * - `finite-differences`, `nes`, `spsa`: `steps` capped by `maxQueries` at `1 + 2·samples` queries a
 *   step (finite differences: `samples` at most the input size), α as for PGD; no random start.
 * - Not checked: `fgsm` (one step of α = ε), APGD (`apgd`, `apgd-ce`, `apgd-dlr`, `apgd-t`: the step size
 *   starts at 2ε, Croce & Hein 2020, and is only halved at checkpoints, so the first step already
 *   reaches the boundary), minimization attacks (no ε-ball), and attacks without a step size (Square,
 *   SimBA, patches, JSMA, ...).
 *
 * @param name - registry name of the attack.
 * @param options - its resolved options (`AttackInfo.options`).
 * @param epsilon - the ε of the ball.
 * @param bounds - the model's input bounds.
 * @param dims - input size per sample.
 */
export function stepReach(
  name: string,
  options: Readonly<Record<string, unknown>>,
  epsilon: number,
  bounds: readonly [number, number],
  dims: number,
): StepReach | undefined {
  const stepSize = num(options, 'stepSize', 0);
  const relative = (): Pick<StepReach, 'stepSize' | 'stepSizeFrom'> =>
    stepSize > 0 ? { stepSize, stepSizeFrom: 'absolute' } : { stepSize: num(options, 'relStepSize', NaN) * epsilon, stepSizeFrom: 'relative' };
  const make = (
    steps: number,
    s: Pick<StepReach, 'stepSize' | 'stepSizeFrom'>,
    randomStart: boolean,
    stepSizeOption: string,
    extra: Partial<StepReach> = {},
  ): StepReach | undefined => {
    // 0 steps: a query budget below one step's cost.
    if (!(steps >= 0) || !(s.stepSize > 0)) return undefined;
    return { steps, ...s, reach: steps * s.stepSize, randomStart, stepSizeOption, ...extra };
  };
  switch (name) {
    case 'pgd':
      return make(num(options, 'steps', NaN), relative(), options.randomStart === true, stepSize > 0 ? 'stepSize' : 'relStepSize');
    case 'bim': {
      const given = num(options, 'steps', 0);
      if (options.norm === 'l2') {
        const t = given > 0 ? given : 10;
        return make(t, stepSize > 0 ? { stepSize, stepSizeFrom: 'absolute' } : { stepSize: (1.25 * epsilon) / t, stepSizeFrom: 'rule' }, false, 'stepSize');
      }
      const unit = (bounds[1] - bounds[0]) / LEVELS;
      const e = epsilon / unit;
      const t = given > 0 ? given : Math.max(1, Math.round(Math.min(e + 4, 1.25 * e)));
      return make(t, stepSize > 0 ? { stepSize, stepSizeFrom: 'absolute' } : { stepSize: unit, stepSizeFrom: 'rule' }, false, 'stepSize');
    }
    case 'mi-fgsm': {
      const t = num(options, 'steps', NaN);
      return make(t, { stepSize: epsilon / t, stepSizeFrom: 'rule' }, false, 'steps');
    }
    case 'finite-differences':
    case 'nes':
    case 'spsa': {
      const samples = num(options, 'samples', NaN);
      const perStep = 1 + 2 * Math.min(samples, name === 'finite-differences' ? dims : Infinity);
      const steps = num(options, 'steps', NaN);
      const budget = Math.floor(num(options, 'maxQueries', Infinity) / perStep);
      const limited = budget < steps ? { queryLimitedSteps: budget } : {};
      return make(Math.min(steps, budget), relative(), false, stepSize > 0 ? 'stepSize' : 'relStepSize', limited);
    }
    default:
      return undefined;
  }
}
