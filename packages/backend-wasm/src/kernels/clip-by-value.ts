/**
 * `ClipByValue` with the cpu backend's semantics.
 *
 * tfjs-backend-wasm 4.22's kernel maps NaN to the lower bound, so a NaN that reaches a projection
 * (a NaN gradient, a NaN input) silently becomes a valid-looking value; on every other input it
 * agrees with cpu bitwise (±0 and ±∞ included). So the stock (SIMD) kernel runs unless the input
 * may hold a NaN; then a loop over the wasm heap computes what cpu does: above the maximum →
 * maximum, below the minimum → minimum, anything else (NaN included) unchanged.
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { isHeapBackend, mayHoldNaN, unaryFloat32 } from './heap.js';

/** `clipByValue(x, clipValueMin, clipValueMax)` for float32 `x` that may hold NaN; null (stock kernel) otherwise. */
export function clipByValueFixed(x: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  const lo = attrs.clipValueMin;
  const hi = attrs.clipValueMax;
  if (typeof lo !== 'number' || typeof hi !== 'number') return null;
  if (x.dtype !== 'float32' || !isHeapBackend(backend) || !mayHoldNaN(x, backend)) return null;
  const io = unaryFloat32(x, backend);
  if (io === null) return null;
  const { src, dst } = io;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    dst[i] = v > hi ? hi : v < lo ? lo : v;
  }
  return io.out;
}
