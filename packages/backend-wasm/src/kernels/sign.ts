/**
 * `Sign` with the cpu backend's semantics, as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's kernel returns 0 for every |x| below about 1.2e-7, so gradient-sign
 * steps (FGSM, BIM, PGD-Linf) leave pixels with small gradients unmoved. Here: −1 for x < 0, 1 for
 * x > 0, 0 otherwise (±0 and NaN), as the cpu backend.
 *
 * @internal
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { unaryFloat32 } from './heap.js';

/** `sign(x)` for float32 `x`; null (stock kernel) otherwise. */
export function signFixed(x: TensorInfo, backend: WasmKernelBackend): TensorInfo | null {
  const io = unaryFloat32(x, backend);
  if (io === null) return null;
  const { src, dst } = io;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    dst[i] = v < 0 ? -1 : v > 0 ? 1 : 0;
  }
  return io.out;
}
