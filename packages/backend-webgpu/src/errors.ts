/**
 * The advx error class, re-exported from one place.
 *
 * @internal
 * @packageDocumentation
 */
export { AdvxError } from '@advx/core';
