/**
 * `OneHot` of any dtype with the cpu backend's semantics, as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's kernel allocates an output of the requested dtype but always writes
 * int32 values into it, so `tf.oneHot(indices, depth, 1, 0, 'float32')` holds the float32 with the
 * bits of the integer 1 (1.4e-45) instead of 1. Here the output is filled with `offValue` and
 * `onValue` is written at `indices[i]` for indices in `[0, depth)` (others give a row of `offValue`),
 * as the cpu backend does.
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { isHeapBackend } from './heap.js';

/** The one-hot encoding for a float32 (or other non-int32) `dtype`; null (stock kernel) for int32 or a backend without heap access. */
export function oneHotFixed(indices: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  const dtype = attrs.dtype as string | undefined;
  if ((dtype !== 'float32' && dtype !== 'bool') || indices.dtype !== 'int32' || !isHeapBackend(backend)) return null;
  const depth = attrs.depth as number;
  const onValue = (attrs.onValue as number | undefined) ?? 1;
  const offValue = (attrs.offValue as number | undefined) ?? 0;
  const out = backend.makeOutput([...indices.shape, depth], dtype);
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  const dst = backend.typedArrayFromHeap(out);
  const idx = backend.typedArrayFromHeap(indices) as Int32Array;
  dst.fill(offValue);
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i]!;
    if (k >= 0 && k < depth) dst[i * depth + k] = onValue;
  }
  return out;
}
