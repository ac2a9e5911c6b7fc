/**
 * `Maximum` with the cpu backend's semantics (`Math.max`: NaN in either operand gives NaN), with
 * broadcasting, as a loop over the wasm heap; tfjs-backend-wasm 4.22's kernel returns the first
 * operand when the second is NaN.
 *
 * @internal
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { binaryFloat32 } from './heap.js';

/** `maximum(a, b)` for float32 `a` and `b`; null (stock kernel) otherwise. */
export function maximumFixed(a: TensorInfo, b: TensorInfo, backend: WasmKernelBackend): TensorInfo | null {
  return binaryFloat32(a, b, backend, Math.max);
}
