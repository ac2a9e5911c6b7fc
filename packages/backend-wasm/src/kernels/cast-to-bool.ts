/**
 * `Cast` to `bool` with the cpu backend's semantics (`x !== 0`: any non-zero value and NaN are
 * true), as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's `Cast` copies the values into the output's typed array, so a cast to bool
 * truncates: 0.5, 1e-7 and NaN become false, 256 becomes false (uint8 wrap-around). Casts to other
 * dtypes keep the stock kernel (they agree with cpu).
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { isHeapBackend } from './heap.js';

/** `cast(x, 'bool')` for float32 or int32 `x`; null (stock kernel) for every other cast. */
export function castToBoolFixed(x: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  if (attrs.dtype !== 'bool' || (x.dtype !== 'float32' && x.dtype !== 'int32')) return null;
  if (!isHeapBackend(backend)) return null;
  const out = backend.makeOutput([...x.shape], 'bool');
  const dst = backend.typedArrayFromHeap(out) as Uint8Array;
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
  return out;
}
