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

/** Throws `INVALID_OPTION` for options that are not an object or hold a key outside `known`. */
export function checkKnownOptions(who: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object') throw new AdvxError('INVALID_OPTION', `${who}: options must be an object.`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new AdvxError('INVALID_OPTION', `${who}: unknown option '${key}'. Known options: ${known.join(', ')}.`, { option: key });
    }
  }
}

/** The seed (default 0); `INVALID_OPTION` unless it is a finite number. */
export function checkSeed(who: string, seed: unknown): number {
  const s = seed ?? 0;
  if (typeof s !== 'number' || !Number.isFinite(s)) throw new AdvxError('INVALID_OPTION', `${who}: seed must be a finite number, got ${String(s)}.`);
  return s;
}
