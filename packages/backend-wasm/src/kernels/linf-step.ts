/**
 * The fused Linf projection and signed-gradient step of `@advx/core` (`linfProject`, `linfSignStep`)
 * as single loops over the wasm heap.
 *
 * Composed from tfjs ops, `P(x′ + α·sign(g))` is seven element-wise kernels, each allocating a
 * batch-sized tensor; here it is one pass that reads `x′`, `g` and `x` and writes the output. The
 * arithmetic is the composition's, step by step in float32 (the contract in `@advx/core`'s
 * `fused.ts`), so the result is bit for bit that of the composed ops on the cpu backend:
 * `t = f32(sign(g)·α[r])` with `sign` of ±0 and NaN = 0, `v = f32(x′ + t)`, `d = f32(v − x)`,
 * `d = min(max(d, −f32(ε)), f32(ε))` (NaN propagates), `o = f32(x + d)`, clipped to `[lo, hi]`
 * (NaN stays NaN).
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { isHeapBackend } from './heap.js';

/** `@advx/core`'s `LINF_PROJECT_KERNEL` (not imported: importing `@advx/core` has side effects). */
export const LINF_PROJECT = 'AdvxLinfProject';
/** `@advx/core`'s `LINF_STEP_KERNEL`. */
export const LINF_STEP = 'AdvxLinfStep';

function sameShape(a: TensorInfo, b: TensorInfo): boolean {
  return a.shape.length === b.shape.length && a.shape.every((s, i) => s === b.shape[i]);
}

interface Bounds {
  readonly eps: number;
  readonly lo: number;
  readonly hi: number;
}

function boundsOf(attrs: NamedAttrMap): Bounds | null {
  const { epsilon, lo, hi } = attrs;
  if (typeof epsilon !== 'number' || typeof lo !== 'number' || typeof hi !== 'number' || !(epsilon >= 0)) return null;
  return { eps: Math.fround(epsilon), lo, hi };
}

/**
 * One element: `d = f32(v − x)` clipped to `±eps`, `o = f32(x + d)` clipped to `[lo, hi]` (as the cpu
 * backend's `ClipByValue`: comparisons with the bounds as given, the result stored as float32).
 */
function project(v: number, x: number, b: Bounds): number {
  const d = Math.min(Math.max(Math.fround(v - x), -b.eps), b.eps);
  const o = Math.fround(x + d);
  return o > b.hi ? b.hi : o < b.lo ? b.lo : o;
}

/** `AdvxLinfProject` for float32 `x` and `origin` of one shape; null (not claimed) otherwise. */
export function linfProjectFused(x: TensorInfo, origin: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  const b = boundsOf(attrs);
  if (b === null || x.dtype !== 'float32' || origin.dtype !== 'float32' || !sameShape(x, origin) || !isHeapBackend(backend)) return null;
  const out = backend.makeOutput([...x.shape], 'float32');
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const x0 = backend.typedArrayFromHeap(origin) as Float32Array;
  for (let i = 0; i < dst.length; i++) dst[i] = project(xs[i]!, x0[i]!, b);
  return out;
}

/** `AdvxLinfStep` for float32 `x`, `grad`, `origin` of one shape `[n, ...]` and float32 `stepSize` `[n]`; null otherwise. */
export function linfStepFused(
  x: TensorInfo,
  grad: TensorInfo,
  origin: TensorInfo,
  stepSize: TensorInfo,
  attrs: NamedAttrMap,
  backend: WasmKernelBackend,
): TensorInfo | null {
  const b = boundsOf(attrs);
  const n = x.shape[0];
  if (b === null || n === undefined || !isHeapBackend(backend)) return null;
  if ([x, grad, origin, stepSize].some((t) => t.dtype !== 'float32') || !sameShape(x, grad) || !sameShape(x, origin)) return null;
  if (stepSize.shape.length !== 1 || stepSize.shape[0] !== n) return null;
  const out = backend.makeOutput([...x.shape], 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const g = backend.typedArrayFromHeap(grad) as Float32Array;
  const x0 = backend.typedArrayFromHeap(origin) as Float32Array;
  const alpha = backend.typedArrayFromHeap(stepSize) as Float32Array;
  const d = n === 0 ? 0 : dst.length / n;
  for (let r = 0, i = 0; r < n; r++) {
    const a = alpha[r]!;
    for (const end = i + d; i < end; i++) {
      const gi = g[i]!;
      const s = gi < 0 ? -1 : gi > 0 ? 1 : 0;
      dst[i] = project(Math.fround(xs[i]! + Math.fround(s * a)), x0[i]!, b);
    }
  }
  return out;
}
