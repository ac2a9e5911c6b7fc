/**
 * `DepthwiseConv2dNativeBackpropInput` (missing in tfjs-backend-wasm 4.22) as one forward XNNPACK
 * depthwise convolution of the zero-inserted, padded `dy` (`C·M` channels, multiplier 1) with the
 * spatially reversed filter reshaped to `[fh, fw, C·M, 1]`, followed, for a channel multiplier
 * `M > 1`, by a sum over the `M` outputs that belong to one input channel.
 *
 * @internal
 * @packageDocumentation
 */
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { cropNegativePads, explicitPad, withScope, zeroInsert, type WasmKernelBackend } from './compose.js';
import { conv2dClaim } from './claims.js';

export function depthwiseBackpropInputFast(dy: TensorInfo, filter: TensorInfo, attrs: NamedAttrMap, backend: WasmKernelBackend): TensorInfo | null {
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const inputShape = attrs.inputShape as [number, number, number, number];
  const claim = conv2dClaim(attrs, inputShape, filter.shape, true);
  if (claim === null) return null;
  const { convInfo } = claim;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = convInfo;
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = convInfo;
  const fh = convInfo.effectiveFilterHeight;
  const fw = convInfo.effectiveFilterWidth;
  const [kh = 0, kw = 0, , mult = 1] = filter.shape;
  return withScope(backend, (s) => {
    const dyUp = zeroInsert(s, dy, sh, sw);
    const top = fh - 1 - convInfo.padInfo.top;
    const left = fw - 1 - convInfo.padInfo.left;
    const bottom = inHeight + fh - 1 - top - outHeight * sh;
    const right = inWidth + fw - 1 - left - outWidth * sw;
    const p = cropNegativePads(s, dyUp, { top, bottom, left, right });
    const reversed = s.run('Reverse', { x: filter }, { dims: [0, 1] });
    const flat = s.run('Reshape', { x: reversed }, { shape: [kh, kw, inChannels * mult, 1] });
    const conv = s.run('DepthwiseConv2dNative', { x: p.x, filter: flat }, {
      strides: [1, 1],
      pad: explicitPad(p.top, p.bottom, p.left, p.right),
      dilations: [dh, dw],
      dimRoundingMode: undefined,
    } as unknown as NamedAttrMap);
    if (mult === 1) return conv;
    const split = s.run('Reshape', { x: conv }, { shape: [batchSize, inHeight, inWidth, inChannels, mult] });
    return s.run('Sum', { x: split }, { axis: [4], keepDims: false });
  });
}
