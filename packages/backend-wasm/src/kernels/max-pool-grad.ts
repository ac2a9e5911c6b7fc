/**
 * `MaxPoolGrad` with the cpu backend's semantics, as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's kernel starts its running maximum at 0 rather than −∞, so in pooling
 * windows whose values are all negative it sends the gradient to the wrong element (or nowhere),
 * and it breaks ties differently from the cpu backend. Here each window's arg-max is found as the
 * cpu backend's `maxPoolPositions` does it (running maximum from −∞, strict `>`, so the first
 * maximum in row-major window order wins, and padding never wins), and `dy` is added to that input
 * element.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';

/** The parts of the wasm backend this kernel reads and writes its data through. */
interface WasmHeapBackend extends WasmKernelBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): backend_util.TypedArray;
}

function isHeapBackend(b: WasmKernelBackend): b is WasmHeapBackend {
  const r = b as unknown as Record<string, unknown>;
  return typeof r.makeOutput === 'function' && typeof r.typedArrayFromHeap === 'function';
}

function isOnes(v: unknown): boolean {
  if (v === undefined || v === null || v === 1) return true;
  return Array.isArray(v) && v.every((d) => d === 1);
}

/**
 * The pooling geometry when the advx `MaxPoolGrad` handles the call: float32 rank-4 NHWC `input`
 * and `dy`, dilations 1 (MaxPoolGrad has no dilation attribute; one given and not 1 is refused),
 * `dy` of the pooled shape. Returns null when not claimed.
 */
export function maxPoolGradClaim(
  dy: Pick<TensorInfo, 'shape' | 'dtype'>,
  input: Pick<TensorInfo, 'shape' | 'dtype'>,
  attrs: NamedAttrMap,
): backend_util.Conv2DInfo | null {
  if (input.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  if (input.shape.length !== 4 || dy.shape.length !== 4) return null;
  if (!isOnes(attrs.dilations)) return null;
  const dataFormat = attrs.dataFormat ?? 'NHWC';
  if (dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') return null;
  let info: backend_util.Conv2DInfo;
  try {
    info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      attrs.filterSize as [number, number] | number,
      attrs.strides as [number, number] | number,
      1,
      attrs.pad as 'same' | 'valid' | number | backend_util.ExplicitPadding,
      attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
  } catch {
    return null; // let the stock kernel report bad attributes
  }
  if (!info.outShape.every((v, i) => v === dy.shape[i])) return null;
  return info;
}

export function maxPoolGradFast(dy: TensorInfo, input: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  if (!isHeapBackend(backend)) return null;
  const info = maxPoolGradClaim(dy, input, attrs);
  if (info === null) return null;
  const out = backend.makeOutput([...input.shape], 'float32');
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input) as Float32Array;
  const g = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sH, strideWidth: sW, filterHeight: fH, filterWidth: fW } = info;
  const { top, left } = info.padInfo;
  const rowStride = W * C;
  let gi = 0;
  for (let b = 0; b < batchSize; b++) {
    const base = b * H * rowStride;
    for (let yR = 0; yR < OH; yR++) {
      const r0 = yR * sH - top;
      const rMin = Math.max(0, r0);
      const rMax = Math.min(H, r0 + fH);
      for (let yC = 0; yC < OW; yC++) {
        const c0 = yC * sW - left;
        const cMin = Math.max(0, c0);
        const cMax = Math.min(W, c0 + fW);
        for (let d = 0; d < C; d++, gi++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = rMin; r < rMax; r++) {
            let k = base + r * rowStride + cMin * C + d;
            for (let c = cMin; c < cMax; c++, k += C) {
              const v = x[k]!;
              if (v > best) {
                best = v;
                at = k;
              }
            }
          }
          // No element above −∞ (all −∞ or NaN): the cpu backend passes no gradient either.
          if (at >= 0) dx[at] = dx[at]! + g[gi]!;
        }
      }
    }
  }
  return out;
}
