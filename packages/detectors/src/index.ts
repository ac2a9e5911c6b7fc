/**
 * `@advx/detectors`.
 *
 * @packageDocumentation
 */
export {};
