/**
 * `@advx/backend-wasm`: the TensorFlow.js WASM backend (XNNPACK, SIMD) set up for advx, in Node
 * without a bundler and in browsers (optionally multi-threaded in Node), plus the gradient kernels
 * tfjs-backend-wasm 4.22 lacks (conv2d filter gradient, depthwise conv2d input and filter
 * gradients), runs slowly (conv2d input gradient, transposed/batched `BatchMatMul`) or gets wrong
 * (`MaxPoolGrad`: all-negative pooling windows and ties).
 *
 * Importing the package changes nothing in tfjs: `@tensorflow/tfjs-backend-wasm` is imported (and so
 * registers the wasm backend) only when {@link useWasm} is called. Node-only code (locating the
 * binaries, wasm threads in Node) sits behind the `node` condition of the package's `#platform`
 * import, so browser bundlers never see Node's built-ins.
 *
 * @example
 * ```ts
 * import { useWasm } from '@advx/backend-wasm';
 * await useWasm(); // tf.getBackend() === 'wasm'
 * ```
 * @packageDocumentation
 */
export { MAX_WASM_THREADS, useWasm } from './use-wasm.js';
export type { UseWasmOptions, WasmBackendInfo } from './use-wasm.js';
export { registerWasmKernels, unregisterWasmKernels, wasmKernelOverrides } from './register.js';
export type { WasmKernelOverride } from './register.js';
