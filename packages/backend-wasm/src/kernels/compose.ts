/**
 * Helpers to compose stock wasm kernels inside a kernel implementation: every step runs through
 * tfjs's kernel registry on the `wasm` backend, and intermediate results are freed explicitly.
 *
 * @internal
 * @packageDocumentation
 */
import { getKernel } from '@tensorflow/tfjs-core';
import type { KernelBackend, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

/** The backend object a wasm kernel receives (only `disposeData` is used here). */
export type WasmKernelBackend = Pick<KernelBackend, 'disposeData'>;

/** A scratch scope: runs wasm kernels and frees every intermediate it made on {@link Scope.dispose}. */
export class Scope {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: WasmKernelBackend) {}

  /** Runs the wasm kernel `name` and records its output as an intermediate. */
  run(name: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    const out = runWasmKernel(name, inputs, this.backend, attrs);
    this.owned.push(out);
    return out;
  }

  /** Records `info` (made outside {@link Scope.run}) as an intermediate. */
  adopt(info: TensorInfo): TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Removes `info` from the intermediates (it becomes the kernel's output). */
  keep(info: TensorInfo): TensorInfo {
    const i = this.owned.indexOf(info);
    if (i >= 0) this.owned.splice(i, 1);
    return info;
  }

  /** Frees every recorded intermediate. */
  dispose(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** Runs the kernel `name` registered for `wasm` on already-resolved tensor infos. */
export function runWasmKernel(name: string, inputs: NamedTensorInfoMap, backend: WasmKernelBackend, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`@advx/backend-wasm: the wasm backend has no '${name}' kernel`);
  const out = kernel.kernelFunc({ inputs, backend: backend as unknown as object, attrs });
  const first = Array.isArray(out) ? out[0] : out;
  if (first === undefined) throw new Error(`@advx/backend-wasm: kernel '${name}' returned no output`);
  return first;
}

/** Runs `body` in a {@link Scope}; everything it made except the returned info is freed. */
export function withScope(backend: WasmKernelBackend, body: (s: Scope) => TensorInfo): TensorInfo {
  const scope = new Scope(backend);
  try {
    return scope.keep(body(scope));
  } finally {
    scope.dispose();
  }
}

/** Explicit NHWC padding `[[0,0],[top,bottom],[left,right],[0,0]]` in the form Conv2D accepts. */
export function explicitPad(top: number, bottom: number, left: number, right: number): number[][] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * Crops (negative amounts) or pads (positive amounts, zeros) the two spatial axes of an NHWC tensor
 * so that the caller's convolution can use non-negative explicit padding. Returns the (possibly new)
 * input and the remaining non-negative pads.
 */
export function cropNegativePads(
  s: Scope,
  x: TensorInfo,
  pads: { top: number; bottom: number; left: number; right: number },
): { x: TensorInfo; top: number; bottom: number; left: number; right: number } {
  const [n = 0, h = 0, w = 0, c = 0] = x.shape;
  const cropTop = Math.max(0, -pads.top);
  const cropBottom = Math.max(0, -pads.bottom);
  const cropLeft = Math.max(0, -pads.left);
  const cropRight = Math.max(0, -pads.right);
  let out = x;
  if (cropTop + cropBottom + cropLeft + cropRight > 0) {
    out = s.run(
      'Slice',
      { x },
      {
        begin: [0, cropTop, cropLeft, 0],
        size: [n, h - cropTop - cropBottom, w - cropLeft - cropRight, c],
      },
    );
  }
  return {
    x: out,
    top: Math.max(0, pads.top),
    bottom: Math.max(0, pads.bottom),
    left: Math.max(0, pads.left),
    right: Math.max(0, pads.right),
  };
}

/**
 * Inserts `sh - 1` zero rows after every row and `sw - 1` zero columns after every column of an
 * NHWC tensor: `[n, h, w, c]` → `[n, h*sh, w*sw, c]` (the trailing zero rows/columns included).
 */
export function zeroInsert(s: Scope, x: TensorInfo, sh: number, sw: number): TensorInfo {
  if (sh === 1 && sw === 1) return x;
  const [n = 0, h = 0, w = 0, c = 0] = x.shape;
  const r = s.run('Reshape', { x }, { shape: [n, h, 1, w, 1, c] });
  const p = s.run(
    'PadV2',
    { x: r },
    {
      paddings: [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ],
      constantValue: 0,
    },
  );
  return s.run('Reshape', { x: p }, { shape: [n, h * sh, w * sw, c] });
}
