/**
 * `Log1p` with the cpu backend's semantics (`Math.log1p`), as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's kernel returns 0 for |x| up to about 1e-8 (log1p(x) ≈ x there): a
 * relative error of 100 %.
 *
 * @internal
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { unaryFloat32 } from './heap.js';

/** `log1p(x)` for float32 `x`; null (stock kernel) otherwise. */
export function log1pFixed(x: TensorInfo, backend: WasmKernelBackend): TensorInfo | null {
  const io = unaryFloat32(x, backend);
  if (io === null) return null;
  const { src, dst } = io;
  for (let i = 0; i < src.length; i++) dst[i] = Math.log1p(src[i]!);
  return io.out;
}
