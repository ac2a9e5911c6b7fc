/**
 * `Sigmoid` with the cpu backend's semantics (`1 / (1 + exp(−x))` in float64), as a loop over the
 * wasm heap.
 *
 * tfjs-backend-wasm 4.22's kernel flushes results below float32's normal range to 0 (x ≤ −87.4), so
 * `log(sigmoid(x))` becomes −∞ there, and the gradients of Sigmoid and Softplus vanish.
 *
 * @internal
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { unaryFloat32 } from './heap.js';

/** `sigmoid(x)` for float32 `x`; null (stock kernel) otherwise. */
export function sigmoidFixed(x: TensorInfo, backend: WasmKernelBackend): TensorInfo | null {
  const io = unaryFloat32(x, backend);
  if (io === null) return null;
  const { src, dst } = io;
  for (let i = 0; i < src.length; i++) dst[i] = 1 / (1 + Math.exp(-src[i]!));
  return io.out;
}
