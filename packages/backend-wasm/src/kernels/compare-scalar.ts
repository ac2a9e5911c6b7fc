/**
 * `Less`, `LessEqual`, `Greater`, `GreaterEqual` of a float32 tensor and a float32 scalar (either
 * side), as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22 runs a broadcast comparison through a per-element index loop (~37 ns per
 * element measured on a 2-core EPYC). The ReLU6 gradient is `dy · (x ≤ 6) · step(x)`: in a
 * MobileNetV2 input gradient at 224×224 its `LessEqual(x, 6)` took 0.74 s of 6.5 s in kernels.
 * JavaScript comparisons have the cpu backend's semantics (NaN compares false), so the result is
 * the cpu backend's exactly. Other shapes and dtypes keep the stock kernel.
 *
 * @internal
 * @packageDocumentation
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { isHeapBackend } from './heap.js';

/** The comparisons handled here. */
export type ScalarComparison = 'Less' | 'LessEqual' | 'Greater' | 'GreaterEqual';

const size = (t: TensorInfo): number => t.shape.reduce((p, d) => p * d, 1);

/** `op(a, b)` as a bool tensor when one of the float32 operands is a scalar; null (stock kernel) otherwise. */
export function compareScalarFast(op: ScalarComparison, a: TensorInfo, b: TensorInfo, backend: WasmKernelBackend): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !isHeapBackend(backend)) return null;
  const scalarB = size(b) === 1 && b.shape.length <= a.shape.length;
  const scalarA = !scalarB && size(a) === 1 && a.shape.length <= b.shape.length;
  if (!scalarA && !scalarB) return null;
  const t = scalarB ? a : b;
  const out = backend.makeOutput([...t.shape], 'bool');
  // Views after the allocation: growing the wasm memory detaches older ones.
  const dst = backend.typedArrayFromHeap(out) as Uint8Array;
  const src = backend.typedArrayFromHeap(t) as Float32Array;
  const s = (backend.typedArrayFromHeap(scalarB ? b : a) as Float32Array)[0]!;
  // With the scalar on the left, `s op x` is `x op' s` for the mirrored comparison.
  const mirrored: ScalarComparison = scalarB ? op : ({ Less: 'Greater', LessEqual: 'GreaterEqual', Greater: 'Less', GreaterEqual: 'LessEqual' } as const)[op];
  const n = src.length;
  switch (mirrored) {
    case 'Less':
      for (let i = 0; i < n; i++) dst[i] = src[i]! < s ? 1 : 0;
      break;
    case 'LessEqual':
      for (let i = 0; i < n; i++) dst[i] = src[i]! <= s ? 1 : 0;
      break;
    case 'Greater':
      for (let i = 0; i < n; i++) dst[i] = src[i]! > s ? 1 : 0;
      break;
    case 'GreaterEqual':
      for (let i = 0; i < n; i++) dst[i] = src[i]! >= s ? 1 : 0;
      break;
  }
  return out;
}
