/**
 * `Conv2DBackpropInput` (input gradient of conv2d) as one forward XNNPACK `Conv2D`.
 *
 * `dx = conv2d(pad(zeroInsert(dy, stride)), reverse_hw(filter) with in/out channels swapped)`, stride 1.
 * The stock wasm kernel is a scalar reference loop (≈ 9× slower on the MNIST CNN).
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { cropNegativePads, explicitPad, withScope, zeroInsert, type WasmKernelBackend } from './compose.js';
import { conv2dClaim } from './claims.js';

export function conv2DBackpropInputFast(
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: NamedAttrMap,
  backend: WasmKernelBackend,
): TensorInfo | null {
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const claim = conv2dClaim(attrs, inputShape, filter.shape, false);
  if (claim === null) return null;
  const { convInfo } = claim;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = convInfo;
  const { inHeight, inWidth, outHeight, outWidth } = convInfo;
  return withScope(backend, (s) => {
    const dyUp = zeroInsert(s, dy, sh, sw);
    // Rows of the zero-inserted dy are oh*sh (the last sh-1 are zeros); the full correlation needs
    // (oh-1)*sh+1 rows padded by fh-1-padTop on top and whatever makes the output inHeight tall.
    const top = fh - 1 - convInfo.padInfo.top;
    const left = fw - 1 - convInfo.padInfo.left;
    const bottom = inHeight + fh - 1 - top - outHeight * sh;
    const right = inWidth + fw - 1 - left - outWidth * sw;
    const p = cropNegativePads(s, dyUp, { top, bottom, left, right });
    const reversed = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const swapped = s.run('Transpose', { x: reversed }, { perm: [0, 1, 3, 2] });
    return s.run(
      'Conv2D',
      { x: p.x, filter: swapped },
      {
        strides: [1, 1],
        pad: explicitPad(p.top, p.bottom, p.left, p.right),
        dataFormat: 'NHWC',
        dilations: [1, 1],
        dimRoundingMode: undefined,
      } as unknown as NamedAttrMap,
    );
  });
}
