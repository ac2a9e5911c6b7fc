/**
 * `GatherV2` with `batchDims > 0`, with the cpu backend's semantics, as a loop over the wasm heap.
 *
 * tfjs-backend-wasm 4.22's kernel flattens `x` to `[batch, outer, dim, slice]` as the cpu backend
 * does, but its C++ loop does not offset the indices by batch: with `batchDims ≥ 1` and an axis past
 * the batch axes it reads the wrong rows (measured: `gather(x[2, 3, 4], indices[2, 3], 2, 1)`
 * differs from cpu). Here, for each batch entry `b`, outer index `o` and index position `j`, the slice
 * `x[b, o, indices[b, j], :]` is copied to `out[b, o, j, :]`. Out-of-range indices throw the stock
 * kernel's error.
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util, util } from '@tensorflow/tfjs-core';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { WasmKernelBackend } from './compose.js';
import { isHeapBackend } from './heap.js';

/** `gather(x, indices, axis, batchDims)` for `batchDims ≥ 1`; null (stock kernel) for `batchDims` 0 or other dtypes. */
export function gatherBatchFixed(x: TensorInfo, indices: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  const batchDims = (attrs.batchDims as number | undefined) ?? 0;
  if (batchDims === 0 || !isHeapBackend(backend)) return null;
  if (x.dtype !== 'float32' && x.dtype !== 'int32' && x.dtype !== 'bool') return null;
  if (indices.dtype !== 'int32') return null;
  const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0] as number;
  const info = backend_util.segment_util.collectGatherOpShapeInfo(x as never, indices as never, axis, batchDims);
  const { batchSize, outerSize, dimSize, sliceSize } = info;
  const idx = backend.typedArrayFromHeap(indices) as Int32Array;
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i]!;
    util.assert(k <= dimSize - 1 && k >= 0, () => `GatherV2: the index value ${k} is not in [0, ${dimSize - 1}]`);
  }
  const perBatch = idx.length / batchSize;
  const out = backend.makeOutput([...info.outputShape], x.dtype);
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  const dst = backend.typedArrayFromHeap(out);
  const src = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(indices) as Int32Array;
  let at = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let o = 0; o < outerSize; o++) {
      const base = (b * outerSize + o) * dimSize;
      for (let j = 0; j < perBatch; j++) {
        const from = (base + ids[b * perBatch + j]!) * sliceSize;
        dst.set(src.subarray(from, from + sliceSize), at);
        at += sliceSize;
      }
    }
  }
  return out;
}
