/**
 * `BatchMatMul` routed to XNNPACK in the cases the stock wasm kernel sends to its scalar loop.
 *
 * tfjs-backend-wasm 4.22 uses XNNPACK's fully-connected operator only when neither operand is
 * transposed and both batch sizes are 1; everything else (in particular both matmuls of a dense
 * layer's gradient, `dy·Wᵀ` and `xᵀ·dy`) runs a blocked scalar loop, 10–25× slower. Here the
 * transposed operand is materialised with the wasm `Transpose` kernel and a batch of `a` against a
 * single `b` is folded into the rows, so the stock kernel always takes its XNNPACK path.
 *
 * @internal
 * @packageDocumentation
 */
import { broadcast_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { withScope, type WasmKernelBackend } from './compose.js';

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/**
 * Whether the advx `BatchMatMul` handles these operands: one `b` matrix (all batch dimensions 1),
 * and a case the stock kernel does not already send to XNNPACK (a transpose, or a batch of `a`).
 */
export function batchMatMulClaimed(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): boolean {
  if (aShape.length < 2 || bShape.length < 2) return false;
  if (prod(bShape.slice(0, -2)) !== 1) return false;
  return transposeA || transposeB || prod(aShape.slice(0, -2)) !== 1;
}

export function batchMatMulFast(a: TensorInfo, b: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend, stock: KernelConfig | null): TensorInfo | null {
  if (stock === null || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  if (!batchMatMulClaimed(a.shape, b.shape, transposeA, transposeB)) return null;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = prod(outerA);
  const [a0 = 0, a1 = 0] = a.shape.slice(-2);
  const [b0 = 0, b1 = 0] = b.shape.slice(-2);
  const m = transposeA ? a1 : a0;
  const k = transposeA ? a0 : a1;
  const kB = transposeB ? b1 : b0;
  const n = transposeB ? b0 : b1;
  if (k !== kB) return null; // let the stock kernel report the shape error
  const outShape = [...broadcast_util.assertAndGetBroadcastShape(outerA, outerB), m, n];
  return withScope(backend, (s) => {
    let a2 = s.run('Reshape', { x: a }, { shape: [batchA, a0, a1] });
    if (transposeA) a2 = s.run('Transpose', { x: a2 }, { perm: [0, 2, 1] });
    a2 = s.run('Reshape', { x: a2 }, { shape: [1, batchA * m, k] });
    let b2 = s.run('Reshape', { x: b }, { shape: [b0, b1] });
    if (transposeB) b2 = s.run('Transpose', { x: b2 }, { perm: [1, 0] });
    b2 = s.run('Reshape', { x: b2 }, { shape: [1, k, n] });
    const out = stock.kernelFunc({
      inputs: { a: a2, b: b2 },
      backend: backend as unknown as object,
      attrs: { transposeA: false, transposeB: false },
    });
    const y = Array.isArray(out) ? out[0] : out;
    if (y === undefined) throw new Error('@advx/backend-wasm: BatchMatMul returned no output');
    s.adopt(y);
    return s.run('Reshape', { x: y }, { shape: outShape });
  });
}
