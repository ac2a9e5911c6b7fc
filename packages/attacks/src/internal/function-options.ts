/**
 * Validation shared by the attacks that are functions rather than `defineAttack` factories
 * (`trainPatch`, `evaluatePatch`, `eot`, `universalPerturbation`, `trainSubstitute`): the
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
