/**
 * Validation shared by the attacks that are functions rather than `defineAttack` factories
 * (`trainPatch`, `evaluatePatch`, `eot`, `universalPerturbation`, `trainSubstitute`, `latentAttack`): the
 * `defineAttack` base does the same for factories.
 *
 * Not part of the public API.
 *
 * @internal
 * @packageDocumentation
 */
import { AdvxError, type AnyModel, type Model } from '@advx/core';

/** The model as a white-box {@link Model}; `INVALID_MODEL` for anything else, `UNSUPPORTED_MODEL` for a query model. */
export function requireWhiteBox(model: unknown, who: string): Model {
  const m = model as AnyModel | null;
  if (m === null || typeof m !== 'object' || (m.kind !== 'model' && m.kind !== 'query')) {
    throw new AdvxError('INVALID_MODEL', `${who}: model must be an advx Model: wrap tfjs models with fromLayersModel, fromGraphModel or fromFunction.`);
  }
  if (m.kind !== 'model') throw new AdvxError('UNSUPPORTED_MODEL', `${who} needs gradients (a white-box Model), but got a query-only model.`);
  return m;
}

/**
 * Checks `options.epsilon` (a finite number > 0, else `INVALID_EPSILON`) and `options.norm` (one of
 * `norms` when given, else `UNSUPPORTED_NORM`) before the option schema, so that these two keep the
 * codes the attack base gives them.
 */
export function checkEpsilonAndNorm(who: string, options: unknown, norms: readonly string[]): void {
  if (options === null || typeof options !== 'object') return;
  const { epsilon, norm } = options as { epsilon?: unknown; norm?: unknown };
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
    throw new AdvxError('INVALID_EPSILON', `${who}: epsilon must be a finite number > 0, got ${String(epsilon)}.`);
  }
  if (norm !== undefined && !norms.includes(norm as string)) {
    throw new AdvxError('UNSUPPORTED_NORM', `${who} is defined for ${norms.join(' and ')}, not '${String(norm)}'.`);
  }
}
