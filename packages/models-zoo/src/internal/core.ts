/**
 * The one place this package imports from `@advx/core` (kept external by tsup: the published
 * build shares `AdvxError` and the adapters with the installed `@advx/core`).
 *
 * @internal
 * @packageDocumentation
 */
export { AdvxError, fromLayersModel, isAdvxError, type AdvxErrorCode, type Model } from '@advx/core';
