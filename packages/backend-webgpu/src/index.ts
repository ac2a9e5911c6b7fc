/**
 * `@advx/backend-webgpu`.
 *
 * @packageDocumentation
 */
export {};
