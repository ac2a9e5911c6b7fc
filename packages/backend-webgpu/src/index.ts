/**
 * `@advx/backend-webgpu`: the TensorFlow.js WebGPU backend set up for advx, in browsers and in
 * Node through Dawn (the `webgpu` package), with a clear error when no adapter is found.
 *
 * @example
 * ```ts
 * import { useWebGPU } from '@advx/backend-webgpu';
 * await useWebGPU(); // tf.getBackend() === 'webgpu'
 * ```
 * @packageDocumentation
 */
export { useWebGPU } from './use-webgpu.js';
export type { UseWebGPUOptions, WebGPUBackendInfo } from './use-webgpu.js';
