/**
 * Perturbation-norm geometry: norms, distances, projections, steepest-ascent directions and
 * uniform random starts for the L∞, L2, L1 and L0 balls.
 *
 * @packageDocumentation
 */
import { AdvxError } from '../errors.js';
import { l0 } from './l0.js';
import { l1 } from './l1.js';
import { l2 } from './l2.js';
import { linf } from './linf.js';
import type { NormGeometry, NormName } from './types.js';

export type { NormGeometry, NormName } from './types.js';
export { l0, l1, l2, linf };

/**
 * Every supported norm geometry, by name.
 *
 * @public
 */
export const NORMS: Readonly<Record<NormName, NormGeometry>> = Object.freeze({ linf, l2, l1, l0 });

function isNormName(name: string): name is NormName {
  return Object.prototype.hasOwnProperty.call(NORMS, name);
}

/**
 * The geometry of the norm called `name`.
 *
 * @throws {@link AdvxError} `UNKNOWN_NORM` when `name` is not one of `'linf'`, `'l2'`, `'l1'`, `'l0'`.
 * @example
 * ```ts
 * const g = getNorm('l2');
 * const d = g.project(delta, 0.5);
 * ```
 * @public
 */
export function getNorm(name: string): NormGeometry {
  if (isNormName(name)) return NORMS[name];
  const valid = Object.keys(NORMS)
    .map((k) => `'${k}'`)
    .join(', ');
  throw new AdvxError('UNKNOWN_NORM', `Unknown norm ${JSON.stringify(name)}. Valid norms are ${valid}.`, { name, valid: Object.keys(NORMS) });
}
