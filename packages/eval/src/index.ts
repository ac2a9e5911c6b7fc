/**
 * `@advx/eval`.
 *
 * @packageDocumentation
 */
export {};
