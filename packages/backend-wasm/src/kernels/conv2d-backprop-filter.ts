/**
 * `Conv2DBackpropFilter` (filter gradient of conv2d; missing in tfjs-backend-wasm 4.22) as one
 * forward XNNPACK `Conv2D` in which the batch and channel axes trade places:
 *
 * `dW[ky,kx,ci,co] = Σ_{n,oy,ox} x[n, oy·sh + ky − pt, ox·sw + kx − pl, ci] · dy[n,oy,ox,co]`
 *
 * is a convolution of `x` transposed to `[C_in, H, W, N]` (batch = input channels, channels =
 * batch) with `dy` transposed to `[oh, ow, N, C_out]` as the filter, stride 1, dilation = the
 * forward stride; its `[C_in, fh, fw, C_out]` output is transposed back to `[fh, fw, C_in, C_out]`.
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { cropNegativePads, explicitPad, withScope, type WasmKernelBackend } from './compose.js';
import { conv2dClaim } from './claims.js';

export function conv2DBackpropFilterFast(x: TensorInfo, dy: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const claim = conv2dClaim(attrs, x.shape, filterShape, false);
  if (claim === null) return null;
  const { convInfo } = claim;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = convInfo;
  const { inHeight, inWidth, outHeight, outWidth } = convInfo;
  return withScope(backend, (s) => {
    const xT = s.run('Transpose', { x }, { perm: [3, 1, 2, 0] });
    const dyT = s.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
    // The padded input must span exactly (fh-1) + (oh-1)*sh + 1 rows (and likewise columns).
    const top = convInfo.padInfo.top;
    const left = convInfo.padInfo.left;
    const bottom = fh - 1 + (outHeight - 1) * sh + 1 - inHeight - top;
    const right = fw - 1 + (outWidth - 1) * sw + 1 - inWidth - left;
    const p = cropNegativePads(s, xT, { top, bottom, left, right });
    const dwT = s.run('Conv2D', { x: p.x, filter: dyT }, {
      strides: [1, 1],
      pad: explicitPad(p.top, p.bottom, p.left, p.right),
      dataFormat: 'NHWC',
      dilations: [sh, sw],
      dimRoundingMode: undefined,
    } as unknown as NamedAttrMap);
    return s.run('Transpose', { x: dwT }, { perm: [1, 2, 0, 3] });
  });
}
