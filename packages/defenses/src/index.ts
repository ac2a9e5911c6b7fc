/**
 * `@advx/defenses`.
 *
 * @packageDocumentation
 */
export {};
