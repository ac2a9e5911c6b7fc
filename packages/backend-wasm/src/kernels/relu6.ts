/**
 * `Relu6` with the cpu backend's semantics (`min(max(0, x), 6)`: NaN stays NaN).
 *
 * tfjs-backend-wasm 4.22's kernel maps NaN to 0 and agrees with cpu bitwise on every other input, so
 * the stock (SIMD) kernel runs unless the input may hold a NaN; then a loop over the wasm heap
 * computes what cpu does.
 *
 * @internal
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { isHeapBackend, mayHoldNaN, unaryFloat32 } from './heap.js';

/** `relu6(x)` for float32 `x` that may hold NaN; null (stock kernel) otherwise. */
export function relu6Fixed(x: TensorInfo, backend: WasmKernelBackend): TensorInfo | null {
  if (x.dtype !== 'float32' || !isHeapBackend(backend) || !mayHoldNaN(x, backend)) return null;
  const io = unaryFloat32(x, backend);
  if (io === null) return null;
  const { src, dst } = io;
  for (let i = 0; i < src.length; i++) dst[i] = Math.min(Math.max(0, src[i]!), 6);
  return io.out;
}
