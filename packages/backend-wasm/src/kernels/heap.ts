/**
 * Element-wise kernels as loops over the wasm heap: the output is allocated by the wasm backend and
 * written in place from JavaScript, with the cpu backend's arithmetic (float64 in JavaScript, stored
 * as float32).
 *
 * @internal
 * @packageDocumentation
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { runWasmKernel, type WasmKernelBackend } from './compose.js';

/** The parts of the wasm backend an element-wise heap kernel reads and writes its data through. */
export interface WasmHeapBackend extends WasmKernelBackend {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): backend_util.TypedArray;
}

/** Whether `b` exposes the wasm heap (the tfjs-backend-wasm 4.x backend object does). */
export function isHeapBackend(b: WasmKernelBackend): b is WasmHeapBackend {
  const r = b as unknown as Record<string, unknown>;
  return typeof r.makeOutput === 'function' && typeof r.typedArrayFromHeap === 'function';
}

/**
 * Whether float32 `x` may hold a NaN: the stock (SIMD) wasm `Sum` of all its elements is NaN. A
 * NaN anywhere always makes the sum NaN; finite sums that overflow to +∞ and −∞ give false
 * positives, which only cost a slower (still exact) path.
 */
export function mayHoldNaN(x: TensorInfo, backend: WasmHeapBackend): boolean {
  if (x.shape.length === 0 || x.shape.some((d) => d === 0)) {
    return x.shape.length === 0 && Number.isNaN((backend.typedArrayFromHeap(x) as Float32Array)[0]);
  }
  const axis = x.shape.map((_, i) => i);
  const sum = runWasmKernel('Sum', { x }, backend, { axis, keepDims: false });
  try {
    return Number.isNaN((backend.typedArrayFromHeap(sum) as Float32Array)[0]);
  } finally {
    backend.disposeData(sum.dataId);
  }
}

/** A freshly allocated output and the heap views of the input and of the output. */
export interface UnaryHeapIO<In extends backend_util.TypedArray, Out extends backend_util.TypedArray> {
  readonly out: TensorInfo;
  readonly src: In;
  readonly dst: Out;
}

/**
 * Allocates a float32 output of `x`'s shape and returns it with views of `x` and of the output, or
 * null when `x` is not float32 or the backend does not expose its heap (the stock kernel then runs).
 */
export function unaryFloat32(x: TensorInfo, backend: WasmKernelBackend): UnaryHeapIO<Float32Array, Float32Array> | null {
  if (x.dtype !== 'float32' || !isHeapBackend(backend)) return null;
  const out = backend.makeOutput([...x.shape], 'float32');
  // Views are taken after the allocation: growing the wasm memory detaches older ones.
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const src = backend.typedArrayFromHeap(x) as Float32Array;
  return { out, src, dst };
}

/**
 * `op` applied element-wise to two float32 tensors with numpy broadcasting (the output shape of
 * `backend_util.assertAndGetBroadcastShape`), written into a new float32 wasm tensor; null when an
 * input is not float32 or the backend does not expose its heap.
 */
export function binaryFloat32(a: TensorInfo, b: TensorInfo, backend: WasmKernelBackend, op: (x: number, y: number) => number): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || !isHeapBackend(backend)) return null;
  const shape = backend_util.assertAndGetBroadcastShape([...a.shape], [...b.shape]);
  const out = backend.makeOutput(shape, 'float32');
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  const av = backend.typedArrayFromHeap(a) as Float32Array;
  const bv = backend.typedArrayFromHeap(b) as Float32Array;
  const n = dst.length;
  if (av.length === n && bv.length === n) {
    for (let i = 0; i < n; i++) dst[i] = op(av[i]!, bv[i]!);
  } else if (bv.length === 1 && av.length === n) {
    const y = bv[0]!;
    for (let i = 0; i < n; i++) dst[i] = op(av[i]!, y);
  } else if (av.length === 1 && bv.length === n) {
    const x = av[0]!;
    for (let i = 0; i < n; i++) dst[i] = op(x, bv[i]!);
  } else if (n > 0) {
    broadcastLoop(shape, [...a.shape], [...b.shape], av, bv, dst, op);
  }
  return out;
}

/** Per output axis, the step of an input's flat index (0 on broadcast or missing axes). */
function inputSteps(outShape: readonly number[], inShape: readonly number[]): number[] {
  const rank = outShape.length;
  const steps = new Array<number>(rank).fill(0);
  let stride = 1;
  for (let k = inShape.length - 1; k >= 0; k--) {
    const d = inShape[k]!;
    const axis = rank - inShape.length + k;
    steps[axis] = d === 1 ? 0 : stride;
    stride *= d;
  }
  return steps;
}

function broadcastLoop(
  shape: readonly number[],
  aShape: readonly number[],
  bShape: readonly number[],
  av: Float32Array,
  bv: Float32Array,
  dst: Float32Array,
  op: (x: number, y: number) => number,
): void {
  const rank = shape.length;
  const aStep = inputSteps(shape, aShape);
  const bStep = inputSteps(shape, bShape);
  const last = rank - 1;
  const inner = shape[last]!;
  const aInner = aStep[last]!;
  const bInner = bStep[last]!;
  const counter = new Array<number>(rank).fill(0);
  let ai = 0;
  let bi = 0;
  for (let o = 0; o < dst.length; o += inner) {
    for (let j = 0, aj = ai, bj = bi; j < inner; j++, aj += aInner, bj += bInner) dst[o + j] = op(av[aj]!, bv[bj]!);
    // Odometer over the outer axes.
    for (let k = last - 1; k >= 0; k--) {
      counter[k] = counter[k]! + 1;
      ai += aStep[k]!;
      bi += bStep[k]!;
      if (counter[k]! < shape[k]!) break;
      ai -= aStep[k]! * shape[k]!;
      bi -= bStep[k]! * shape[k]!;
      counter[k] = 0;
    }
  }
}
