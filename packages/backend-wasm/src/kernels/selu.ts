/**
 * `Selu` with the cpu backend's semantics (`scale·x` for x ≥ 0, `scale·alpha·(exp(x) − 1)` below, in
 * float64), as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's kernel is off for small negative inputs: 0 for x = −1e-12 … −1e-8 and
 * errors of up to 19 % around −1e-7.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { unaryFloat32 } from './heap.js';

/** `selu(x)` for float32 `x`; null (stock kernel) otherwise. */
export function seluFixed(x: TensorInfo, backend: WasmKernelBackend): TensorInfo | null {
  const io = unaryFloat32(x, backend);
  if (io === null) return null;
  const { src, dst } = io;
  const scale = backend_util.SELU_SCALE;
  const scaleAlpha = backend_util.SELU_SCALEALPHA;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    dst[i] = v >= 0 ? scale * v : scaleAlpha * (Math.exp(v) - 1);
  }
  return io.out;
}
